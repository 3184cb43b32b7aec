"""The ACP `Agent`: initialize, authentication, the session lifecycle (new, load,
resume, close, delete, list), modes and config options, over the core's
`AgentManager`. Prompts are in turns.py.

Every method answers in the `acp` package's pydantic models or raises
`acp.RequestError`; core failures keep their stable code and cause.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from acp import PROTOCOL_VERSION, Client
from acp.schema import (
    AgentCapabilities,
    AuthenticateResponse,
    CloseSessionResponse,
    ConfigOptionUpdate,
    CurrentModeUpdate,
    DeleteSessionResponse,
    Implementation,
    InitializeResponse,
    ListSessionsResponse,
    LoadSessionResponse,
    McpCapabilities,
    NewSessionResponse,
    PromptCapabilities,
    ResumeSessionResponse,
    SessionAdditionalDirectoriesCapabilities,
    SessionCapabilities,
    SessionCloseCapabilities,
    SessionDeleteCapabilities,
    SessionInfo,
    SessionListCapabilities,
    SessionResumeCapabilities,
    SetSessionConfigOptionResponse,
    SetSessionModeResponse,
    ToolCallStart,
)

from agy_lsp import __version__
from agy_lsp.acp import auth, commands, editor_tools, inputs, options, turns, updates
from agy_lsp.acp.acp_editor import AcpEditor
from agy_lsp.acp.bindings import Binding
from agy_lsp.protocol.errors import AgyError
from agy_lsp.protocol.ids import parse_session_id
from agy_lsp.protocol.types import Capabilities, ConfigureAgentParams, HookPoint, ModelOptions, RunCommand, Vertex

if TYPE_CHECKING:
    from agy_lsp.agents.manager import AgentManager

log = logging.getLogger(__name__)

PAGE = 50
ACP_HOOKS: list[HookPoint] = ["preToolCall", "onInteraction"]  # what this front-end answers itself (acp_editor.py)


class AgyAcpAgent(turns.Turns):
    manager: AgentManager  # attached once loaded, after `initialize` was answered (server.py)

    def __init__(self, editor: AcpEditor) -> None:
        self.editor = editor
        self.sessions: dict[str, Binding] = {}  # by ACP session id
        self.booleans = False  # the client takes boolean config options
        self._tasks: set[asyncio.Task[None]] = set()

    def attach(self, manager: AgentManager) -> None:
        self.manager = manager

    def on_connect(self, conn: Client) -> None:
        self.editor.outbox.client = conn

    # ------------------------------------------------------------------ initialize

    async def initialize(
        self, protocol_version: int, client_capabilities: Any = None, client_info: Any = None, **kwargs: Any
    ) -> InitializeResponse:
        caps = client_capabilities
        fs = getattr(caps, "fs", None)
        self.editor.fs_read = bool(fs and fs.read_text_file)
        self.editor.fs_write = bool(fs and fs.write_text_file)
        self.editor.terminal = bool(getattr(caps, "terminal", False))
        elicitation = getattr(caps, "elicitation", None)
        self.editor.elicitation = bool(elicitation and elicitation.form is not None)
        session = getattr(caps, "session", None)
        self.booleans = bool(session and session.config_options and session.config_options.boolean is not None)
        return InitializeResponse(
            protocol_version=PROTOCOL_VERSION,
            agent_capabilities=AgentCapabilities(
                load_session=True,
                prompt_capabilities=PromptCapabilities(image=True, audio=True, embedded_context=True),
                mcp_capabilities=McpCapabilities(http=True, sse=False),
                session_capabilities=SessionCapabilities(
                    list=SessionListCapabilities(),
                    resume=SessionResumeCapabilities(),
                    close=SessionCloseCapabilities(),
                    delete=SessionDeleteCapabilities(),
                    additional_directories=SessionAdditionalDirectoriesCapabilities(),
                ),
            ),
            auth_methods=auth.methods(bool((a := getattr(caps, "auth", None)) and a.terminal)),
            agent_info=Implementation(name="agy-lsp", title="Google Antigravity (agy-lsp)", version=__version__),
        )

    async def authenticate(self, method_id: str, **kwargs: Any) -> AuthenticateResponse:
        await auth.check(method_id)
        return AuthenticateResponse()

    # ------------------------------------------------------------------ sessions

    async def new_session(
        self, cwd: str, additional_directories: list[str] | None = None, mcp_servers: list[Any] | None = None, **kwargs: Any
    ) -> NewSessionResponse:
        """Answers without a harness: the first prompt starts one (clients open sessions eagerly)."""
        b = await self._open(None, cwd, additional_directories, mcp_servers, kwargs.get("agy"), start=False)
        return NewSessionResponse(session_id=b.session_id, modes=b.modes(), config_options=b.config_options())

    async def load_session(
        self,
        cwd: str,
        session_id: str,
        mcp_servers: list[Any] | None = None,
        additional_directories: list[str] | None = None,
        **kwargs: Any,
    ) -> LoadSessionResponse:
        session_id = self._id(session_id)
        dirs, agy = additional_directories, kwargs.get("agy")
        b = self.sessions.get(session_id) or await self._open(session_id, cwd, dirs, mcp_servers, agy, start=True)
        replay = b.replay.updates(self._call(self.manager.history, b.agent_id).steps)
        b.tools.reserve([u.tool_call_id for u in replay if isinstance(u, ToolCallStart)])  # live calls get other ids
        for update in replay:
            self.editor.outbox.put(b.session_id, update)
        await self.editor.outbox.flush()
        return LoadSessionResponse(modes=b.modes(), config_options=b.config_options())

    async def resume_session(
        self,
        cwd: str,
        session_id: str,
        additional_directories: list[str] | None = None,
        mcp_servers: list[Any] | None = None,
        **kwargs: Any,
    ) -> ResumeSessionResponse:
        """Reattach without a replay (and without a harness until the next prompt)."""
        session_id = self._id(session_id)
        dirs, agy = additional_directories, kwargs.get("agy")
        b = self.sessions.get(session_id) or await self._open(session_id, cwd, dirs, mcp_servers, agy, start=False)
        return ResumeSessionResponse(modes=b.modes(), config_options=b.config_options())

    async def close_session(self, session_id: str, **kwargs: Any) -> CloseSessionResponse:
        """Ends the session's agent (a running turn is cancelled); it stays stored."""
        b = self._binding(session_id)
        del self.sessions[session_id]
        self.editor.bindings.pop(b.agent_id, None)
        try:
            await self.manager.shutdown_agent(b.agent_id)
        except AgyError as e:
            raise inputs.to_request_error(e) from e
        return CloseSessionResponse()

    async def delete_session(self, session_id: str, **kwargs: Any) -> DeleteSessionResponse:
        """Deletes a stored session (closing it first when it is open here)."""
        session_id = self._id(session_id)
        if session_id in self.sessions:
            await self.close_session(session_id)
        if not self._call(self.manager.sessions.delete, session_id):
            raise inputs.invalid(f"unknown session {session_id!r}", sessionId=session_id)
        return DeleteSessionResponse()

    async def _open(
        self,
        session_id: str | None,
        cwd: str,
        extra_dirs: list[str] | None,
        mcp_servers: list[Any] | None,
        raw: Any,
        *,
        start: bool,
    ) -> Binding:
        """A new session (no id yet: the core gives it one), or the stored one this id
        names, opened by the core (agents/sessions.py)."""
        if not Path(cwd).is_absolute():
            raise inputs.invalid("cwd must be an absolute path", field="cwd")
        agy = inputs.meta(raw)
        spec = agy.spec
        mode = agy.mode or options.DEFAULT_MODE
        if mode not in options.MODE_POLICIES:
            raise inputs.invalid(f"unknown mode {mode!r}", field="_meta.agy.mode", modes=sorted(options.MODE_POLICIES))
        params = msgspec.structs.replace(
            spec,
            backend=spec.backend or self._default_backend(),
            workspaces=[cwd, *(extra_dirs or [])],
            policies=options.MODE_POLICIES[mode],
            tools=[editor_tools.TOOLS[t] for t in self._editor_tools()],
            capabilities=self._capabilities(spec.capabilities, bool(spec.run_command and spec.run_command.sandbox)),
            mcp_servers=inputs.mcp_servers(mcp_servers),  # the client's list is the whole list, on load too
            hooks=[*ACP_HOOKS, *(h for h in spec.hooks if h not in ACP_HOOKS)],
        )
        try:
            if session_id is None:
                session_id, agent_id = await self.manager.sessions.new(params, start=start)
            else:
                agent_id = await self.manager.sessions.open(session_id, params, start=start)
        except AgyError as e:
            raise inputs.to_request_error(e) from e
        if agent_id is None:
            raise inputs.invalid(f"unknown session {session_id!r}", sessionId=session_id)
        b = Binding(session_id, agent_id, cwd, self.manager.backend_of(agent_id), mode=mode, extra_models=agy.models)
        b.model_options, b.run_command, b.booleans = spec.model_options, spec.run_command, self.booleans
        b.client_hooks = frozenset(spec.hooks)
        b.skills = commands.skills_of(spec.skills)
        self.sessions[session_id] = b
        self.editor.bindings[agent_id] = b
        self._spawn(self._introduce(b))
        return b

    def _default_backend(self) -> Any:
        """The server's backend; a Vertex one takes its project and location from the
        environment when it has none (see auth.py)."""
        backend = self.manager.default_backend()
        if isinstance(backend, Vertex) and not (backend.project and backend.location) and (env := auth.vertex_from_env()):
            return msgspec.structs.replace(backend, **env)
        return None

    def _editor_tools(self) -> list[str]:
        e = self.editor
        return [
            t
            for t, on in ((updates.FS_READ_TOOL, e.fs_read), (updates.FS_WRITE_TOOL, e.fs_write), (updates.TERMINAL_TOOL, e.terminal))
            if on
        ]

    def _capabilities(self, given: Capabilities | None, sandbox: bool) -> Capabilities | None:
        """The SDK built-ins our editor tools replace are off; `run_command` stays on in
        the sandbox, which only the harness has."""
        replaced = [n for t in self._editor_tools() for n in editor_tools.REPLACED[t] if not (sandbox and n == "run_command")]
        if not replaced:
            return given
        given = given or Capabilities()
        return msgspec.structs.replace(given, disabled_tools=sorted({*(given.disabled_tools or []), *replaced}))

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _introduce(self, b: Binding) -> None:
        """After the session's answer: its commands, and its model list from the backend
        (a `config_option_update` when that changes the `model` option)."""
        await asyncio.sleep(0.05)  # the client learns the session id first
        self.editor.outbox.put(b.session_id, updates.helpers.update_available_commands(commands.available(b.skills)))
        try:
            listed = [m.id for m in await self.manager.models(b.agent_id)]
        except AgyError:
            return  # closed meanwhile
        before = b.models()
        b.listed_models = listed
        if b.models() != before and b.session_id in self.sessions:
            self.options_changed(b)

    def options_changed(self, b: Binding) -> None:
        self.editor.outbox.put(b.session_id, ConfigOptionUpdate(session_update="config_option_update", config_options=b.config_options()))

    async def list_sessions(self, cwd: str | None = None, cursor: str | None = None, **kwargs: Any) -> ListSessionsResponse:
        try:
            offset = int(cursor or 0)
        except ValueError:
            raise inputs.invalid("cursor is not one we gave out", field="cursor") from None
        listed = self.manager.sessions.listing(cwd, fresh=False)  # stored ones: a new session is listed once it has a turn
        sessions = [
            SessionInfo(
                session_id=m.session_id,
                cwd=m.cwd or str(Path.home()),
                title=m.title or None,
                updated_at=m.updated_iso(),
            )
            for m in listed[offset : offset + PAGE]
        ]
        more = offset + PAGE < len(listed)
        return ListSessionsResponse(sessions=sessions, next_cursor=str(offset + PAGE) if more else None)

    def _id(self, session_id: Any) -> str:
        """A session id from the client, checked before anything is looked up by it."""
        return self._call(parse_session_id, session_id, "sessionId")

    def _binding(self, session_id: str) -> Binding:
        b = self.sessions.get(self._id(session_id))
        if b is None:
            raise inputs.invalid(f"unknown session {session_id!r}; create it with session/new or session/load", sessionId=session_id)
        return b

    def _call(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except AgyError as e:
            raise inputs.to_request_error(e) from e

    # ------------------------------------------------------------------ modes and options

    async def set_session_mode(self, mode_id: str, session_id: str, **kwargs: Any) -> SetSessionModeResponse:
        b = self._binding(session_id)
        self._set_mode(b, mode_id, "modeId")
        self.options_changed(b)  # the `mode` option changed with it
        return SetSessionModeResponse()

    def _set_mode(self, b: Binding, mode_id: str, field: str) -> None:
        if mode_id not in options.MODE_POLICIES:
            raise inputs.invalid(f"unknown mode {mode_id!r}", field=field, modes=sorted(options.MODE_POLICIES))
        self._call(self.manager.set_policies, b.agent_id, options.MODE_POLICIES[mode_id])
        b.mode = mode_id

    async def set_config_option(self, config_id: str, session_id: str, value: str | bool, **kwargs: Any) -> SetSessionConfigOptionResponse:
        b = self._binding(session_id)
        if config_id == "model":
            await self._set_model(b, value)
        elif config_id == "mode" and isinstance(value, str):
            self._set_mode(b, value, "value")
            self.editor.outbox.put(b.session_id, CurrentModeUpdate(session_update="current_mode_update", current_mode_id=value))
        elif config_id == "thought_level" and isinstance(value, str) and value in options.THOUGHT_LEVELS:
            level: Any = None if value == "default" else value
            wanted = msgspec.structs.replace(b.model_options or ModelOptions(), thinking_level=level)
            await self._configure(b, ConfigureAgentParams(agent_id=b.agent_id, model_options=wanted))
            b.model_options = wanted
        elif config_id == "sandbox" and (on := options.sandbox_value(value)) is not None:
            wanted = msgspec.structs.replace(b.run_command or RunCommand(), sandbox=on)
            caps = self._capabilities(None, on)
            await self._configure(b, ConfigureAgentParams(agent_id=b.agent_id, run_command=wanted, capabilities=caps or Capabilities()))
            b.run_command, b.sandbox_note = wanted, None
        else:
            known = [o.id for o in b.config_options()]
            raise inputs.invalid(f"unknown config option {config_id!r} or value {value!r}", field="configId", options=known)
        return SetSessionConfigOptionResponse(config_options=b.config_options())

    async def _set_model(self, b: Binding, value: str | bool) -> None:
        if not isinstance(value, str) or value not in b.models():
            raise inputs.invalid(f"unknown model {value!r}", field="value", models=b.models())
        try:
            backend = b.with_model(value)
        except ValueError as e:
            raise inputs.invalid(str(e), field="value") from e
        if backend != b.backend:
            await self._configure(b, ConfigureAgentParams(agent_id=b.agent_id, backend=backend))
            b.backend = backend

    async def _configure(self, b: Binding, params: ConfigureAgentParams) -> None:
        try:
            await self.manager.configure(params)
        except AgyError as e:
            raise inputs.to_request_error(e) from e
