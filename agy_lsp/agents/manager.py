"""AgentManager: the core's face, with its `sessions` (agents/sessions.py), the
`TurnReport` a turn fills in (agents/report.py) and the `Editor` protocol.

Front-ends (LSP, ACP, MCP) call these and nothing deeper (an import-linter
contract); it answers in wire Structs or raises AgyError. It owns every agent of one server process by agentId, the
background turns of `agy/send`, one watcher (dead harnesses, idle agents to
hibernate, the live-harness cap), and closes every agent on the way out, in
parallel and within a bounded wait.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

import anyio
from anyio.abc import TaskGroup

from agy_lsp import keystore
from agy_lsp.agents import models, queries
from agy_lsp.agents.chat import run_chat
from agy_lsp.agents.editor import Editor
from agy_lsp.agents.hibernation import LiveAgents
from agy_lsp.agents.mcp_servers import check as check_mcp_servers
from agy_lsp.agents.pacing import Pacer
from agy_lsp.agents.quota import QuotaRegistry
from agy_lsp.agents.report import TurnReport
from agy_lsp.agents.session import AgentSession, SessionDeps
from agy_lsp.agents.sessions import Sessions
from agy_lsp.agents.spec import resolve_spec, with_model
from agy_lsp.agents.store import secure_state_dir
from agy_lsp.protocol.errors import AgyError, ErrorCode, agent_not_found, invalid_params
from agy_lsp.protocol.ids import parse_session_id
from agy_lsp.protocol.types import (
    AgentSummary,
    AnyBackend,
    ChatResult,
    ConfigureAgentParams,
    CreateAgentParams,
    CreateAgentResult,
    ExportSessionParams,
    ExportSessionResult,
    HistoryResult,
    Prompt,
    SendResult,
    StatusResult,
    Usage,
    UsageResult,
)
from agy_lsp.sdk import installed_version
from agy_lsp.sdk import preload as sdk_preload
from agy_lsp.sdk.port import Sdk
from agy_lsp.settings import Settings, resolve_default_backend

log = logging.getLogger(__name__)

# What agy/configureAgent may change (besides the backend).
_CONFIGURABLE = ("policies", "capabilities", "model_options", "budget", "compaction", "run_command", "tool_output")


def _google_sdk() -> Sdk:
    from agy_lsp.sdk.adapter import GoogleSdk  # imports the SDK: only when the first agent starts

    return GoogleSdk()


class AgentManager:
    def __init__(self, settings: Settings, editor: Editor, sdk: Callable[[], Sdk] = _google_sdk) -> None:
        self.settings = settings
        self.editor = editor
        self._sdk_factory = sdk
        self._sdk: Sdk | None = None
        self.pacer = Pacer(settings.pacing_ms)
        self.quota = QuotaRegistry()
        self._agents: dict[str, AgentSession] = {}
        self.live = LiveAgents(lambda: self._agents.values(), lambda: self.settings)
        # agents/sessions.py; an internal agent is no session of any front-end's
        self.sessions = Sessions(lambda: self.settings.state_dir, self._listed, self.create)
        self._deps = SessionDeps(
            editor=editor,
            sdk=self.sdk,
            settings=lambda: self.settings,
            pacer=self.pacer,
            quota=self.quota,
            make_room=self.live.make_room,
            changed=self.live.changed,
        )
        self._tasks: TaskGroup | None = None
        self._closing = False
        self._announced_fallback = False

    def preload(self) -> None:
        """Load the SDK in the background now (once a client is initialized), not when
        the first agent starts."""
        if self._sdk is None and self._sdk_factory is _google_sdk:
            sdk_preload()

    def sdk(self) -> Sdk:
        if self._sdk is None:
            self._sdk = self._sdk_factory()
        return self._sdk

    def sdk_version(self) -> str | None:
        return self._sdk.version() if self._sdk is not None else installed_version()

    async def __aenter__(self) -> AgentManager:
        self._tasks = anyio.create_task_group()
        await self._tasks.__aenter__()
        self._tasks.start_soon(self.live.watch)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close_all()
        assert self._tasks is not None
        self._tasks.cancel_scope.cancel()
        await self._tasks.__aexit__(None, None, None)

    def reconfigure(self, settings: Settings) -> None:
        """New settings (initializationOptions, didChangeConfiguration) apply to new
        agents and to every agent's next turn."""
        if settings.state_dir != self.settings.state_dir:
            self._secure(settings.state_dir)
        self.settings = settings
        self.pacer.min_interval = max(0, settings.pacing_ms) / 1000

    def announce_fallback(self, keyring_asked: bool = False) -> None:
        """Say once, in the editor's log, that we run on the scripted model (when the
        keyring was not asked yet, at the first agent, which asks: it may hold a key)."""
        _, note = resolve_default_backend(self.settings)
        if note and not self._announced_fallback and (keyring_asked or not keystore.worth_asking(True)):
            self._announced_fallback = True
            self.editor.log("warning", note)

    def _secure(self, state_dir: str) -> None:
        """A state dir named by the client is made the owner's only, as the CLI's is."""
        try:
            changed = secure_state_dir(state_dir)
        except OSError as e:
            self.editor.log("warning", f"could not secure the state dir: {e}")
            return
        if changed:
            self.editor.log("info", f"state dir was open to other users: removed their access to {changed} files and folders in it")

    # ------------------------------------------------------------------ agents

    def _get(self, agent_id: str) -> AgentSession:
        session = self._agents.get(agent_id)
        if session is None:
            raise agent_not_found(agent_id)
        return session

    async def create(
        self, params: CreateAgentParams, *, alias: str | None = None, start: bool = True, internal: bool = False
    ) -> CreateAgentResult:
        """A new agent, or one resumed from a stored conversation (its whole spec
        comes back; fields given here override). `alias`: another id a front-end
        knows the session by. `start=False` leaves the harness for the first turn.
        `internal`: the server's own helper (inline completions): never stored, and
        absent from `list` and every session listing, so it is nobody's chat."""
        if self._closing:
            raise AgyError(ErrorCode.SERVER_SHUTTING_DOWN, "the server is shutting down")
        meta = None if params.conversation_id is None else self.sessions.resumable(params.conversation_id)
        spec, backend, fallback = await resolve_spec(params, meta, self.settings)
        if fallback:
            self.announce_fallback(keyring_asked=True)  # resolve_spec asked it
        check_mcp_servers(spec.mcp_servers or [])
        agent_id = uuid.uuid4().hex[:12]
        session = AgentSession(agent_id, spec, backend, self._deps, internal)
        if meta is not None:
            session.restore(meta)
        if alias and alias not in session.aliases:
            session.aliases.append(alias)
        self._agents[agent_id] = session
        try:
            if start:
                await session.start()
            else:
                self.sdk().check(session.start_spec(resume=False), session.callbacks)  # a bad spec fails here, not at the first prompt
        except BaseException:
            self._agents.pop(agent_id, None)
            with anyio.CancelScope(shield=True):
                await session.close()
            raise
        return CreateAgentResult(agent_id=agent_id, conversation_id=session.conversation_id, tools=session.tool_names)

    async def shutdown_agent(self, agent_id: str) -> None:
        session = self._agents.pop(agent_id, None)
        if session is None:
            raise agent_not_found(agent_id)
        session.persist()
        await session.close()

    async def delete_agent(self, agent_id: str) -> None:
        """Shut the agent down and delete its stored conversation."""
        session = self._get(agent_id)
        await self.shutdown_agent(agent_id)
        if session.conversation_id:
            self.sessions.remove(session.conversation_id)

    async def disconnect_agent(self, agent_id: str) -> None:
        """The SDK's disconnect: close the transport, keep the stored conversation."""
        session = self._get(agent_id)
        if session.live is not None:
            with anyio.move_on_after(self.settings.shutdown_timeout_secs), contextlib.suppress(Exception):
                await session.live.disconnect()
        await self.shutdown_agent(agent_id)

    async def close_all(self) -> None:
        """Close every agent in parallel; each close is bounded by the shutdown timeout."""
        self._closing = True
        sessions = list(self._agents.values())
        self._agents.clear()
        with anyio.CancelScope(shield=True):
            async with anyio.create_task_group() as tg:
                for session in sessions:
                    tg.start_soon(session.close)

    def _listed(self) -> list[AgentSession]:
        return [s for s in self._agents.values() if not s.internal]

    def list(self) -> list[AgentSummary]:
        return [queries.summary(s) for s in self._listed()]

    def has(self, agent_id: str) -> bool:
        """Whether the agent is open (internal ones too)."""
        return agent_id in self._agents

    def backend_of(self, agent_id: str) -> AnyBackend:
        return self._get(agent_id).backend

    def default_backend(self, model: str | None = None) -> AnyBackend:
        """The backend an agent created without one gets; on `model` when given
        (InvalidParams for the scripted model)."""
        backend, _ = resolve_default_backend(self.settings)
        return backend if model is None else with_model(backend, model)

    async def set_model(self, agent_id: str, model: str) -> None:
        """Another model on the agent's backend, from its next turn; the conversation carries over."""
        backend = with_model(self.backend_of(agent_id), model)
        if backend != self.backend_of(agent_id):
            await self.set_backend(agent_id, backend)

    async def models(self, agent_id: str) -> list[models.ModelInfo]:
        """The models the agent's backend offers, its own first (agents/models.py)."""
        return await models.available(self.backend_of(agent_id))

    def meter(self, agent_id: str, usage: Usage) -> tuple[int | None, float | None]:
        """The agent's model's context window, and what `usage` cost in USD, where known."""
        model = models.model_name(self.backend_of(agent_id))
        return models.context_window(model), models.cost(model, usage)

    def name_of(self, agent_id: str) -> str:
        session = self._get(agent_id)
        return session.name or agent_id

    async def set_backend(self, agent_id: str, backend: AnyBackend) -> None:
        """Another backend or model for the agent; the conversation carries over."""
        session = self._get(agent_id)
        if session.turn is not None:
            raise AgyError(ErrorCode.AGENT_BUSY, "cannot change the backend during a turn", {"agentId": agent_id})
        await session.set_backend(backend)

    async def configure(self, params: ConfigureAgentParams) -> None:
        """Change an agent between turns: the fields given replace the agent's, checked
        now, and its next turn runs on them (the conversation carries over)."""
        session = self._get(params.agent_id)
        if session.turn is not None:
            raise AgyError(ErrorCode.AGENT_BUSY, "cannot change the agent during a turn", {"agentId": params.agent_id})
        changes = {f: v for f in _CONFIGURABLE if (v := getattr(params, f)) is not None}
        if changes:
            session.configure(changes)
        if params.backend is not None:
            await session.set_backend(params.backend)

    def set_policies(self, agent_id: str, policies: Any) -> None:
        """New policies for the agent's next turn."""
        self._get(agent_id).set_policies(policies)

    def reset_permissions(self, agent_id: str, tool: str | None = None) -> None:
        self._get(agent_id).permissions.reset(tool)

    # ------------------------------------------------------------------ turns

    async def chat(self, agent_id: str, prompt: Prompt, report: TurnReport | None = None, turn_id: str | None = None) -> ChatResult:
        """One turn to its end. `report`, when given, gets everything the turn did
        (agents/report.py: text, calls and their outcomes, files changed, usage, stop
        reason, warning) as it streams and ends, also when it fails: front-ends read
        it instead of rebuilding the turn from its chunks. `turn_id`: the id its
        chunks and requests carry (else one is made)."""
        return await run_chat(self._get(agent_id), prompt, turn_id, report)

    async def send(self, agent_id: str, prompt: Prompt) -> SendResult:
        """Starts a turn and returns at once; its chunks stream under the turnId."""
        session = self._get(agent_id)
        if session.turn is not None and not session.turn.cancel_requested:
            raise AgyError(ErrorCode.AGENT_BUSY, f"agent {agent_id} is busy", {"agentId": agent_id})
        turn_id = uuid.uuid4().hex[:12]
        assert self._tasks is not None
        started = anyio.Event()

        async def run() -> None:
            try:
                started.set()
                await run_chat(session, prompt, turn_id)
            except AgyError as e:
                self.editor.log("warning", f"agent {agent_id} turn {turn_id} failed: {e.message}")
            except Exception as e:
                log.exception("agent %s turn %s", agent_id, turn_id)
                self.editor.log("error", f"agent {agent_id} turn {turn_id} failed: {type(e).__name__}: {e}")

        self._tasks.start_soon(run)
        await started.wait()
        return SendResult(turn_id=turn_id)

    def cancel(self, agent_id: str, turn_id: str | None = None) -> bool:
        """Ends the running turn (stopReason "cancelled"), or only the turn with this
        id; False when no such turn runs."""
        turn = self._get(agent_id).turn
        if turn is None or (turn_id is not None and turn.id != turn_id):
            return False
        turn.cancel()
        return True

    async def wait_for_idle(self, agent_id: str) -> None:
        session = self._get(agent_id)
        with anyio.fail_after(self.settings.chat_timeout_secs + self.settings.send_timeout_secs):
            while session.turn is not None:
                await session.turn.ended.wait()
            if session.live is not None and session.harness_alive():
                await session.live.wait_for_idle()

    async def wait_for_wakeup(self, agent_id: str, timeout_secs: float) -> bool:
        """The SDK's local connection does not implement the wait (its base class
        answers False at once), so there is nothing to wait for and nothing to wake:
        False, without starting a hibernated agent (docs/protocol.md)."""
        self._get(agent_id)
        return False

    # ------------------------------------------------------------------ queries

    def status(self, agent_id: str) -> StatusResult:
        return queries.status(self._get(agent_id))

    def history(self, agent_id: str, offset: int = 0, limit: int | None = None) -> HistoryResult:
        return queries.page(queries.steps(self._get(agent_id)), offset, limit)

    def usage(self, agent_id: str) -> UsageResult:
        return queries.usage(self._get(agent_id))

    def structured_output(self, agent_id: str) -> Any:
        conv = self._get(agent_id).conversation
        return conv.structured_output() if conv is not None else None

    async def clear_history(self, agent_id: str) -> None:
        session = self._get(agent_id)
        if session.turn is not None:
            raise AgyError(ErrorCode.AGENT_BUSY, "cannot clear history during a turn", {"agentId": agent_id})
        live = await session.ensure_live()  # a hibernated agent's history lives on in its harness's save dir
        live.clear_history()
        session.turn_count_offset = 0
        session.refused.clear()

    async def export_session(self, params: ExportSessionParams, last: int | None = None) -> ExportSessionResult:
        """The transcript of a live agent, or of a stored conversation (opened briefly);
        with `last`, of its last steps only."""
        if params.agent_id is not None:
            session = self._get(params.agent_id)
        elif params.conversation_id is not None:
            agent_id = self.sessions.agent_for(parse_session_id(params.conversation_id, "conversationId"))
            if agent_id is None:
                created = await self.create(CreateAgentParams(conversation_id=params.conversation_id))
                try:
                    return await self.export_session(ExportSessionParams(agent_id=created.agent_id), last)
                finally:
                    await self.shutdown_agent(created.agent_id)
            session = self._get(agent_id)
        else:
            raise invalid_params("give agentId or conversationId", field="agentId")
        steps = queries.steps(session)
        if last is not None:
            steps = steps[len(steps) - last :] if last > 0 else []
        title = session.meta.title if session.meta else (session.name or "Conversation")
        return ExportSessionResult(conversation_id=session.conversation_id, markdown=queries.to_markdown(title, steps), steps=steps)
