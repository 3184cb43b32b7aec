"""The ACP `Agent`: session lifecycle, prompts, modes and options over the core's
`AgentManager`.

Every method answers in the `acp` package's pydantic models or raises
`acp.RequestError`; core failures keep their stable code and cause.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION, Client
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
from agy_lsp.acp import inputs, updates
from agy_lsp.acp.acp_editor import FS_TOOLS, AcpEditor
from agy_lsp.acp.bindings import DEFAULT_MODE, MODE_POLICIES, Binding
from agy_lsp.agents.manager import AgentManager
from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.types import Capabilities, ChatResult, CreateAgentParams

log = logging.getLogger(__name__)

PAGE = 50
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
            meta = self.manager.find_session(session_id)
            if meta is None:
                raise inputs.invalid(f"unknown session {session_id!r}", sessionId=session_id)
            b = await self._open(session_id, cwd, additional_directories, mcp_servers, kwargs.get("agy"), meta.conversation_id)
        replay = updates.history(self._call(self.manager.history, b.agent_id).steps)
        b.tools.reserve([u.tool_call_id for u in replay if isinstance(u, ToolCallStart)])  # live calls get other ids
        for update in replay:
            self.editor.outbox.put(b.session_id, update)
        await self.editor.outbox.flush()
        return LoadSessionResponse(modes=b.modes(), config_options=b.config_options())

    async def _open(
        self, session_id: str, cwd: str, extra_dirs: list[str] | None, mcp_servers: list[Any] | None, agy: Any, conversation: str | None
    ) -> Binding:
        if not Path(cwd).is_absolute():
            raise inputs.invalid("cwd must be an absolute path", field="cwd")
        replaced = (["view_file"] if self.editor.fs_read else []) + (["create_file", "edit_file"] if self.editor.fs_write else [])
        tools = [FS_TOOLS[updates.FS_READ_TOOL]] * self.editor.fs_read + [FS_TOOLS[updates.FS_WRITE_TOOL]] * self.editor.fs_write
        params = CreateAgentParams(
            backend=inputs.meta_backend(agy),
            workspaces=[cwd, *(extra_dirs or [])],
            policies=MODE_POLICIES[DEFAULT_MODE],
            tools=tools,
            capabilities=Capabilities(disabled_tools=replaced) if replaced else None,
            conversation_id=conversation,
            mcp_servers=inputs.mcp_servers(mcp_servers),  # the client's list is the whole list, on load too
        )
        try:
            created = await self.manager.create(params, alias=session_id)
        except AgyError as e:
            raise inputs.to_request_error(e) from e
        b = Binding(session_id, created.agent_id, cwd, self.manager.backend_of(created.agent_id), extra_models=inputs.meta_models(agy))
        self.sessions[session_id] = b
        self.editor.bindings[created.agent_id] = b
        return b

    async def list_sessions(self, cwd: str | None = None, cursor: str | None = None, **kwargs: Any) -> ListSessionsResponse:
        try:
            offset = int(cursor or 0)
        except ValueError:
            raise inputs.invalid("cursor is not one we gave out", field="cursor") from None
        metas = self.manager.stored_sessions(cwd)
        sessions = [
            SessionInfo(
                session_id=m.aliases[0] if m.aliases else m.conversation_id,
                cwd=m.cwd or str(Path.home()),
                title=m.title or None,
                updated_at=datetime.fromtimestamp(m.updated_at, timezone.utc).isoformat().replace("+00:00", "Z"),
            )
            for m in metas[offset : offset + PAGE]
        ]
        more = offset + PAGE < len(metas)
        return ListSessionsResponse(sessions=sessions, next_cursor=str(offset + PAGE) if more else None)

    def _binding(self, session_id: str) -> Binding:
        b = self.sessions.get(session_id)
        if b is None:
            raise inputs.invalid(f"unknown session {session_id!r}; create it with session/new or session/load", sessionId=session_id)
        return b

    def _call(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except AgyError as e:
            raise inputs.to_request_error(e) from e

    # ------------------------------------------------------------------ turns

    async def prompt(self, prompt: list[inputs.Block], session_id: str, **kwargs: Any) -> PromptResponse:
        b = self._binding(session_id)
        parts = inputs.prompt(prompt)
        try:
            result = await self.manager.chat(b.agent_id, parts)
        except AgyError as e:
            await self.editor.outbox.flush()
            if e.code == ErrorCode.MAX_TOKENS:
                return PromptResponse(stop_reason="max_tokens")
            if e.code == ErrorCode.SAFETY:
                return PromptResponse(stop_reason="refusal")
            raise inputs.to_request_error(e) from e
        finally:
            self.editor.end_turn(b)
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
            self.manager.cancel(b.agent_id)

    # ------------------------------------------------------------------ modes and options

    async def set_session_mode(self, mode_id: str, session_id: str, **kwargs: Any) -> SetSessionModeResponse:
        b = self._binding(session_id)
        if mode_id not in MODE_POLICIES:
            raise inputs.invalid(f"unknown mode {mode_id!r}", field="modeId", modes=sorted(MODE_POLICIES))
        self._call(self.manager.set_policies, b.agent_id, MODE_POLICIES[mode_id])
        b.mode = mode_id
        return SetSessionModeResponse()

    async def set_config_option(self, config_id: str, session_id: str, value: str | bool, **kwargs: Any) -> SetSessionConfigOptionResponse:
        b = self._binding(session_id)
        if config_id != "model":
            raise inputs.invalid(f"unknown config option {config_id!r}", field="configId")
        if not isinstance(value, str) or value not in b.models():
            raise inputs.invalid(f"unknown model {value!r}", field="value", models=b.models())
        try:
            backend = b.with_model(value)
        except ValueError as e:
            raise inputs.invalid(str(e), field="value") from e
        if backend != b.backend:
            try:
                await self.manager.set_backend(b.agent_id, backend)
            except AgyError as e:
                raise inputs.to_request_error(e) from e
            b.backend = backend
        return SetSessionConfigOptionResponse(config_options=b.config_options())
