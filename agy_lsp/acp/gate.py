"""The ACP connection's transport: hostile input stops here, and `initialize` is
answered before the core is loaded.

The `acp` package parses each stdin line with `json.loads` and dispatches it as a
dict: an array or a bare value raised AttributeError out of its receive loop (the
process exited with its live agents), invalid JSON was logged and never
answered. `GatedTransport` is the package's message-level `Transport`: it reads
newline-delimited JSON itself, bounded (agy_lsp/protocol/inbound.py), answers a
malformed request at once (-32700, -32600, -32602; id null when it cannot be
read), logs and drops a malformed notification, and hands the package only
well-formed JSON-RPC objects.

The gate: the first well-formed message passes at once when it is `initialize`
(the client waits for that answer at startup, the core takes ~0.1 s of imports);
every other message waits until `Gate.open()`. `wanted` is set once the first
message was read (or stdin ended), `answered` once the first answer was written.
"""

from __future__ import annotations

import asyncio
import json
import logging
import platform
import sys
from typing import Any

from acp.stdio import stdio_streams

from agy_lsp.protocol.inbound import MAX_MESSAGE_BYTES, Rejection, check, read_line

log = logging.getLogger(__name__)


class Gate:
    def __init__(self) -> None:
        self.wanted = asyncio.Event()
        self.answered = asyncio.Event()
        self.opened = asyncio.Event()
        self.initialize_first = False

    def open(self) -> None:
        self.opened.set()


class GatedTransport:
    """ND-JSON over asyncio streams, as the package's `Transport` protocol
    (send/receive/close of decoded dicts)."""

    def __init__(self, gate: Gate, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._gate = gate
        self._reader = reader
        self._writer = writer
        self._first = True
        self._closed = False
        self._writing = asyncio.Lock()  # one writer at a time, as the package's own sender

    async def send(self, message: dict[str, Any]) -> None:
        await self._write((json.dumps(message, separators=(",", ":")) + "\n").encode())

    async def _write(self, data: bytes) -> None:
        async with self._writing:
            if self._closed:
                raise ConnectionError("Transport closed")
            self._writer.write(data)
            self._gate.answered.set()
            await self._writer.drain()

    async def receive(self) -> dict[str, Any] | None:
        gate = self._gate
        if not self._first:
            await gate.opened.wait()
        while True:
            line = await read_line(self._reader)
            if line is None:
                gate.wanted.set()
                return None
            message = line if isinstance(line, Rejection) else check(line)
            if isinstance(message, Rejection):
                await self._reject(message)
                continue
            if self._first:
                self._first = False
                gate.initialize_first = message.get("method") == "initialize"
                gate.wanted.set()
                if not gate.initialize_first:
                    await gate.opened.wait()
            return message

    async def _reject(self, rejection: Rejection) -> None:
        if not rejection.answer:
            log.warning("dropped a malformed message (no id to answer): %s", rejection.message)
            return
        try:
            await self._write(rejection.frame() + b"\n")
        except (ConnectionError, OSError) as e:
            log.warning("could not answer a malformed message: %s", e)

    async def close(self) -> None:
        self._closed = True


async def gated_stdio() -> tuple[Gate, GatedTransport]:
    gate = Gate()
    if platform.system() == "Windows":
        reader, writer = await stdio_streams(limit=MAX_MESSAGE_BYTES)
        gate.open()
        return gate, GatedTransport(gate, reader, writer)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_MESSAGE_BYTES)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, sys.stdout)
    return gate, GatedTransport(gate, reader, asyncio.StreamWriter(transport, protocol, None, loop))
