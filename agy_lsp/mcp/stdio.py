"""MCP's stdio transport on the event loop: newline-delimited JSON-RPC on stdin/stdout.

The `mcp` package's own `stdio_server` reads each line and writes (and flushes)
each message through worker threads (`anyio.wrap_file`): two thread hand-offs per
streamed progress notification, about 2 ms of every turn's first chunk on a busy
machine (docs/performance.md). This is the same transport on non-blocking pipes,
with the same claim on the standard streams: while serving, fd 0 reads the null
device and fd 1 points at stderr, so handlers and children that read stdin get EOF
and their stray output misses the wire; the wire itself is served from private
duplicates, and both descriptors are restored on exit.

Every line is checked before the package sees it (`gate`): the package logged
invalid JSON, batches and `params` that are not an object, and answered none.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import AsyncGenerator

import anyio
import mcp_types as types
from mcp.shared.message import SessionMessage

from agy_lsp.mcp.seam import ContextReceiveStream, ContextSendStream, create_context_streams
from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.protocol.inbound import MAX_MESSAGE_BYTES, Rejection, check, read_line

log = logging.getLogger(__name__)


def gate(line: bytes | Rejection) -> types.JSONRPCMessage | Rejection:
    """The package's message for one line, or why it is refused (-32700, -32600,
    -32602: agy_lsp/protocol/inbound.py). What the package's own envelope model
    still refuses (an answer whose `result` is not an object) is refused too."""
    raw = line if isinstance(line, Rejection) else check(line)
    if isinstance(raw, Rejection):
        return raw
    try:
        return types.jsonrpc_message_adapter.validate_python(raw, by_name=False)
    except Exception as e:
        is_request = "method" in raw and "id" in raw
        msg_id = raw.get("id") if is_request else None
        return Rejection(ErrorCode.INVALID_REQUEST, "not a JSON-RPC message MCP accepts", msg_id, is_request, {"cause": str(e)[:500]})


def _claim(fd: int, diversion: int) -> int:
    """A private duplicate of `fd` (not inherited by children); `fd` itself now
    points at `diversion`."""
    private = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    os.dup2(diversion, fd)
    os.close(diversion)
    return private


Streams = tuple[ContextReceiveStream[SessionMessage | Exception], ContextSendStream[SessionMessage]]


@contextlib.asynccontextmanager
async def stdio_server() -> AsyncGenerator[Streams, None]:
    loop = asyncio.get_running_loop()
    wire_in = _claim(0, os.open(os.devnull, os.O_RDONLY))
    try:
        wire_out = _claim(1, os.dup(2))
    except OSError:
        os.dup2(wire_in, 0)
        os.close(wire_in)
        raise
    try:
        reader = asyncio.StreamReader(limit=MAX_MESSAGE_BYTES)
        pipe_in, pipe_out = os.fdopen(wire_in, "rb", closefd=False), os.fdopen(wire_out, "wb", closefd=False)
        in_transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe_in)
        out_transport, out_protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, pipe_out)
        writer = asyncio.StreamWriter(out_transport, out_protocol, None, loop)
        read_writer, read_stream = create_context_streams[SessionMessage | Exception](0)
        write_stream, write_reader = create_context_streams[SessionMessage](0)

        async def stdin_reader() -> None:
            async with read_writer:
                while True:
                    line = await read_line(reader)
                    if line is None:
                        return
                    message = gate(line)
                    if isinstance(message, Rejection):
                        await reject(message)
                        continue
                    await read_writer.send(SessionMessage(message))

        async def reject(rejection: Rejection) -> None:
            if rejection.answer:
                await write(rejection.frame() + b"\n")  # waits like any answer: a flood of junk cannot pile up output
            else:
                log.warning("dropped a malformed message (no id to answer): %s", rejection.message)

        writing = asyncio.Lock()  # one writer at a time: drain() takes one waiter on older Pythons

        async def write(data: bytes) -> None:
            async with writing:
                writer.write(data)
                await writer.drain()

        async def stdout_writer() -> None:
            async with write_reader:
                async for session_message in write_reader:
                    await write(session_message.message.model_dump_json(by_alias=True, exclude_unset=True).encode() + b"\n")

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(stdin_reader)
                tg.start_soon(stdout_writer)
                yield read_stream, write_stream
        finally:
            in_transport.close()
            out_transport.close()
    finally:
        os.dup2(wire_out, 1)
        os.dup2(wire_in, 0)
