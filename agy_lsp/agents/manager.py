"""AgentManager: every live agent of one server process, by agentId.

Front-ends call it; it answers in wire Structs or raises AgyError. It also owns
background turns (`agy/send`) and one watcher (dead harnesses, idle agents to
hibernate) in an anyio task group, and closes every agent on the way out, in
parallel and within a bounded wait.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any

import anyio
import msgspec
from anyio.abc import TaskGroup

from agy_lsp.agents import convert
from agy_lsp.agents.editor import Editor
from agy_lsp.agents.errors import AgyError, agent_not_found, classify
from agy_lsp.agents.export import to_markdown
from agy_lsp.agents.hibernation import LiveAgents
from agy_lsp.agents.pacing import Pacer
from agy_lsp.agents.quota import QuotaRegistry
from agy_lsp.agents.session import AgentSession
from agy_lsp.agents.store import SessionMeta, SessionStore
from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.protocol.types import (
    AgentSummary,
    AnyBackend,
    ChatResult,
    CreateAgentParams,
    CreateAgentResult,
    ExportSessionParams,
    ExportSessionResult,
    HistoryParams,
    HistoryResult,
    ListSessionsParams,
    ListSessionsResult,
    Prompt,
    SendResult,
    SessionSummary,
    UsageResult,
)
from agy_lsp.settings import Settings, backend_from, resolve_default_backend

log = logging.getLogger(__name__)


class AgentManager:
    def __init__(self, settings: Settings, editor: Editor) -> None:
        self.settings = settings
        self.editor = editor
        self.pacer = Pacer(settings.pacing_ms)
        self.quota = QuotaRegistry()
        self._agents: dict[str, AgentSession] = {}
        self.live = LiveAgents(lambda: self._agents.values(), lambda: self.settings)
        self._tasks: TaskGroup | None = None
        self._closing = False
        self._announced_fallback = False

    async def __aenter__(self) -> AgentManager:
        self._tasks = anyio.create_task_group()
        await self._tasks.__aenter__()
        self._tasks.start_soon(self._watch)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close_all()
        assert self._tasks is not None
        self._tasks.cancel_scope.cancel()
        await self._tasks.__aexit__(None, None, None)

    def reconfigure(self, settings: Settings) -> None:
        """New defaults (initializationOptions, didChangeConfiguration) apply to new agents and turns."""
        self.settings = settings
        self.pacer.min_interval = max(0, settings.pacing_ms) / 1000
        for session in self._agents.values():
            session.settings = settings

    def announce_fallback(self) -> None:
        """Say once, in the editor's log, that we run on the scripted model."""
        _, note = resolve_default_backend(self.settings)
        if note and not self._announced_fallback:
            self._announced_fallback = True
            self.editor.log("warning", note)

    # ------------------------------------------------------------------ lifecycle

    def get(self, agent_id: str) -> AgentSession:
        session = self._agents.get(agent_id)
        if session is None:
            raise agent_not_found(agent_id)
        return session

    async def create(self, params: CreateAgentParams) -> CreateAgentResult:
        if self._closing:
            raise AgyError(ErrorCode.SERVER_SHUTTING_DOWN, "the server is shutting down")
        meta = None
        if params.conversation_id is not None:
            meta = self.store.get(params.conversation_id)
            if meta is None and not self.store.has_conversation(params.conversation_id):
                raise AgyError(
                    ErrorCode.INVALID_PARAMS,
                    f"no stored conversation {params.conversation_id!r}",
                    {"conversationId": params.conversation_id, "stateDir": self.settings.state_dir},
                )
            if meta is not None:
                params = _with_stored(params, meta)
        backend = params.backend or (backend_from_description(meta.backend) if meta else None)
        if backend is None:
            backend, _ = resolve_default_backend(self.settings)
            self.announce_fallback()
        agent_id = uuid.uuid4().hex[:12]
        session = AgentSession(agent_id, params, backend, self.settings, self.editor, self.pacer, self.quota, self.live)
        if meta is not None:
            session.restore(meta)
        self._agents[agent_id] = session
        try:
            await session.start(resume=params.conversation_id is not None)
        except BaseException:
            self._agents.pop(agent_id, None)
            with anyio.CancelScope(shield=True):
                await session.close(final_state="failed")
            raise
        return CreateAgentResult(agent_id=agent_id, conversation_id=session.conversation_id, tools=session.tool_names)

    async def _watch(self) -> None:
        """Notice a harness that died (killed, OOM) while nobody was talking to it,
        and hibernate agents left idle past idleTimeoutSecs."""
        while True:
            await anyio.sleep(self.live.poll_interval())
            try:
                for session in list(self._agents.values()):
                    session.check_harness()
                await self.live.hibernate_idle()
                await self.live.trim()
            except Exception:  # the watcher must outlive any one agent's trouble
                log.exception("agent watcher")

    async def shutdown_agent(self, agent_id: str) -> None:
        session = self._agents.pop(agent_id, None)
        if session is None:
            raise agent_not_found(agent_id)
        session.cancel()
        await session.close()

    @property
    def store(self) -> SessionStore:
        return SessionStore(self.settings.state_dir)

    async def delete_agent(self, agent_id: str) -> None:
        """Shut the agent down and delete its stored conversation."""
        session = self.get(agent_id)
        await self.shutdown_agent(agent_id)
        if session.conversation_id:
            self.store.delete(session.conversation_id)

    async def disconnect_agent(self, agent_id: str) -> None:
        """The SDK's disconnect: close the transport, keep the stored conversation."""
        session = self.get(agent_id)
        conv = session.conversation()
        if conv is not None:
            with anyio.move_on_after(self.settings.shutdown_timeout_secs):
                with contextlib.suppress(Exception):
                    await conv.disconnect()
        await self.shutdown_agent(agent_id)

    async def close_all(self) -> None:
        """Close every agent in parallel; each close is bounded by the shutdown timeout."""
        self._closing = True
        sessions = list(self._agents.values())
        self._agents.clear()
        with anyio.CancelScope(shield=True):
            async with anyio.create_task_group() as tg:
                for session in sessions:
                    session.cancel()
                    tg.start_soon(session.close)

    def list(self) -> list[AgentSummary]:
        return [
            AgentSummary(
                agent_id=s.agent_id,
                name=s.name,
                state=s.state,
                conversation_id=s.conversation_id,
                turn_count=s.turn_count(),
            )
            for s in self._agents.values()
        ]

    def harness_pids(self) -> list[int]:
        return [pid for s in self._agents.values() if (pid := s.harness_pid()) is not None]

    # ------------------------------------------------------------------ turns

    async def chat(self, agent_id: str, prompt: Prompt) -> ChatResult:
        return await self.get(agent_id).chat(prompt)

    async def send(self, agent_id: str, prompt: Prompt) -> SendResult:
        """Starts a turn and returns at once; its chunks stream under the turnId."""
        session = self.get(agent_id)
        if session.is_busy():
            raise AgyError(ErrorCode.AGENT_BUSY, f"agent {agent_id} is busy", {"agentId": agent_id})
        turn_id = uuid.uuid4().hex[:12]
        assert self._tasks is not None
        started = anyio.Event()

        async def run() -> None:
            try:
                started.set()
                await session.chat(prompt, turn_id)
            except AgyError as e:
                self.editor.log("warning", f"agent {agent_id} turn {turn_id} failed: {e.message}")
            except Exception as e:
                self.editor.log("error", f"agent {agent_id} turn {turn_id} failed: {classify(e).message}")

        self._tasks.start_soon(run)
        await started.wait()
        return SendResult(turn_id=turn_id)

    async def wait_for_idle(self, agent_id: str) -> None:
        session = self.get(agent_id)
        with anyio.fail_after(self.settings.chat_timeout_secs + self.settings.send_timeout_secs):
            while session.is_busy():
                await anyio.sleep(0.02)
            if session.harness_alive():
                await session.conversation().wait_for_idle()

    async def wait_for_wakeup(self, agent_id: str, timeout_secs: float) -> bool:
        conv = (await self.get(agent_id).ensure_live()).conversation
        with anyio.fail_after(timeout_secs + self.settings.query_timeout_secs):
            return bool(await conv.wait_for_wakeup(timeout_secs))

    # ------------------------------------------------------------------ queries

    def history(self, params: HistoryParams) -> HistoryResult:
        conv = self.get(params.agent_id).conversation()
        steps = _latest_snapshots(conv.history if conv is not None else [])
        if params.offset < 0 or (params.limit is not None and params.limit < 0):
            raise AgyError(ErrorCode.INVALID_PARAMS, "offset and limit must be >= 0", {"field": "offset/limit"})
        end = None if params.limit is None else params.offset + params.limit
        return HistoryResult(steps=[convert.step(s) for s in steps[params.offset : end]], total=len(steps))

    def list_sessions(self, params: ListSessionsParams) -> ListSessionsResult:
        metas = self.store.list()
        if params.offset < 0 or params.limit < 0:
            raise AgyError(ErrorCode.INVALID_PARAMS, "offset and limit must be >= 0", {"field": "offset/limit"})
        page = metas[params.offset : params.offset + params.limit]
        return ListSessionsResult(
            sessions=[
                SessionSummary(
                    conversation_id=m.conversation_id, name=m.name, title=m.title, updated_at=m.updated_at, turn_count=m.turn_count
                )
                for m in page
            ],
            total=len(metas),
        )

    async def export_session(self, params: ExportSessionParams) -> ExportSessionResult:
        """The transcript of a live agent, or of a stored conversation (opened briefly)."""
        if params.agent_id is not None:
            session = self.get(params.agent_id)
        elif params.conversation_id is not None:
            live = [s for s in self._agents.values() if s.conversation_id == params.conversation_id]
            if not live:
                created = await self.create(CreateAgentParams(conversation_id=params.conversation_id))
                try:
                    return await self.export_session(ExportSessionParams(agent_id=created.agent_id))
                finally:
                    await self.shutdown_agent(created.agent_id)
            session = live[0]
        else:
            raise AgyError(ErrorCode.INVALID_PARAMS, "give agentId or conversationId", {"field": "agentId"})
        steps = self.history(HistoryParams(agent_id=session.agent_id)).steps
        title = session.meta.title if session.meta else (session.name or "Conversation")
        return ExportSessionResult(conversation_id=session.conversation_id, markdown=to_markdown(title, steps), steps=steps)

    def usage(self, agent_id: str) -> UsageResult:
        status = self.get(agent_id).status()
        return UsageResult(total_usage=status.total_usage, last_turn_usage=status.last_turn_usage)

    async def clear_history(self, agent_id: str) -> None:
        session = self.get(agent_id)
        if session.is_busy():
            raise AgyError(ErrorCode.AGENT_BUSY, "cannot clear history during a turn", {"agentId": agent_id})
        await session.ensure_live()  # a hibernated agent's history lives on in its harness's save dir
        conv = session.conversation()
        if conv is not None:
            conv.clear_history()
        session.turn_count_offset = 0

    def structured_output(self, agent_id: str) -> Any:
        conv = self.get(agent_id).conversation()
        return convert._jsonable(conv.get_last_structured_output()) if conv is not None else None  # pyright: ignore[reportPrivateUsage]


