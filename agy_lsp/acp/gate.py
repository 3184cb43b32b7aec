"""`initialize` before the core: the ACP connection answers it with only the ACP
front-end loaded (the client waits for that answer at startup), then the core is
loaded (~0.1 s of imports) while nothing else is read.

`gated_stdio()` makes the connection's stdin and stdout (as the `acp` package's own
`stdio_streams` on POSIX): the first message passes at once when it is `initialize`;
every other message waits until `Gate.open()`. `wanted` is set once the first
message was read (or stdin ended), `answered` once the first answer was written.
Elsewhere (Windows) the package's own streams are used and the gate starts open.
"""

from __future__ import annotations

import asyncio
import platform
import sys
from typing import Any

import msgspec
from acp.stdio import stdio_streams

_decode = msgspec.json.Decoder().decode


class Gate:
    def __init__(self) -> None:
        self.wanted = asyncio.Event()
        self.answered = asyncio.Event()
        self.opened = asyncio.Event()
        self.initialize_first = False

    def open(self) -> None:
        self.opened.set()


class _Reader(asyncio.StreamReader):
    def __init__(self, gate: Gate, limit: int) -> None:
        super().__init__(limit=limit)
        self._gate = gate
        self._first = True

    async def readuntil(self, separator: Any = b"\n") -> bytes:
        gate = self._gate
        if not self._first:
            await gate.opened.wait()
            return await super().readuntil(separator)
        self._first = False
        try:
            line = await super().readuntil(separator)
            gate.initialize_first = _method(line) == "initialize"
        finally:
            gate.wanted.set()
        if not gate.initialize_first:
            await gate.opened.wait()
        return line

    async def readexactly(self, n: int) -> bytes:
        await self._gate.opened.wait()
        return await super().readexactly(n)


class _Writer(asyncio.StreamWriter):
    def __init__(self, gate: Gate, transport: Any, protocol: Any, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(transport, protocol, None, loop)
        self._gate = gate

    def write(self, data: Any) -> None:
        super().write(data)
        self._gate.answered.set()


async def gated_stdio(limit: int) -> tuple[Gate, asyncio.StreamReader, asyncio.StreamWriter]:
    gate = Gate()
    if platform.system() == "Windows":
        reader, writer = await stdio_streams(limit=limit)
        gate.wanted.set()
        return gate, reader, writer
    loop = asyncio.get_running_loop()
    reader = _Reader(gate, limit)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, sys.stdout)
    return gate, reader, _Writer(gate, transport, protocol, loop)


def _method(line: bytes) -> Any:
    try:
        message: Any = _decode(line)
    except msgspec.DecodeError:
        return None
    return message.get("method") if isinstance(message, dict) else None  # pyright: ignore[reportUnknownMemberType]
