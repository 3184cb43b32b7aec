"""`python -m agy_lsp --mcp` as a subprocess, driven by the official MCP Python client
(`mcp.ClientSession` over `mcp.stdio_client`), on the real SDK and its localharness.
Every test runs on both transports: stdio, and Streamable HTTP (`--mcp --http
127.0.0.1:0`, the client's `streamable_http_client` with the bearer token).

Only the model is scripted, the way a real host would point the server at any
OpenAI-compatible endpoint: one scripted model server runs in the test process,
each test registers its script there, and the server gets
`AGY_BACKEND=openai AGY_BASE_URL=<that script's URL>` in its environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
import pytest_asyncio
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client import stdio
from mcp.client.session import ClientRequestContext
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from agy_lsp.backends.scripted import ScriptedModel, ScriptState, parse_script
from tests.helpers import harness_children, pid_alive

Elicit = Callable[[types.ElicitRequestParams], Awaitable[types.ElicitResult]]
SHUTDOWN_GRACE = 20.0  # how long the client waits for the server to exit by itself after stdin closes
TRANSPORTS = ["stdio", "http"]


def allow(decision: str = "allow_once") -> Elicit:
    async def answer(params: types.ElicitRequestParams) -> types.ElicitResult:
        return types.ElicitResult(action="accept", content={"decision": decision})

    return answer


def decline() -> Elicit:
    async def answer(params: types.ElicitRequestParams) -> types.ElicitResult:
        return types.ElicitResult(action="decline")

    return answer


class Host:
    """The MCP host side of one server: its session, what it was sent, what it asked."""

    def __init__(self, script: ScriptState, workdir: str, transport: str = "stdio") -> None:
        self.script = script
        self.workdir = workdir
        self.transport = transport
        self.url = ""  # over HTTP: the server's endpoint
        self.token = ""  # over HTTP: its bearer token
        self.found: Callable[[], None] = lambda: None  # sets `pid` once the server answered
        self.session: ClientSession
        self.init: types.InitializeResult
        self.pid = 0
        self.notifications: list[Any] = []
        self.elicitations: list[types.ElicitRequestParams] = []
        self.on_elicit: Elicit = allow()
        self.changed = asyncio.Event()

    async def elicit(self, context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.elicitations.append(params)
        return await self.on_elicit(params)

    async def message(self, message: Any) -> None:
        self.notifications.append(message)
        self.changed.set()

    def notified(self, kind: type) -> list[Any]:
        return [n for n in self.notifications if isinstance(n, kind)]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 15) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    async def call(self, tool: str, args: dict[str, Any], **kwargs: Any) -> types.CallToolResult:
        return await self.session.call_tool(tool, args, **kwargs)

    async def run(self, prompt: str, **args: Any) -> dict[str, Any]:
        """agy_run that must succeed: its structured content."""
        return ok(await self.call("agy_run", {"prompt": prompt, **args}))

    async def reply(self, session_id: str, prompt: str) -> dict[str, Any]:
        return ok(await self.call("agy_reply", {"sessionId": session_id, "prompt": prompt}))


def ok(result: types.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.structured_content
    assert result.structured_content is not None
    return result.structured_content


def failed(result: types.CallToolResult) -> dict[str, Any]:
    """An isError result: its agy error ({code, message, data})."""
    assert result.is_error, result.structured_content
    assert result.structured_content is not None
    return result.structured_content["error"]


def _children_running(module_flag: str) -> set[int]:
    """This process's children whose command line has `module_flag`."""
    me, found = os.getpid(), set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == me and module_flag.encode() in cmdline:
            found.add(int(entry.name))
    return found


@pytest.fixture(scope="session", autouse=True)
def _grace() -> Any:
    """The client kills the server's whole process tree when it does not exit within the
    grace period, which would hide a leaked harness: give it time to exit by itself."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stdio, "PROCESS_TERMINATION_TIMEOUT", SHUTDOWN_GRACE)
        yield


@pytest.fixture(scope="session")
def model() -> Any:
    server = ScriptedModel()
    yield server
    server.close()


@asynccontextmanager
async def serve(
    model: ScriptedModel,
    root: Path,
    script: tuple[str, ScriptState],
    *,
    elicit: bool = True,
    gemini: bool = False,
    modern: bool = False,
    env: dict[str, str] | None = None,
    transport: str = "stdio",
) -> AsyncIterator[Host]:
    """One server process on the script (state and logs under `root`), a session on it,
    and the checks that it ends cleanly: it exits by itself when its stdin closes,
    and leaves no localharness behind.

    `gemini`: the server's default backend is Gemini (the scripted model's Gemini
    dialect, the script chosen by model name), else an OpenAI-compatible one.
    `modern`: the host speaks MCP 2026-07-28 (`server/discover`, no handshake)."""
    url, state = script
    name = url.rsplit("/s/", 1)[1].split("/", 1)[0]
    backend = {"AGY_BACKEND": "openai", "AGY_BASE_URL": url, "AGY_MODEL": "scripted", "GEMINI_API_KEY": ""}
    if gemini:
        backend = {"AGY_BACKEND": "gemini", "AGY_MODEL": name, "GOOGLE_GEMINI_BASE_URL": model.gemini_base_url}
        backend["GEMINI_API_KEY"] = "scripted-not-a-key"
    workdir = root / "work"
    workdir.mkdir(exist_ok=True)
    server_env = {
        **os.environ,
        "AGY_STATE_DIR": str(root / "state"),
        "AGY_PACING_MS": "0",
        "AGY_CONFIRM_TIMEOUT_SECS": "20",
        "GOOGLE_API_KEY": "",
        **backend,
        **(env or {}),
    }
    host = Host(state, str(workdir), transport)
    connect = _stdio if transport == "stdio" else _http
    async with connect(host, server_env, root) as (read, write):
        session = ClientSession(read, write, elicitation_callback=host.elicit if elicit else None, message_handler=host.message)
        async with session:
            host.session = session
            if modern:
                await session.discover()
            else:
                host.init = await session.initialize()
            host.found()
            yield host
            ours = harness_children(host.pid)
        stopping = time.monotonic()
    assert time.monotonic() - stopping < SHUTDOWN_GRACE - 2, "the server did not exit by itself when its stdin closed"
    assert not pid_alive(host.pid)
    assert not [pid for pid in ours if pid_alive(pid)], "the server left localharness processes behind"


@asynccontextmanager
async def _stdio(host: Host, env: dict[str, str], root: Path) -> AsyncIterator[Any]:
    """The server on stdio; it exits by itself when its stdin closes."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "agy_lsp", "--mcp"], env=env, cwd=host.workdir)
    before = _children_running("--mcp")
    with open(root / "server.log", "a") as log:
        async with stdio_client(params, errlog=log) as streams:

            def find() -> None:  # once it answered: before its exec the child still looks like us
                (host.pid,) = _children_running("--mcp") - before

            host.found = find
            yield streams


