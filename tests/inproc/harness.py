"""The three front-ends in-process, on the fake SDK, fed through their real stdio.

The server under test is the one `agy-lsp` runs (`build_server(...).serve()`,
`run_acp`, `run_mcp`), with only its SDK replaced by tests/core/fake_sdk.py. Its
stdin and stdout are OS pipes of this process: fds 0 and 1 (and `sys.stdin` /
`sys.stdout`) point at them while it serves, so every byte a test writes goes
through the same framing and inbound checks as an editor's, and every frame it
reads is what an editor would get. A whole session takes milliseconds.

    async with lsp(state_dir) as wire:      # or acp(...), mcp(...)
        answer = await wire.request("agy/createAgent", {})
        wire.sdk                            # the FakeSdk (script turns, inspect harnesses)

A second `async with` on the same `state_dir` and `sdk` is a restart: the stored
sessions are on disk, the fake conversations in the FakeSdk.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import io
import itertools
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import msgspec

from agy_lsp.settings import Settings
from tests.core.conftest import BACKEND
from tests.core.fake_sdk import FakeSdk

TIMEOUT_SECS = 5.0
_F_SETPIPE_SZ = 1031  # Linux: the LSP server writes fd 1 blocking; room for a whole session's frames
Message = dict[str, Any]
ServerRequestHandler = Callable[[Message], Awaitable[Any]]
Session = contextlib.AbstractAsyncContextManager["Wire"]


def settings(state_dir: Path, **overrides: Any) -> Settings:
    wire = {"stateDir": str(state_dir), "pacingMs": 0, "chatTimeoutSecs": 10, "backend": msgspec.to_builtins(BACKEND)}
    return msgspec.convert({**wire, **overrides}, Settings, from_attributes=True)


# ---------------------------------------------------------------------------- stdio


class _Stdio:
    """fds 0 and 1 on fresh pipes while a server serves; the client's ends as asyncio streams."""

    def __init__(self) -> None:
        self.saved: tuple[int, int] | None = None
        self.sys_streams: tuple[Any, Any] = (sys.stdin, sys.stdout)
        self.client_out: int = -1  # writes reach the server's stdin
        self.client_in: int = -1  # reads the server's stdout
        self.wrappers: tuple[io.TextIOWrapper, io.TextIOWrapper] | None = None

    def claim(self) -> None:
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        with contextlib.suppress(OSError):
            fcntl.fcntl(out_w, _F_SETPIPE_SZ, 1 << 20)
        self.saved = (os.dup(0), os.dup(1))
        os.dup2(in_r, 0)
        os.dup2(out_w, 1)
        os.close(in_r)
        os.close(out_w)
        self.client_out, self.client_in = in_w, out_r
        # Kept here too: the LSP server drops sys.stdout (stdout_binary), and a collected
        # wrapper closes the buffer it still writes through.
        self.wrappers = (io.TextIOWrapper(open(0, "rb", closefd=False)), io.TextIOWrapper(open(1, "wb", closefd=False)))
        sys.stdin, sys.stdout = self.wrappers

    def release(self) -> None:
        sys.stdin, sys.stdout = self.sys_streams
        if self.saved is not None:
            os.dup2(self.saved[0], 0)
            os.dup2(self.saved[1], 1)
            for fd in self.saved:
                os.close(fd)
            self.saved = None


# ---------------------------------------------------------------------------- framing


class Framing:
    def encode(self, message: Any) -> bytes:
        raise NotImplementedError

    async def read(self, reader: asyncio.StreamReader) -> bytes | None:
        raise NotImplementedError


class ContentLength(Framing):
    """LSP: `Content-Length: n\\r\\n\\r\\n` and n bytes."""

    def encode(self, message: Any) -> bytes:
        body = message if isinstance(message, bytes) else json.dumps(message).encode()
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    async def read(self, reader: asyncio.StreamReader) -> bytes | None:
        length = None
        try:
            while True:
                line = (await reader.readuntil(b"\n")).strip()
                if not line:
                    if length is not None:
                        return await reader.readexactly(length)
                    continue
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
        except asyncio.IncompleteReadError:
            return None


class Lines(Framing):
    """ACP and MCP: one JSON message per line."""

    def encode(self, message: Any) -> bytes:
        body = message if isinstance(message, bytes) else json.dumps(message).encode()
        return body + b"\n"

    async def read(self, reader: asyncio.StreamReader) -> bytes | None:
        line = await reader.readline()
        return line or None


# ---------------------------------------------------------------------------- the client


