"""`python -m agy_lsp --acp` as a subprocess, driven by the official ACP client
(`acp.spawn_agent_process`). Every message the server sends is validated against
the ACP JSON Schema, which the package ships as its generated pydantic models
(`acp.schema`, from schema.json v1.19): we ask pydantic for each model's JSON
Schema and check the raw JSON with `jsonschema`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

import jsonschema
import pytest
from acp import PROTOCOL_VERSION, spawn_agent_process
from acp import schema as s
from acp.client.connection import ClientSideConnection
from acp.connection import StreamDirection, StreamEvent

from tests.helpers import harness_children, pid_alive

# Server -> client requests and notifications, by method.
_PARAMS = {
    "session/update": s.SessionNotification,
    "session/request_permission": s.RequestPermissionRequest,
    "fs/read_text_file": s.ReadTextFileRequest,
    "fs/write_text_file": s.WriteTextFileRequest,
    "terminal/create": s.CreateTerminalRequest,
    "terminal/output": s.TerminalOutputRequest,
    "terminal/wait_for_exit": s.WaitForTerminalExitRequest,
    "terminal/release": s.ReleaseTerminalRequest,
    "terminal/kill": s.KillTerminalRequest,
    "elicitation/create": s.CreateFormSessionElicitationRequest,
}
# Results of our requests, by method.
_RESULTS = {
    "initialize": s.InitializeResponse,
    "session/new": s.NewSessionResponse,
    "session/load": s.LoadSessionResponse,
    "session/list": s.ListSessionsResponse,
    "session/prompt": s.PromptResponse,
    "session/set_mode": s.SetSessionModeResponse,
    "session/set_config_option": s.SetSessionConfigOptionResponse,
    "session/resume": s.ResumeSessionResponse,
    "session/close": s.CloseSessionResponse,
    "session/delete": s.DeleteSessionResponse,
    "authenticate": s.AuthenticateResponse,
}
_ERROR = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
}


@cache
def _validator(model: Any) -> jsonschema.protocols.Validator:
    schema = model.model_json_schema(by_alias=True)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


class SchemaCheck:
    """A connection observer: validates every incoming message, collects failures."""

    def __init__(self) -> None:
        self.sent_methods: dict[Any, str] = {}
        self.errors: list[str] = []
        self.count = 0

    def __call__(self, event: StreamEvent) -> None:
        msg = event.message
        if event.direction == StreamDirection.OUTGOING:
            if "method" in msg and "id" in msg:
                self.sent_methods[msg["id"]] = msg["method"]
            return
        self.count += 1
        try:
            self._check(msg)
        except jsonschema.ValidationError as e:
            self.errors.append(f"{msg.get('method') or self.sent_methods.get(msg.get('id'))}: {e.message} in {msg}")

    def _check(self, msg: dict[str, Any]) -> None:
        assert msg.get("jsonrpc") == "2.0", msg
        if "method" in msg:
            if msg["method"].startswith("_"):  # an extension (ACP allows any `_`-prefixed method)
                assert isinstance(msg.get("params", {}), dict), msg
                return
            model = _PARAMS.get(msg["method"])
            if model is None:
                self.errors.append(f"unexpected method from the server: {msg['method']}")
            else:
                _validator(model).validate(msg.get("params"))
            return
        if "error" in msg:
            jsonschema.validate(msg["error"], _ERROR)
            return
        method = self.sent_methods.get(msg.get("id"))
        model = _RESULTS.get(method or "")
        if model is not None:
            _validator(model).validate(msg.get("result") or {})
        elif not (method or "").startswith("_"):  # every response of ours has its schema
            self.errors.append(f"a response to {method!r} that no schema checks")


PermissionHandler = Callable[[str, s.ToolCallUpdate, list[s.PermissionOption]], Awaitable[s.RequestPermissionResponse]]


def choose(option_id: str) -> s.RequestPermissionResponse:
    return s.RequestPermissionResponse(outcome=s.AllowedOutcome(outcome="selected", option_id=option_id))


class RecordingClient:
    """The editor side: records updates, answers permission and fs requests."""

    def __init__(self) -> None:
        self.updates: dict[str, list[Any]] = defaultdict(list)
        self.permissions: list[tuple[str, s.ToolCallUpdate, list[s.PermissionOption]]] = []
        self.on_permission: PermissionHandler | None = None
        self.files: dict[str, str] = {}
        self.reads: list[str] = []
        self.changed = asyncio.Event()
        self.extensions: list[tuple[str, dict[str, Any]]] = []
        self.elicitations: list[tuple[str, Any]] = []
        self.on_elicitation: Callable[[str, Any], s.CreateElicitationResponse] | None = None
        self.hook_answers: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self.terminals: dict[str, Any] = {}

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.extensions.append((method, params))
        self.changed.set()
        return self.hook_answers(params) if self.hook_answers else {}

    async def create_elicitation(self, message: str, mode: Any = None, **kwargs: Any) -> Any:
        self.elicitations.append((message, mode))
        self.changed.set()
        return self.on_elicitation(message, mode) if self.on_elicitation else s.DeclineElicitationResponse(action="decline")

    async def create_terminal(self, session_id: str, command: str, args: list[str] | None = None, cwd: str | None = None, **kwargs: Any):
        proc = await asyncio.create_subprocess_exec(
            command, *(args or []), cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        terminal_id = f"term-{len(self.terminals) + 1}"
        self.terminals[terminal_id] = {"proc": proc, "command": [command, *(args or [])], "released": False}
        return s.CreateTerminalResponse(terminal_id=terminal_id)

    async def wait_for_terminal_exit(self, session_id: str, terminal_id: str, **kwargs: Any):
        term = self.terminals[terminal_id]
        term["output"] = (await term["proc"].stdout.read()).decode()
        return s.WaitForTerminalExitResponse(exit_code=await term["proc"].wait())

    async def terminal_output(self, session_id: str, terminal_id: str, **kwargs: Any):
        term = self.terminals[terminal_id]
        status = s.TerminalExitStatus(exit_code=term["proc"].returncode)
        return s.TerminalOutputResponse(output=term.get("output", ""), truncated=False, exit_status=status)

    async def release_terminal(self, session_id: str, terminal_id: str, **kwargs: Any):
        self.terminals[terminal_id]["released"] = True
        return s.ReleaseTerminalResponse()

    async def kill_terminal(self, session_id: str, terminal_id: str, **kwargs: Any):
        self.terminals[terminal_id]["proc"].kill()
        return s.KillTerminalResponse()

    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        self.extensions.append((method, params))
        self.changed.set()

    def states(self, session_id: str) -> list[str]:
        return [p["state"] for m, p in self.extensions if m == "agy/agentState" and p["sessionId"] == session_id]

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates[session_id].append(update)
        self.changed.set()

    async def request_permission(
        self, session_id: str, tool_call: s.ToolCallUpdate, options: list[s.PermissionOption], **kwargs: Any
    ) -> s.RequestPermissionResponse:
        self.permissions.append((session_id, tool_call, options))
        self.changed.set()
        if self.on_permission is None:
            return choose("allow_once")
        return await self.on_permission(session_id, tool_call, options)

    async def read_text_file(self, session_id: str, path: str, line: int | None = None, limit: int | None = None, **kwargs: Any):
        self.reads.append(path)
        return s.ReadTextFileResponse(content=self.files[path])

    async def write_text_file(self, session_id: str, path: str, content: str, **kwargs: Any):
        self.files[path] = content
        return s.WriteTextFileResponse()

    def text(self, session_id: str) -> str:
        return "".join(u.content.text for u in self.updates[session_id] if isinstance(u, s.AgentMessageChunk))

    def of(self, session_id: str, kind: type) -> list[Any]:
        return [u for u in self.updates[session_id] if isinstance(u, kind)]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 15) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()


def scripted(*replies: dict[str, Any]) -> dict[str, Any]:
    """`session/new` `_meta` that scripts this session's model."""
    return {"agy": {"backend": {"type": "scripted", "script": {"replies": list(replies)}}}}


