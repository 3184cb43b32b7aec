"""AgentSession: one SDK Agent, its harness process and its turns.

It owns the lifecycle (start, restart after a model failure, bounded close that
kills the harness if it will not go) and runs turns, turning SDK steps into
`ChatChunk`s for the editor. Tool confirmation, editor tools and hooks live in
`permissions.py` and `callbacks.py`; this module wires them in.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import uuid
from typing import TYPE_CHECKING, Any

import anyio

from agy_lsp.agents import convert, mcp
from agy_lsp.agents.callbacks import Callbacks
from agy_lsp.agents.editor import Editor
from agy_lsp.agents.errors import AgyError, classify, from_stop_reason
from agy_lsp.agents.pacing import Pacer
from agy_lsp.agents.permissions import Permissions
from agy_lsp.agents.quota import QuotaRegistry
from agy_lsp.agents.store import SessionMeta, SessionStore, shorten
from agy_lsp.backends.config import BackendConfigError, build_config, describe, quota_key
from agy_lsp.backends.scripted import parse_script, shared_model
from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.protocol.types import (
    AgentState,
    AgentStateNotice,
    AnyBackend,
    ChatChunk,
    ChatResult,
    ContentPart,
    CreateAgentParams,
    Gemini,
    OpenAI,
    Prompt,
    Scripted,
    StatusResult,
    ToolCall,
    ToolResult,
    Usage,
    Vertex,
)
from agy_lsp.settings import Settings

if TYPE_CHECKING:
    from google.antigravity import Agent

log = logging.getLogger(__name__)


class AgentSession:
    def __init__(
        self,
        agent_id: str,
        params: CreateAgentParams,
        backend: AnyBackend,
        settings: Settings,
        editor: Editor,
        pacer: Pacer,
        quota: QuotaRegistry,
    ) -> None:
        self.agent_id = agent_id
        self.name = params.name
        self.params = params
        self.backend = backend
        self.settings = settings
        self.editor = editor
        self.state: AgentState = "starting"
        self.conversation_id: str | None = params.conversation_id
        self.turn_count_offset = 0  # turns from before a restart or resume
        self.permissions = Permissions(self)
        self.callbacks = Callbacks(self)
        self.chat_timeout = params.chat_timeout_secs or settings.chat_timeout_secs
        self.max_quota_retries = (
            params.max_quota_retries if params.max_quota_retries is not None else settings.max_quota_retries
        )
        self.quota_key = quota_key(backend)
        self.tool_names: list[str] = []
        self._pacer = pacer
        self._quota = quota
        self._agent: Agent | None = None
        self._busy = anyio.Lock()
        self._turn_id: str | None = None
        self._seq = 0
        self._turn_scope: anyio.CancelScope | None = None
        self._soft_cancelled = False
        self._needs_restart = False
        self.store = SessionStore(settings.state_dir)
        self._scripted_url: str | None = None
        self.meta: SessionMeta | None = None

    # ------------------------------------------------------------------ persistence

    def restore(self, meta: SessionMeta) -> None:
        """Resume from stored metadata: name, permissions and the turn count."""
        self.meta = meta
        self.name = self.name or meta.name
        self.turn_count_offset = meta.turn_count
        self.permissions.restore(meta.permissions)

    def persist(self, prompt: Prompt | None = None) -> None:
        if not self.conversation_id:
            return
        if self.meta is None:
            first = prompt if isinstance(prompt, str) else next((p.text for p in prompt or [] if p.text), "")
            self.meta = SessionMeta(conversation_id=self.conversation_id, title=shorten(first or ""))
        meta, p = self.meta, self.params
        meta.name = self.name
        meta.backend = describe(self.backend)
        meta.policies = p.policies
        meta.permissions = self.permissions.remembered()
        meta.workspaces, meta.system_instructions, meta.tools, meta.hooks = p.workspaces, p.system_instructions, p.tools, p.hooks
        meta.turn_count = self.turn_count()
        try:
            self.store.save(meta)
        except OSError as e:
            log.warning("could not save session %s: %s", self.conversation_id, e)

    # ------------------------------------------------------------------ lifecycle

    @property
    def turn_id(self) -> str | None:
        return self._turn_id

    def set_state(self, state: AgentState, reason: str | None = None, *, force: bool = False) -> None:
        if force or state != self.state:
            self.state = state
            self.editor.agent_state(AgentStateNotice(agent_id=self.agent_id, state=state, reason=reason))

    def _config(self, resume: bool) -> Any:
        from google.antigravity import CapabilitiesConfig
        from google.antigravity import types as sdk

        caps = None
        wanted = self.params.capabilities
        behavior = wanted.agent_behavior if wanted else None
        if behavior is None and "onInteraction" in self.params.hooks:
            behavior = "interactive"
        if wanted is not None or behavior is not None:
            try:
                caps = CapabilitiesConfig(
                    enabled_tools=wanted.enabled_tools if wanted else None,  # pyright: ignore[reportArgumentType]
                    disabled_tools=wanted.disabled_tools if wanted else None,  # pyright: ignore[reportArgumentType]
                    agent_behavior=sdk.AgentBehavior(behavior or "autonomous"),
                )
            except Exception as e:
                raise AgyError(ErrorCode.INVALID_PARAMS, f"invalid capabilities: {e}", {"cause": str(e)}) from e
        tools = self.callbacks.sdk_tools()
        self.tool_names = self._known_tools(caps) + [t.name for t in self.params.tools]
        state_dir = self.settings.state_dir
        return build_config(
            self._model_backend(),
            system_instructions=self.params.system_instructions,
            capabilities=caps,
            tools=tools or None,
            policies=self.permissions.sdk_policies(self.tool_names),
            hooks=self.callbacks.sdk_hooks(),
            workspaces=self.params.workspaces or None,
            mcp_servers=mcp.sdk_servers(self.params.mcp_servers),
            response_schema=self.params.response_schema,
            conversation_id=self.conversation_id,
            session_continuation_mode=sdk.SessionContinuationMode.RESUME if resume else None,
            save_dir=os.path.join(state_dir, "conversations"),
            app_data_dir=os.path.join(state_dir, "app"),
        )

    def _model_backend(self) -> OpenAI | Gemini | Vertex:
        """The scripted model is registered once per session, so a restart resumes
        its script instead of replaying it from the top."""
        if isinstance(self.backend, Scripted):
            if self._scripted_url is None:
                try:
                    script = parse_script(self.backend.script if self.backend.script is not None else [])
                except ValueError as e:
                    raise AgyError(ErrorCode.INVALID_PARAMS, str(e), {"field": "backend.script"}) from e
                self._scripted_url, _ = shared_model().register(script)
            return OpenAI(base_url=self._scripted_url, model="scripted")
        return self.backend

    @staticmethod
    def _known_tools(caps: Any) -> list[str]:
        from google.antigravity import types as sdk
        from google.antigravity.connections.connection import resolve_active_tools

        try:
            return sorted(str(getattr(t, "value", t)) for t in resolve_active_tools(caps or sdk.CapabilitiesConfig()))
        except Exception:
            return [t.value for t in sdk.BuiltinTools.default()]

    async def start(self, *, resume: bool = False) -> None:
        """Spawns the harness. Raises AgyError (InvalidParams or BackendError)."""
        from google.antigravity import Agent

        self.set_state("starting", force=True)
        os.makedirs(os.path.join(self.settings.state_dir, "conversations"), exist_ok=True)
        try:
            config = self._config(resume)
            agent = Agent(config)
            with anyio.fail_after(self.settings.send_timeout_secs):
                await agent.__aenter__()
        except AgyError:
            self.set_state("failed")
            raise
        except BackendConfigError as e:
            self.set_state("failed")
            raise AgyError(ErrorCode.INVALID_PARAMS, str(e), {"backend": describe(self.backend)}) from e
        except Exception as e:
            self.set_state("failed")
            err = classify(e, stage="create")
            err.data["backend"] = describe(self.backend)
            raise err from e
        self._agent = agent
        self._needs_restart = False
        self.set_state("idle")

    def harness_pid(self) -> int | None:
        process = _process_of(self._agent) if self._agent is not None else None
        return process.pid if process is not None and process.poll() is None else None

    def harness_alive(self) -> bool:
        return self.harness_pid() is not None

    def check_harness(self) -> None:
        if self._agent is not None and self.state in ("idle", "busy") and not self.harness_alive():
            self.set_state("failed", "the harness process exited")

    async def close(self, *, final_state: AgentState = "closed") -> None:
        """Closes the SDK agent within the shutdown timeout, then kills the harness.

        The SDK's disconnect waits for the harness with a blocking `wait()`, which
        can stall the event loop; a watchdog thread kills the process at the
        deadline so that wait returns.
        """
        agent, self._agent = self._agent, None
        if agent is not None:
            process = _process_of(agent)
            watchdog = threading.Timer(self.settings.shutdown_timeout_secs, _kill, args=(process,))
            watchdog.daemon = True
            watchdog.start()
            try:
                with anyio.move_on_after(self.settings.shutdown_timeout_secs), anyio.CancelScope(shield=True):
                    await agent.__aexit__(None, None, None)
            except Exception as e:
                log.info("agent %s closed with %s", self.agent_id, type(e).__name__)
            finally:
                watchdog.cancel()
                _kill(process)
        self.set_state(final_state)

    async def restart(self, reason: str) -> None:
        """After a model failure the SDK agent is dead; start a fresh one on the same
        conversation so the history survives."""
        self.turn_count_offset = self.turn_count()
        self.set_state("restarting", reason)
        await self.close(final_state="restarting")
        await self.start(resume=self.conversation_id is not None)

    async def ensure_live(self) -> Agent:
        if self.state == "closed":
            raise AgyError(ErrorCode.AGENT_CLOSED, f"agent {self.agent_id} is closed", {"agentId": self.agent_id})
        self.check_harness()
        if self.state == "failed" and self._agent is not None:
            raise AgyError(
                ErrorCode.AGENT_FAILED,
                "the agent's harness process died; recreate the agent (createAgent with its conversationId resumes it)",
                {"agentId": self.agent_id, "conversationId": self.conversation_id},
            )
        if self._agent is not None and self._needs_restart:
            await self.restart("resuming after a failure")
        elif self._agent is None:
            await self.start(resume=self.conversation_id is not None)
        assert self._agent is not None
        return self._agent

    # ------------------------------------------------------------------ turns

    def is_busy(self) -> bool:
        return self._busy.locked()

    async def chat(self, prompt: Prompt, turn_id: str | None = None) -> ChatResult:
        """Runs one turn to its end. A second chat while busy is refused (AgentBusy)."""
        if self._busy.locked():
            raise AgyError(
                ErrorCode.AGENT_BUSY,
                f"agent {self.agent_id} is already running turn {self._turn_id}; cancel it or wait",
                {"agentId": self.agent_id, "turnId": self._turn_id},
            )
        async with self._busy:
            turn_id = turn_id or uuid.uuid4().hex[:12]
            self._turn_id, self._seq, self._soft_cancelled = turn_id, 0, False
            try:
                result = await self._chat_with_retries(prompt, turn_id)
                self.persist(prompt)
                return result
            finally:
                self._turn_id = None
                if self.state == "busy":
                    self.set_state("idle")

    async def _chat_with_retries(self, prompt: Prompt, turn_id: str) -> ChatResult:
        attempt = 0
        while True:
            await self._quota.wait(self.quota_key, self.editor)
            agent = await self.ensure_live()
            await self._pacer.wait_turn()
            try:
                result = await self._run_turn(agent, prompt, turn_id)
            except AgyError as err:
                if err.code == ErrorCode.QUOTA_EXCEEDED:
                    delay = self._quota.backoff(self.quota_key, err.data.get("retryAfterMs"), self.editor)
                    err.data["retryAfterMs"] = delay
                    if attempt < self.max_quota_retries:
                        attempt += 1
                        continue
                raise
            self._quota.success(self.quota_key, self.editor)
            return result

    async def _run_turn(self, agent: Agent, prompt: Prompt, turn_id: str) -> ChatResult:
        from google.antigravity import types as sdk

        conv = agent.conversation
        text: list[str] = []
        self.set_state("busy")
        try:
            with anyio.CancelScope() as scope:
                self._turn_scope = scope
                with anyio.fail_after(self.chat_timeout):
                    await conv.send(_to_sdk_prompt(prompt))
                    await self._stream(conv, text)
            if scope.cancelled_caught:  # agy/cancel: finish politely with what we have
                await self._settle_after_cancel(agent)
                return ChatResult(turn_id=turn_id, text="".join(text), stop_reason="cancelled", usage=None)
        except TimeoutError as e:
            await self._settle_after_cancel(agent, restart_if_stuck=True)
            raise AgyError(
                ErrorCode.TIMEOUT,
                f"the turn did not finish within {self.chat_timeout:g}s",
                {"agentId": self.agent_id, "turnId": turn_id, "timeoutSecs": self.chat_timeout, "partialText": "".join(text)},
            ) from e
        except sdk.AntigravityCancelledError:
            await self._settle_after_cancel(agent)
            return ChatResult(turn_id=turn_id, text="".join(text), stop_reason="cancelled", usage=None)
        except BaseException as e:
            if isinstance(e, anyio.get_cancelled_exc_class()):
                # $/cancelRequest or shutdown: stop the SDK turn, then let it propagate.
                with anyio.CancelScope(shield=True):
                    await self._settle_after_cancel(agent)
                raise
            if not isinstance(e, Exception):
                raise
            err = classify(e)
            err.data.update(agentId=self.agent_id, turnId=turn_id, partialText="".join(text))
            if not self.harness_alive():
                err = AgyError(ErrorCode.AGENT_FAILED, "the agent's harness process died", err.data)
            await self._after_failure(err)
            raise err from e
        finally:
            self._turn_scope = None
        if self.conversation_id is None:
            self.conversation_id = conv.conversation_id or agent.conversation_id
        stop = conv._last_turn_stop_reason  # pyright: ignore[reportPrivateUsage]
        stop_reason = stop.value if stop != sdk.StopReason.UNSPECIFIED else "end_turn"
        if err := from_stop_reason(stop.value):
            err.data.update(agentId=self.agent_id, turnId=turn_id, partialText="".join(text))
            raise err
        structured = conv.get_last_structured_output() if self.params.response_schema else None
        return ChatResult(
            turn_id=turn_id,
            text="".join(text),
            stop_reason=stop_reason,
            usage=convert.usage(conv.last_turn_usage),
            structured_output=convert._jsonable(structured),  # pyright: ignore[reportPrivateUsage]
        )

    async def _stream(self, conv: Any, text: list[str]) -> None:
        from google.antigravity import types as sdk

        seen_calls: set[str] = set()
        model, user, error = sdk.StepSource.MODEL, sdk.StepTarget.USER, sdk.StepStatus.ERROR
        async for step in conv.receive_steps():
            if step.source == model and step.target == user and step.status != error:
                if step.thinking_delta:
                    self.emit("thought", text=step.thinking_delta)
                if step.content_delta:
                    text.append(step.content_delta)
                    self.emit("text", text=step.content_delta)
            for call in step.tool_calls:
                if not call.id or call.id not in seen_calls:
                    if call.id:
                        seen_calls.add(call.id)
                    self.emit("toolCall", tool_call=convert.tool_call(call))

    def emit(self, kind: Any, *, text: str | None = None, tool_call: ToolCall | None = None, tool_result: ToolResult | None = None) -> None:
        if self._turn_id is None:
            return
        self._seq += 1
        self.editor.chunk(
            ChatChunk(
                agent_id=self.agent_id,
                turn_id=self._turn_id,
                seq=self._seq,
                kind=kind,
                text=text,
                tool_call=tool_call,
                tool_result=tool_result,
            )
        )

    async def _settle_after_cancel(self, agent: Agent, *, restart_if_stuck: bool = False) -> None:
        """Stop the SDK turn and drain it, so nothing leaks into the next turn."""
        self.callbacks.cancel_pending()
        try:
            with anyio.fail_after(5):
                await agent.conversation.cancel()
                await agent.conversation.wait_for_idle()  # also drops leftover steps
        except Exception as e:
            log.info("agent %s did not settle after cancel (%s); restarting it", self.agent_id, type(e).__name__)
            self._needs_restart = True
        if restart_if_stuck:
            # A turn abandoned by our own timeout leaves the SDK agent unusable.
            self._needs_restart = True

    async def _after_failure(self, err: AgyError) -> None:
        """After a model failure the SDK agent is dead (see ARCHITECTURE.md)."""
        if not self.harness_alive():
            self.set_state("failed", err.message)
            return
        self._needs_restart = True
        try:
            await self.restart(err.message)
        except AgyError as restart_error:
            log.warning("agent %s could not restart: %s", self.agent_id, restart_error)

    def cancel(self) -> bool:
        """agy/cancel: ends the running turn (stopReason "cancelled"). False if idle."""
        self.callbacks.cancel_pending()
        if self._turn_scope is None:
            return False
        self._turn_scope.cancel()
        return True

    # ------------------------------------------------------------------ queries

    def turn_count(self) -> int:
        return self.turn_count_offset + (self._agent.conversation.turn_count if self._agent else 0)

    def conversation(self) -> Any:
        if self._agent is None:
            return None
        return self._agent.conversation

    def status(self) -> StatusResult:
        conv = self.conversation()
        return StatusResult(
            agent_id=self.agent_id,
            name=self.name,
            state=self.state,
            idle=not self.is_busy(),
            turn_count=self.turn_count(),
            conversation_id=self.conversation_id,
            last_response=conv.last_response if conv else "",
            compaction_indices=conv.compaction_indices if conv else [],
            total_usage=(convert.usage(conv.total_usage) if conv else None) or Usage(),
            last_turn_usage=convert.usage(conv.last_turn_usage) if conv else None,
            permissions=self.permissions.remembered(),
        )


def _to_sdk_prompt(prompt: Prompt) -> Any:
    if isinstance(prompt, str):
        if not prompt.strip():
            raise AgyError(ErrorCode.INVALID_PARAMS, "prompt is empty", {"field": "prompt"})
        return prompt
    from google.antigravity import types as sdk

    parts: list[Any] = []
    for part in prompt:
        parts.append(_part(part, sdk))
    if not parts:
        raise AgyError(ErrorCode.INVALID_PARAMS, "prompt has no parts", {"field": "prompt"})
    return parts


def _part(part: ContentPart, sdk: Any) -> Any:
    import base64
    import binascii

    if part.type == "text":
        if not part.text:
            raise AgyError(ErrorCode.INVALID_PARAMS, "a text part needs `text`", {"field": "prompt"})
        return part.text
    if not part.data or not part.mime_type:
        raise AgyError(ErrorCode.INVALID_PARAMS, f"an {part.type} part needs `data` (base64) and `mimeType`", {"field": "prompt"})
    try:
        raw = base64.b64decode(part.data, validate=True)
    except (binascii.Error, ValueError) as e:
        raise AgyError(ErrorCode.INVALID_PARAMS, "prompt part data is not valid base64", {"field": "prompt"}) from e
    return sdk.from_bytes(raw, mime_type=part.mime_type)


def _process_of(agent: Agent) -> subprocess.Popen[bytes] | None:
    """The harness process the SDK spawned (a private attribute; checked in tests)."""
    try:
        return agent.conversation.connection._process  # pyright: ignore
    except Exception:
        return None


def _kill(process: subprocess.Popen[bytes] | None) -> None:
    # Popen.kill is a no-op once the process was reaped, so a recycled pid is safe.
    if process is not None and process.poll() is None:
        try:
            process.kill()
            process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