def _latest_snapshots(steps: list[Any]) -> list[Any]:
    """The SDK keeps every snapshot of a step as it streams; a client wants each step
    once, as it ended, in the order the steps began. A custom tool's step is the SDK's
    one-off step named by the model's call id, which a model may repeat: never merged."""
    latest: dict[Any, Any] = {}
    for step in steps:
        calls = step.tool_calls
        one_off = bool(calls) and not calls[0].step_id  # the SDK's step for a custom tool call
        latest[object() if one_off or not step.id else step.id] = step  # re-assigning keeps the first position
    return list(latest.values())


def _with_stored(params: CreateAgentParams, meta: SessionMeta) -> CreateAgentParams:
    """Fill what the resuming client left out from the stored session."""
    return msgspec.structs.replace(
        params,
        name=params.name or meta.name,
        policies=params.policies if params.policies is not None else meta.policies,
        workspaces=params.workspaces or meta.workspaces,
        system_instructions=params.system_instructions or meta.system_instructions,
        tools=params.tools or meta.tools,
        hooks=params.hooks or meta.hooks,
        mcp_servers=params.mcp_servers if params.mcp_servers is not None else meta.mcp_servers,
    )


def backend_from_description(described: dict[str, Any]) -> AnyBackend | None:
    """A stored backend (no key: keys come from the environment again)."""
    return backend_from(described.get("type"), described.get("model"), described.get("base_url"), None)
