"""The ACP `Agent`: session lifecycle, prompts, modes and options over the core.

Every method answers in the `acp` package's pydantic models or raises
`acp.RequestError`; core failures keep their stable code and cause.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION, Client, RequestError
from acp.schema import (
    AgentCapabilities,
    AuthenticateResponse,
    Implementation,
    InitializeResponse,
    ListSessionsResponse,
    LoadSessionResponse,
    McpCapabilities,
    NewSessionResponse,
    PromptCapabilities,
    PromptResponse,
    SessionCapabilities,
    SessionInfo,
    SessionListCapabilities,
    SetSessionConfigOptionResponse,
    SetSessionModeResponse,
    ToolCallStart,
    Usage,
    UsageUpdate,
)

from agy_lsp import __version__
from agy_lsp.acp import convert, updates
from agy_lsp.acp.bridge import FS_TOOLS, AcpEditor
from agy_lsp.acp.sessions import MODE_IDS, Binding, SessionIndex
from agy_lsp.agents.errors import AgyError
from agy_lsp.agents.manager import AgentManager
from agy_lsp.backends.config import quota_key
from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.protocol.types import Capabilities, ChatResult, CreateAgentParams, HistoryParams, PolicyRule

log = logging.getLogger(__name__)

PAGE = 50
# Every tool call reaches the editor bridge, which applies the session's mode.
ASK_ALL = [PolicyRule(tool="*", decision="ask_user")]
_STOP = {
    "end_turn": "end_turn",
    "cancelled": "cancelled",
    "MAX_MODEL_CALLS_EXCEEDED": "max_turn_requests",
    "MAX_TOOL_CALLS_EXCEEDED": "max_turn_requests",
}


class AgyAcpAgent:
    def __init__(self, manager: AgentManager, editor: AcpEditor) -> None:
        self.manager = manager
        self.editor = editor
        self.index = SessionIndex(manager.settings.state_dir)
        self.sessions: dict[str, Binding] = {}  # by ACP session id

    def on_connect(self, conn: Client) -> None:
        self.editor.outbox.client = conn

    # ------------------------------------------------------------------ initialize

    async def initialize(
        self, protocol_version: int, client_capabilities: Any = None, client_info: Any = None, **kwargs: Any
    ) -> InitializeResponse:
        fs = getattr(client_capabilities, "fs", None)
        self.editor.fs_read = bool(fs and fs.read_text_file)
        self.editor.fs_write = bool(fs and fs.write_text_file)
        return InitializeResponse(
            protocol_version=PROTOCOL_VERSION,
            agent_capabilities=AgentCapabilities(
                load_session=True,
                prompt_capabilities=PromptCapabilities(image=False, audio=False, embedded_context=True),
                mcp_capabilities=McpCapabilities(http=True, sse=False),
                session_capabilities=SessionCapabilities(list=SessionListCapabilities()),
            ),
            auth_methods=[],
            agent_info=Implementation(name="agy-lsp", title="Google Antigravity (agy-lsp)", version=__version__),
        )

    async def authenticate(self, method_id: str, **kwargs: Any) -> AuthenticateResponse:
        """We advertise no auth methods (keys come from the environment); clients
        that authenticate anyway (some adapters always do) get a harmless success."""
        return AuthenticateResponse()

    # ------------------------------------------------------------------ sessions

    async def new_session(
        self, cwd: str, additional_directories: list[str] | None = None, mcp_servers: list[Any] | None = None, **kwargs: Any
    ) -> NewSessionResponse:
        b = await self._open(uuid.uuid4().hex, cwd, additional_directories, mcp_servers, kwargs.get("agy"), None)
        return NewSessionResponse(session_id=b.session_id, modes=b.modes(), config_options=b.config_options())

    async def load_session(
        self,
        cwd: str,
        session_id: str,
        mcp_servers: list[Any] | None = None,
        additional_directories: list[str] | None = None,
        **kwargs: Any,
    ) -> LoadSessionResponse:
        b = self.sessions.get(session_id)
        if b is None:
            conversation = self.index.conversation(session_id)
            if self.manager.store.get(conversation) is None and not self.manager.store.has_conversation(conversation):
                raise convert.invalid(f"unknown session {session_id!r}", sessionId=session_id)
            b = await self._open(session_id, cwd, additional_directories, mcp_servers, kwargs.get("agy"), conversation)
        steps = self.manager.history(HistoryParams(agent_id=b.agent_id)).steps
        replay = updates.history(steps)
        b.tools.reserve([u.tool_call_id for u in replay if isinstance(u, ToolCallStart)])  # live calls get other ids
        for update in replay:
            self.editor.outbox.put(b.session_id, update)
        await self.editor.outbox.flush()
        return LoadSessionResponse(modes=b.modes(), config_options=b.config_options())

    async def _open(
        self, session_id: str, cwd: str, extra_dirs: list[str] | None, mcp_servers: list[Any] | None, agy: Any, conversation: str | None
    ) -> Binding:
        if not Path(cwd).is_absolute():
            raise convert.invalid("cwd must be an absolute path", field="cwd")
        replaced = (["view_file"] if self.editor.fs_read else []) + (["create_file", "edit_file"] if self.editor.fs_write else [])
        tools = [FS_TOOLS[updates.FS_READ_TOOL]] * self.editor.fs_read + [FS_TOOLS[updates.FS_WRITE_TOOL]] * self.editor.fs_write
        params = CreateAgentParams(
            backend=convert.meta_backend(agy),
            workspaces=[cwd, *(extra_dirs or [])],
            policies=ASK_ALL,
            tools=tools,
            capabilities=Capabilities(disabled_tools=replaced) if replaced else None,
            conversation_id=conversation,
            mcp_servers=convert.mcp_servers(mcp_servers),  # the client's list is the whole list, on load too
        )
        try:
            created = await self.manager.create(params)
        except AgyError as e:
            raise convert.to_request_error(e) from e
        session = self.manager.get(created.agent_id)
        b = Binding(session_id, created.agent_id, cwd, session.backend, extra_models=convert.meta_models(agy))
        self.sessions[session_id] = b
        self.editor.bindings[created.agent_id] = b
        return b

    async def list_sessions(self, cwd: str | None = None, cursor: str | None = None, **kwargs: Any) -> ListSessionsResponse:
        try:
            offset = int(cursor or 0)
        except ValueError:
            raise convert.invalid("cursor is not one we gave out", field="cursor") from None
        ids = self.index.session_ids()
        metas = [m for m in self.manager.store.list() if cwd is None or (m.workspaces[:1] == [cwd])]
        page = metas[offset : offset + PAGE]
        sessions = [
            SessionInfo(
                session_id=ids.get(m.conversation_id, m.conversation_id),
                cwd=m.workspaces[0] if m.workspaces else str(Path.home()),
                title=m.title or None,
                updated_at=datetime.fromtimestamp(m.updated_at, timezone.utc).isoformat().replace("+00:00", "Z"),
            )
            for m in page
        ]
        more = offset + PAGE < len(metas)
        return ListSessionsResponse(sessions=sessions, next_cursor=str(offset + PAGE) if more else None)

    def _binding(self, session_id: str) -> Binding:
        b = self.sessions.get(session_id)
        if b is None:
            raise convert.invalid(f"unknown session {session_id!r}; create it with session/new or session/load", sessionId=session_id)
        return b

    # ------------------------------------------------------------------ turns

    async def prompt(self, prompt: list[convert.Block], session_id: str, **kwargs: Any) -> PromptResponse:
        b = self._binding(session_id)
        parts = convert.prompt(prompt)
        session = self.manager.get(b.agent_id)
        try:
            result = await session.chat(parts)
        except AgyError as e:
            await self.editor.outbox.flush()
            if e.code == ErrorCode.MAX_TOKENS:
                return PromptResponse(stop_reason="max_tokens")
            if e.code == ErrorCode.SAFETY:
                return PromptResponse(stop_reason="refusal")
            raise convert.to_request_error(e) from e
        finally:
            self.editor.end_turn(b)
            if session.conversation_id:
                self.index.record(session_id, session.conversation_id)
        usage = self._usage(b, result)
        await self.editor.outbox.flush()
        return PromptResponse(stop_reason=_STOP.get(result.stop_reason, "end_turn"), usage=usage)  # pyright: ignore[reportArgumentType]

    def _usage(self, b: Binding, result: ChatResult) -> Usage | None:
        u = result.usage
        if u is None:
            return None
        used = u.total_tokens or (u.prompt_tokens + u.candidates_tokens + u.thoughts_tokens)
        window = 1_048_576 if b.model().startswith("gemini") else 131_072
        self.editor.outbox.put(b.session_id, UsageUpdate(session_update="usage_update", used=used, size=max(window, used)))
        return Usage(
            total_tokens=used,
            input_tokens=u.prompt_tokens,
            output_tokens=u.candidates_tokens,
            thought_tokens=u.thoughts_tokens or None,
            cached_read_tokens=u.cached_tokens or None,
        )

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        b = self.sessions.get(session_id)
        if b is not None:
            self.manager.get(b.agent_id).cancel()

    # ------------------------------------------------------------------ modes and options

    async def set_session_mode(self, mode_id: str, session_id: str, **kwargs: Any) -> SetSessionModeResponse:
        b = self._binding(session_id)
        if mode_id not in MODE_IDS:
            raise convert.invalid(f"unknown mode {mode_id!r}", field="modeId", modes=sorted(MODE_IDS))
        b.mode = mode_id
        return SetSessionModeResponse()

    async def set_config_option(self, config_id: str, session_id: str, value: str | bool, **kwargs: Any) -> SetSessionConfigOptionResponse:
        b = self._binding(session_id)
        if config_id != "model":
            raise convert.invalid(f"unknown config option {config_id!r}", field="configId")
        if not isinstance(value, str) or value not in b.models():
            raise convert.invalid(f"unknown model {value!r}", field="value", models=b.models())
        try:
            backend = b.with_model(value)
        except ValueError as e:
            raise convert.invalid(str(e), field="value") from e
        if backend != b.backend:
            session = self.manager.get(b.agent_id)
            if session.is_busy():
                raise RequestError(int(ErrorCode.AGENT_BUSY), "cannot change the model during a turn", {"sessionId": session_id})
            session.backend, session.quota_key = backend, quota_key(backend)
            try:
                await session.restart(f"model changed to {value}")
            except AgyError as e:
                raise convert.to_request_error(e) from e
            b.backend = backend
        return SetSessionConfigOptionResponse(config_options=b.config_options())
