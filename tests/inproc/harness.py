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
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import msgspec

from agy_lsp.settings import Settings
from tests.core.conftest import BACKEND, lone_error
from tests.core.fake_sdk import FakeSdk
from tests.inproc.client import TIMEOUT_SECS, ContentLength, Framing, Lines, Wire

_F_SETPIPE_SZ = 1031  # Linux: the LSP server writes fd 1 blocking; room for a whole session's frames
Session = contextlib.AbstractAsyncContextManager[Wire]


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


# ---------------------------------------------------------------------------- running a front-end


@contextlib.asynccontextmanager
async def _running(
    framing: Framing,
    serve: Callable[[Callable[[], FakeSdk]], Awaitable[Any]],
    sdk: FakeSdk | None,
    hang_up: Callable[[Wire], Awaitable[None]],
) -> AsyncIterator[Wire]:
    stdio = _Stdio()
    loop = asyncio.get_running_loop()
    try:
        with lone_error(), anyio.fail_after(TIMEOUT_SECS * 2):
            async with anyio.create_task_group() as tg:
                fake = sdk if sdk is not None else FakeSdk(tg)
                fake.tg = tg  # a restart's harnesses run in this server's task group
                stdio.claim()
                wire = Wire(framing, fake)
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
                    assert not fake.running(), "a harness outlived the server"
                finally:
                    for task in (served, read):
                        task.cancel()
                        with contextlib.suppress(BaseException):
                            await task
                    out_transport.close()
                    in_transport.close()
                    stdio.release()
                tg.cancel_scope.cancel()
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
        async with _running(ContentLength(), serve, sdk, goodbye) as wire:
            if initialize:
                # an agy client: it gets the agy/* notifications
                await wire.result("initialize", {"processId": None, "rootUri": None, "capabilities": {"experimental": {"agy": {}}}})
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
        async with _running(Lines(), serve, sdk, _no_goodbye) as wire:
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
        async with _running(Lines(), serve, sdk, _no_goodbye) as wire:
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