class Server:
    def __init__(self, conn: ClientSideConnection, client: RecordingClient, check: SchemaCheck, init: s.InitializeResponse) -> None:
        self.conn, self.client, self.check, self.init = conn, client, check, init
        self.pid = 0  # the server process

    async def new(self, *replies: dict[str, Any], cwd: str | None = None, mcp_servers: list[Any] | None = None, **agy: Any) -> str:
        meta = scripted(*replies)
        meta["agy"].update(agy)
        created = await self.conn.new_session(cwd=cwd or tempfile.gettempdir(), mcp_servers=mcp_servers or [], **meta)
        return created.session_id

    async def raw(self, method: str, params: Any) -> Any:
        return await self.conn._conn.send_request(method, params)  # pyright: ignore[reportPrivateUsage]


def _log_file(state_dir: str) -> Any:
    return open(os.path.join(state_dir, "server.log"), "ab")


def exists(path: str) -> bool:
    return os.path.exists(path)


@pytest.fixture
def state_dir() -> Any:
    path = tempfile.mkdtemp(prefix="agy-acp-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def start(state_dir: str) -> Callable[..., Any]:
    """`async with start(fs=False, env=None) as server:` runs one server process."""

    @asynccontextmanager
    async def run(fs: bool = False, env: dict[str, str] | None = None, caps: dict[str, Any] | None = None) -> AsyncIterator[Server]:
        extra = env or {}
        env = {
            **os.environ,
            "AGY_STATE_DIR": state_dir,
            "AGY_PACING_MS": "0",
            "AGY_CONFIRM_TIMEOUT_SECS": "20",
            "AGY_BACKEND": "",
            "GEMINI_API_KEY": "",
            "GOOGLE_API_KEY": "",
            **extra,
        }
        client, check = RecordingClient(), SchemaCheck()
        with _log_file(state_dir) as log:
            async with spawn_agent_process(
                client,
                sys.executable,
                "-m",
                "agy_lsp",
                "--acp",
                env=env,
                transport_kwargs={"stderr": log, "shutdown_timeout": 20.0},
                observers=[check],
                use_unstable_protocol=True,  # elicitation/create, session/resume and session/close
            ) as (conn, process):
                capabilities = s.ClientCapabilities(fs=s.FileSystemCapabilities(read_text_file=fs, write_text_file=fs), **(caps or {}))
                init = await conn.initialize(protocol_version=PROTOCOL_VERSION, client_capabilities=capabilities)
                server = Server(conn, client, check, init)
                server.pid = process.pid
                yield server
                ours = harness_children(process.pid)
        assert process.returncode == 0, f"server exit code {process.returncode}"
        assert not [pid for pid in ours if pid_alive(pid)], "the server left localharness processes behind"
        assert check.errors == [], check.errors
        assert check.count > 0

    return run
