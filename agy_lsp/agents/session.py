"""AgentSession: one SDK Agent, its harness process and its turns.

It owns the lifecycle (start, restart after a model failure, hibernate and wake,
bounded close) and runs turns, turning SDK steps into `ChatChunk`s for the
editor. Tool confirmation, editor tools and hooks live in `permissions.py` and
`callbacks.py`, the SDK config in `sdk_config.py`; this module wires them in.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import TYPE_CHECKING, Any

import anyio

from agy_lsp.agents import convert, harness, mcp, prompts, sdk_config
from agy_lsp.agents.callbacks import Callbacks
from agy_lsp.agents.chunks import TurnChunks
from agy_lsp.agents.editor import Editor
from agy_lsp.agents.errors import AgyError, classify, from_stop_reason
from agy_lsp.agents.pacing import Pacer
from agy_lsp.agents.permissions import Permissions
from agy_lsp.agents.quota import QuotaRegistry
from agy_lsp.agents.store import SessionMeta, SessionStore, shorten
from agy_lsp.backends.config import BackendConfigError, describe, quota_key
from agy_lsp.backends.scripted import parse_script, shared_model
from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.protocol.types import (
    AgentState,
    AgentStateNotice,
    AnyBackend,
    ChatResult,
    CreateAgentParams,
    Gemini,
    OpenAI,
    Prompt,
    Scripted,
    StatusResult,
    Usage,
    Vertex,
)
from agy_lsp.settings import Settings

if TYPE_CHECKING:
    from google.antigravity import Agent

    from agy_lsp.agents.hibernation import LiveAgents

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
        live: LiveAgents | None = None,
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
        self.chunks = TurnChunks(agent_id, editor)
        self._turn_scope: anyio.CancelScope | None = None
        self._wait_scope: anyio.CancelScope | None = None
        self._needs_restart = False
        self.store = SessionStore(settings.state_dir)
        self._scripted_url: str | None = None
        self.meta: SessionMeta | None = None
        self.live = live
        self.last_active = time.monotonic()  # when a turn last started or ended; hibernation picks by it
        self.spawning = False  # has room for a harness that is not up yet (see LiveAgents)
        self._life = anyio.Lock()  # start, hibernate and wake, one at a time
        self._dormant: Any = None  # a hibernated agent's last conversation: queries still read it

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
            self.meta = SessionMeta(conversation_id=self.conversation_id, title=shorten(prompts.first_text(prompt)))
        meta, p = self.meta, self.params
        meta.name = self.name
        meta.backend = describe(self.backend)
        meta.policies = p.policies
        meta.permissions = self.permissions.remembered()
        meta.workspaces, meta.system_instructions, meta.tools, meta.hooks = p.workspaces, p.system_instructions, p.tools, p.hooks
        meta.mcp_servers = mcp.stored(p.mcp_servers)  # never env or headers
        meta.turn_count = self.turn_count()
        try:
            self.store.save(meta)
        except OSError as e:
            log.warning("could not save session %s: %s", self.conversation_id, e)

    # ------------------------------------------------------------------ lifecycle

    @property
    def turn_id(self) -> str | None:
        return self.chunks.turn_id

    def set_state(self, state: AgentState, reason: str | None = None, *, force: bool = False) -> None:
        if force or state != self.state:
            self.state = state
            self.editor.agent_state(AgentStateNotice(agent_id=self.agent_id, state=state, reason=reason))
            if self.live is not None:
                self.live.changed()

    def model_backend(self) -> OpenAI | Gemini | Vertex:
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

    async def start(self, *, resume: bool = False) -> None:
        """Spawns the harness, once there is room for it. Raises AgyError."""
        from google.antigravity import Agent

        previous = self.state
        self.set_state("starting", force=True)
        if self.live is not None:
            try:
                await self.live.make_room(self)
            except BaseException as e:  # no room, or cancelled while waiting: nothing was spawned
                self.set_state("hibernated" if previous == "hibernated" else "failed", str(e) or None)
                raise
        os.makedirs(os.path.join(self.settings.state_dir, "conversations"), exist_ok=True)
        agent: Agent | None = None
        try:
            with anyio.CancelScope(shield=True):  # a half-started harness would leak
                agent = Agent(sdk_config.build(self, resume=resume))
                with anyio.fail_after(self.settings.send_timeout_secs):
                    await agent.__aenter__()
        except Exception as e:
            self.set_state("failed")
            if agent is not None:
                harness.kill(harness.process_of(agent))
            if isinstance(e, AgyError):
                raise
            raise self._start_error(e) from e
        finally:
            self.spawning = False
        self._agent, self._dormant = agent, None
        self._needs_restart = False
        self.last_active = time.monotonic()
        self.set_state("idle")

    def _start_error(self, e: Exception) -> AgyError:
        if isinstance(e, BackendConfigError):
            return AgyError(ErrorCode.INVALID_PARAMS, str(e), {"backend": describe(self.backend)})
        err = classify(e, stage="create")
        err.data["backend"] = describe(self.backend)
        return err

    def harness_pid(self) -> int | None:
        return harness.pid_of(self._agent)

    def harness_alive(self) -> bool:
        return self.harness_pid() is not None

    def check_harness(self) -> None:
        if self._agent is not None and self.state in ("idle", "busy") and not self.harness_alive():
            self.set_state("failed", "the harness process exited")

    def holds_harness(self) -> bool:
        return self.spawning or self.harness_alive()

    def can_hibernate(self) -> bool:
        return not self._life.locked() and self._idle_and_live()

    def _idle_and_live(self) -> bool:
        return self.state == "idle" and not self.is_busy() and self.harness_alive()

    async def close(self, *, final_state: AgentState = "closed", reason: str | None = None) -> None:
        """Closes the SDK agent within the shutdown timeout; the harness is killed if it will not go."""
        agent, self._agent = self._agent, None
        if agent is not None:
            self.turn_count_offset += agent.conversation.turn_count  # a resumed conversation counts from 0
            self._dormant = agent.conversation
            await harness.close(agent, self.settings.shutdown_timeout_secs)
        if self.state == "closed":  # shut down while a hibernation was closing it: closed it stays
            return
        self.set_state(final_state, reason)

    async def restart(self, reason: str) -> None:
        """After a model failure the SDK agent is dead; start a fresh one on the same
        conversation so the history survives."""
        self.set_state("restarting", reason)
        await self.close(final_state="restarting")
        await self.start(resume=self.conversation_id is not None)

    async def hibernate(self, reason: str) -> bool:
        """Closes an idle agent's harness and keeps its conversation; False if it is in use."""
        if not self.can_hibernate():
            return False
        async with self._life:
            if not self._idle_and_live():  # a turn may have begun while we waited
                return False
            self.persist()
            await self.close(final_state="hibernated", reason=reason)
            log.info("agent %s hibernated: %s", self.agent_id, reason)
            return True

    async def ensure_live(self) -> Agent:
        """The live SDK agent: woken from hibernation or restarted after a failure if need be."""
        async with self._life:
            return await self._ensure_live()

    async def _ensure_live(self) -> Agent:
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
                f"agent {self.agent_id} is already running turn {self.turn_id}; cancel it or wait",
                {"agentId": self.agent_id, "turnId": self.turn_id},
            )
        async with self._busy:
            turn_id = turn_id or uuid.uuid4().hex[:12]
            self.chunks.begin(turn_id)
            self.last_active = time.monotonic()
            try:
                # agy/cancel before the turn reached the model (waking up, quota backoff) ends it here
                with anyio.CancelScope() as self._wait_scope:
                    result = await self._chat_with_retries(prompt, turn_id)
                    self.persist(prompt)
                    return result
                return ChatResult(turn_id=turn_id, text="", stop_reason="cancelled", usage=None)
            finally:
                self.chunks.end()
                self._wait_scope = None
                self.last_active = time.monotonic()
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
                    await conv.send(prompts.to_sdk(prompt))
                    await self.chunks.pump(conv, text)
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
        scope = self._turn_scope or self._wait_scope
        if scope is None:
            return False
        scope.cancel()
        return True

    # ------------------------------------------------------------------ queries

    def turn_count(self) -> int:
        return self.turn_count_offset + (self._agent.conversation.turn_count if self._agent else 0)

    def conversation(self) -> Any:
        """The live conversation, or a hibernated agent's last one (its history is in memory)."""
        return self._agent.conversation if self._agent is not None else self._dormant

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