class Wire:
    """A JSON-RPC client on the server's stdio: requests by id, notifications kept in
    order, the server's own requests answered by `on_request` (default: null)."""

    def __init__(self, framing: Framing, sdk: FakeSdk, state_dir: Path) -> None:
        self.framing = framing
        self.sdk = sdk
        self.state_dir = state_dir
        self.notifications: list[Message] = []
        self.server_requests: list[Message] = []
        self.stray: list[Message] = []  # answers to no request of ours (id null: malformed input)
        self.on_request: dict[str, ServerRequestHandler] = {}
        self._ids = itertools.count(1)
        self._pending: dict[Any, asyncio.Future[Message]] = {}
        self._arrived = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self.served: asyncio.Task[Any] | None = None  # the server's main coroutine

    # ------------------------------------------------------------------ writing

    async def send_bytes(self, data: bytes) -> None:
        assert self._writer is not None
        self._writer.write(data)
        await self._writer.drain()

    async def send(self, message: Any) -> None:
        """One message (a dict, or raw bytes as the body), framed."""
        await self.send_bytes(self.framing.encode(message))

    async def request(self, method: str, params: Any = None, *, raw_id: Any = None) -> Message:
        """The whole answer (`result` or `error`) to one request."""
        msg_id = next(self._ids) if raw_id is None else raw_id
        future = self._pending[msg_id] = asyncio.get_running_loop().create_future()
        message: Message = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)
        return await self._answer_to(future)

    async def _answer_to(self, future: asyncio.Future[Message]) -> Message:
        """The answer, or the server's own failure if it stopped before answering."""
        assert self.served is not None
        with anyio.fail_after(TIMEOUT_SECS):
            await asyncio.wait({future, self.served}, return_when=asyncio.FIRST_COMPLETED)
        if not future.done():
            raise AssertionError(f"the server stopped without answering: {self.served!r}")
        return future.result()

    async def result(self, method: str, params: Any = None) -> Any:
        answer = await self.request(method, params)
        assert "error" not in answer, f"{method}: {answer['error']}"
        return answer["result"]

    async def error(self, method: str, params: Any = None) -> Message:
        answer = await self.request(method, params)
        assert "error" in answer, f"{method} answered {answer.get('result')!r}, expected an error"
        return answer["error"]

    async def notify(self, method: str, params: Any = None) -> None:
        message: Message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)

    async def raw_answers(self, body: bytes, count: int = 1) -> list[Message]:
        """Send one raw body; the next `count` answers with a null id (malformed input
        has no id the server can read)."""
        start = len(self.stray)
        await self.send(body)
        await self.wait_for(lambda: len(self.stray) >= start + count)
        return self.stray[start:]

    async def wait_for(self, predicate: Callable[[], Any], within: float = TIMEOUT_SECS) -> None:
        with anyio.fail_after(within):
            while not predicate():
                assert self.served is None or not self.served.done(), f"the server stopped: {self.served!r}"
                self._arrived.clear()
                arrived = asyncio.ensure_future(self._arrived.wait())
                try:
                    await asyncio.wait({arrived} if self.served is None else {arrived, self.served}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    arrived.cancel()

    def notified(self, method: str) -> list[Any]:
        return [n.get("params") for n in self.notifications if n["method"] == method]

    # ------------------------------------------------------------------ reading

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while (body := await self.framing.read(reader)) is not None:
            message: Any = json.loads(body)
            if not isinstance(message, dict):
                raise AssertionError(f"the server sent a non-object: {body[:200]!r}")
            self._take(message)  # pyright: ignore[reportUnknownArgumentType]
            self._arrived.set()

    def _take(self, message: Message) -> None:
        if "method" in message and "id" in message:
            self.server_requests.append(message)
            asyncio.get_running_loop().create_task(self._answer(message))
        elif "method" in message:
            self.notifications.append(message)
        elif message.get("id") in self._pending:
            future = self._pending.pop(message["id"])
            if not future.done():
                future.set_result(message)
        else:
            self.stray.append(message)

    async def _answer(self, request: Message) -> None:
        handler = self.on_request.get(request["method"])
        result = None if handler is None else await handler(request.get("params"))
        await self.send({"jsonrpc": "2.0", "id": request["id"], "result": result})


# ---------------------------------------------------------------------------- running a front-end


@contextlib.asynccontextmanager
async def _running(
    framing: Framing,
    serve: Callable[[Callable[[], FakeSdk]], Awaitable[Any]],
    state_dir: Path,
    sdk: FakeSdk | None,
    hang_up: Callable[[Wire], Awaitable[None]],
) -> AsyncIterator[Wire]:
    stdio = _Stdio()
    loop = asyncio.get_running_loop()
    try:
        with anyio.fail_after(TIMEOUT_SECS * 2):
            async with anyio.create_task_group() as tg:
                fake = sdk if sdk is not None else FakeSdk(tg)
                fake.tg = tg  # a restart's harnesses run in this server's task group
                stdio.claim()
                wire = Wire(framing, fake, state_dir)
                out_transport, out_protocol = await loop.connect_write_pipe(
                    asyncio.streams.FlowControlMixin, open(stdio.client_out, "wb", buffering=0)
                )
                wire._writer = asyncio.StreamWriter(out_transport, out_protocol, None, loop)  # pyright: ignore[reportPrivateUsage]
                reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
                in_transport, _ = await loop.connect_read_pipe(
                    lambda: asyncio.StreamReaderProtocol(reader), open(stdio.client_in, "rb", buffering=0)
                )
                served = loop.create_task(serve(lambda: fake))
                wire.served = served
                read = loop.create_task(wire._read(reader))  # pyright: ignore[reportPrivateUsage]
                try:
                    yield wire
                    await hang_up(wire)
                    out_transport.close()  # EOF on the server's stdin
                    with anyio.fail_after(TIMEOUT_SECS):
                        code = await served
                    assert code == 0, f"the server exited with {code}"
                finally:
                    for task in (served, read):
                        task.cancel()
                        with contextlib.suppress(BaseException):
                            await task
                    out_transport.close()
                    in_transport.close()
                    stdio.release()
                tg.cancel_scope.cancel()
    except Exception as group:  # a failed assertion, not wrapped in the task group's ExceptionGroup
        inner = getattr(group, "exceptions", ())
        if len(inner) == 1:
            raise inner[0] from None
        raise
    finally:
        stdio.release()
    assert not fake.callback_errors, fake.callback_errors


async def _no_goodbye(_: Wire) -> None:
    return None


def lsp(state_dir: Path, sdk: FakeSdk | None = None, *, initialize: bool = True, **overrides: Any) -> Session:
    """The LSP server; `initialize` and `initialized` done unless initialize=False.
    It ends with `shutdown` and `exit`, as an editor ends it."""
    from agy_lsp.lsp.server import build_server

    async def serve(factory: Callable[[], FakeSdk]) -> int:
        return await build_server(settings(state_dir, **overrides), sdk=factory).serve()  # pyright: ignore[reportArgumentType]

    async def goodbye(wire: Wire) -> None:
        await wire.result("shutdown")
        await wire.notify("exit")

    @contextlib.asynccontextmanager
    async def session() -> AsyncIterator[Wire]:
        async with _running(ContentLength(), serve, state_dir, sdk, goodbye) as wire:
            if initialize:
                await wire.result("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
                await wire.notify("initialized", {})
            yield wire

    return session()


def acp(state_dir: Path, sdk: FakeSdk | None = None, *, initialize: bool = True, **overrides: Any) -> Session:
    """The ACP agent; `initialize` done unless initialize=False. It ends at EOF."""
    from agy_lsp.acp.server import run_acp

    async def serve(factory: Callable[[], FakeSdk]) -> int:
        return await run_acp(settings(state_dir, **overrides), sdk=factory)  # pyright: ignore[reportArgumentType]

    @contextlib.asynccontextmanager
    async def session() -> AsyncIterator[Wire]:
        async with _running(Lines(), serve, state_dir, sdk, _no_goodbye) as wire:
            if initialize:
                await wire.result("initialize", {"protocolVersion": 1, "clientCapabilities": {}})
            yield wire

    return session()


def mcp(state_dir: Path, sdk: FakeSdk | None = None, *, initialize: bool = True, **overrides: Any) -> Session:
    """The MCP server; `initialize` and `notifications/initialized` done unless
    initialize=False. It ends at EOF."""
    from agy_lsp.mcp.server import run_mcp

    async def serve(factory: Callable[[], FakeSdk]) -> int:
        return await run_mcp(settings(state_dir, **overrides), sdk=factory)  # pyright: ignore[reportArgumentType]

    @contextlib.asynccontextmanager
    async def session() -> AsyncIterator[Wire]:
        async with _running(Lines(), serve, state_dir, sdk, _no_goodbye) as wire:
            if initialize:
                await wire.result(
                    "initialize",
                    {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "inproc", "version": "0"}},
                )
                await wire.notify("notifications/initialized")
            yield wire

    return session()


def files_under(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under `root`: (size, mtime_ns), to prove nothing outside the state dir changed."""
    out: dict[str, tuple[int, int]] = {}
    for path in root.rglob("*"):
        if path.is_file():
            stat = path.stat()
            out[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return out


CANARIES = ("proj/app.db", "proj/app.py", "proj/app_settings.json", "x.db", "x/secret.db", "x/secret.json")


def canaries(root: Path) -> dict[str, tuple[int, int]]:
    """Files beside the state dir (`root/state`) that a hostile id names; what is under
    `root` outside the state dir, to compare after the test with `unchanged`."""
    for name in CANARIES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("canary")
    return _outside_state(root)


def unchanged(root: Path, before: dict[str, tuple[int, int]]) -> None:
    assert _outside_state(root) == before, "something outside the state dir was created, changed or deleted"


def _outside_state(root: Path) -> dict[str, tuple[int, int]]:
    return {k: v for k, v in files_under(root).items() if not k.startswith("state/")}


def has_inbound_gates() -> bool:
    """Whether this tree has the inbound gates (agy_lsp/protocol/inbound.py, issue #25
    defects 6 and 7): before them, malformed input kills the ACP server and goes
    unanswered on MCP."""
    import importlib.util

    return importlib.util.find_spec("agy_lsp.protocol.inbound") is not None