def _spawn(argv: list[str], env: dict[str, str], cwd: str, log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        return subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)


async def http_server(env: dict[str, str], root: Path, cwd: str, *args: str) -> tuple[subprocess.Popen[bytes], str]:
    """`agy-lsp --mcp --http 127.0.0.1:0 ARGS` and its endpoint (the server prints it)."""
    log_path = root / f"server-{secrets.token_hex(4)}.log"
    proc = _spawn([sys.executable, "-m", "agy_lsp", "--mcp", "--http", "127.0.0.1:0", *args], env, cwd, log_path)
    async with asyncio.timeout(30):
        while "serving MCP on " not in (text := log_path.read_text(errors="replace")):
            assert proc.poll() is None, f"the HTTP server exited: {text}"
            await asyncio.sleep(0.05)
    return proc, text.split("serving MCP on ", 1)[1].split()[0]


async def stop_http(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as a service manager stops it; it must be gone within the grace."""
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    async with asyncio.timeout(SHUTDOWN_GRACE - 3):
        while proc.poll() is None:
            await asyncio.sleep(0.05)


@asynccontextmanager
async def _http(host: Host, env: dict[str, str], root: Path) -> AsyncIterator[Any]:
    """The server on HTTP with the test's token (a second server in the test has the
    same: its sessions are the same client's); the host disconnects (DELETE), then the
    server is stopped with SIGTERM."""
    token_file = root / "http-token"
    if not token_file.exists():
        token_file.write_text(secrets.token_urlsafe(24))
    host.token = token_file.read_text()
    proc, host.url = await http_server({**env, "AGY_TOKEN": host.token}, root, host.workdir)
    host.pid = proc.pid
    try:
        async with create_mcp_http_client(headers={"Authorization": f"Bearer {host.token}"}) as client:
            async with streamable_http_client(host.url, http_client=client) as streams:
                yield streams
    finally:
        await stop_http(proc)


def _register(model: ScriptedModel) -> tuple[str, ScriptState]:
    return model.register(parse_script({"fallback": "echo"}), name=f"mcp-{uuid.uuid4().hex[:8]}")


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def start(model: ScriptedModel, tmp_path: Path, transport: str) -> Callable[..., Any]:
    """`async with start(*replies, elicit=True, gemini=False, modern=False, env={}) as host:`
    runs a server of the test's own. The replies join the test's script: a second
    server in the test goes on with it (a stored session keeps the URL it was made with)."""
    script = _register(model)

    @asynccontextmanager
    async def run(*replies: dict[str, Any], **options: Any) -> AsyncIterator[Host]:
        script[1].extend(parse_script({"replies": list(replies)}).replies)
        async with serve(model, tmp_path, script, transport=transport, **options) as host:
            yield host

    return run


@pytest_asyncio.fixture(scope="package", loop_scope="package", params=TRANSPORTS)
async def shared(model: ScriptedModel, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> AsyncIterator[Host]:
    """One server for the tests that need nothing of their own (it saves a server's and
    a harness's start-up each). Its contexts live in a task of their own: anyio's
    scopes must be left by the task that entered them."""
    ready: asyncio.Future[Host] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()

    async def hold() -> None:
        try:
            async with serve(model, tmp_path_factory.mktemp("shared"), _register(model), transport=request.param) as host:
                ready.set_result(host)
                await stop.wait()
        except BaseException as e:
            if not ready.done():
                ready.set_exception(e)
            raise

    task = asyncio.create_task(hold())
    yield await ready
    stop.set()
    await task


@pytest_asyncio.fixture(loop_scope="package")
async def host(shared: Host) -> Host:
    """The shared server, with a fresh script (what a failed test left is dropped),
    elicitations answered "allow once", nothing recorded yet."""
    state = shared.script
    state.drop_left()
    shared.on_elicit = allow()
    shared.elicitations.clear()
    shared.notifications.clear()
    return shared


def replies(host: Host, *more: dict[str, Any]) -> None:
    """The model's next replies on this host's script (after them: echo)."""
    host.script.extend(parse_script({"replies": list(more)}).replies)
