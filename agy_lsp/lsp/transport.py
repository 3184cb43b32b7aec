"""Reading Content-Length framed JSON-RPC from stdin, hostile input included.

pygls' own loop logs and drops a message it cannot parse (and dies on one it
cannot even decode: 1000-deep JSON is a RecursionError). An editor deserves an
answer: every message is checked first (agy_lsp/protocol/inbound.py: -32700 for
what is not JSON, -32600 for a batch, a bare value, a wrong envelope, nesting or
size over the limits, -32602 for params that are not an object), a broken header
block is answered with -32600 and the reader resyncs on the next Content-Length
header, and the server keeps reading.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Any

from pygls.exceptions import JsonRpcException

from agy_lsp.lsp.jsonrpc import AgyProtocol
from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.protocol.inbound import MAX_MESSAGE_BYTES, Rejection, check, oversize

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = MAX_MESSAGE_BYTES
MAX_HEADER_LINES = 32
_HEADER_LINE_LIMIT = 1024 * 1024  # also the read buffer's pause threshold
_CONTENT_LENGTH = b"content-length:"


async def open_stdin() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_HEADER_LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    return reader


async def read_loop(reader: asyncio.StreamReader, protocol: AgyProtocol, until: Callable[[], bool] | None = None) -> bool:
    """Returns False at EOF, True once `until()` holds after a message."""
    while True:
        length = await _read_headers(reader, protocol)
        if length is None:
            return False
        if length > MAX_FRAME_BYTES:
            # Answer first: the body may never come, and skipping it waits for it.
            answer(protocol, oversize(length))
            await _skip(reader, length)
            continue
        try:
            body = await reader.readexactly(length)
        except asyncio.IncompleteReadError:
            return False
        dispatch(body, protocol)
        if until is not None and until():
            return True


async def _read_headers(reader: asyncio.StreamReader, protocol: AgyProtocol) -> int | None:
    """Content-Length of the next frame; None at EOF. A broken header block is
    answered once, then lines are dropped up to the next Content-Length header."""
    resync = False
    carry: list[bytes] = []  # the rest of a junk line that runs into the next frame's header
    while True:
        result = await _header_block(reader, resync, carry)
        if result is None or isinstance(result, int):
            return result
        answer(protocol, Rejection(ErrorCode.INVALID_REQUEST, result))
        resync = not carry


async def _header_block(reader: asyncio.StreamReader, resync: bool, carry: list[bytes]) -> int | str | None:
    """The frame's length, or what is wrong with its headers; None at EOF."""
    length: int | None = None
    problem: str | None = None
    lines = 0
    while True:
        line = carry.pop() if carry else await _line(reader)
        if line is None:
            return None
        if resync:
            at = line.lower().find(_CONTENT_LENGTH)
            if at < 0:
                continue
            line, resync = line[at:], False
        stripped = line.strip()
        if not stripped:
            if lines == 0:
                continue  # stray blank lines between frames are harmless
            if problem is None and length is None:
                problem = "missing Content-Length header"
            return problem if problem is not None else length
        lines += 1
        if lines > MAX_HEADER_LINES:
            return "too many header lines"
        if problem is not None:
            continue
        if line is _TOO_LONG:
            problem = "header line too long"
            continue
        name, _, value = stripped.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            try:
                length = int(value.strip())
                if length < 0:
                    raise ValueError
            except ValueError:
                problem = f"bad Content-Length header: {stripped[:80]!r}"
        elif name != b"content-type":
            problem = f"not a header: {stripped[:80]!r}"
            at = line.lower().find(_CONTENT_LENGTH)
            if at > 0:  # junk (a body without its frame) followed by the next frame
                carry.append(line[at:])
                return problem


_TOO_LONG = b"\x00too long\n"


async def _line(reader: asyncio.StreamReader) -> bytes | None:
    """One header line; `_TOO_LONG` for one over the reader's limit (dropped up to
    its end, never buffered whole); None at EOF."""
    too_long = False
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError:
            return None
        except asyncio.LimitOverrunError as e:
            await reader.readexactly(e.consumed)
            too_long = True
            continue
        return _TOO_LONG if too_long else line


async def _skip(reader: asyncio.StreamReader, n: int) -> None:
    while n > 0:
        chunk = await reader.read(min(n, 1 << 20))
        if not chunk:
            return
        n -= len(chunk)


def answer(protocol: AgyProtocol, rejection: Rejection) -> None:
    if rejection.answer:
        protocol.send_error(rejection.id, rejection.code, rejection.message, rejection.error()["data"])
    else:
        log.warning("dropped a malformed message (no id to answer): %s", rejection.message)


def dispatch(body: bytes, protocol: AgyProtocol) -> None:
    raw = check(body)
    if isinstance(raw, Rejection):
        answer(protocol, raw)
        return
    is_request = "id" in raw and "method" in raw
    try:
        message: Any = protocol.structure_message(raw)
    except JsonRpcException as e:
        if is_request:
            cause = str(e.__cause__ or e)
            protocol.send_error(raw["id"], ErrorCode.INVALID_PARAMS, "invalid params", {"code": "INVALID_PARAMS", "cause": cause})
        else:
            log.warning("dropped a notification with invalid params: %s", e.__cause__ or e)
        return
    try:
        protocol.handle_message(message)
    except Exception as e:
        log.exception("failed to handle a message")
        if is_request:
            protocol.send_error(raw["id"], ErrorCode.INTERNAL_ERROR, "internal error", {"type": type(e).__name__, "cause": str(e)})
