"""Reading Content-Length framed JSON-RPC from stdin, hostile input included.

pygls' own loop logs and drops a message it cannot parse. An editor deserves an
answer: malformed JSON gets -32700, a message that is not a JSON-RPC request or
notification gets -32600, an oversized frame is skipped with -32600, and the
server keeps reading.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Any

import msgspec
from pygls.exceptions import JsonRpcException

from agy_lsp.lsp.jsonrpc import AgyProtocol
from agy_lsp.protocol.errors import ErrorCode

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024 * 1024
MAX_HEADER_LINES = 32
_decode = msgspec.json.Decoder().decode


async def open_stdin() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    return reader


async def read_loop(reader: asyncio.StreamReader, protocol: AgyProtocol, until: Callable[[], bool] | None = None) -> bool:
    """Returns False at EOF, True once `until()` holds after a message."""
    while True:
        length = await _read_headers(reader, protocol)
        if length is None:
            return False
        if length < 0:
            continue
        if length > MAX_FRAME_BYTES:
            # Answer first: the body may never come, and skipping it waits for it.
            protocol.send_error(None, ErrorCode.INVALID_REQUEST, f"message of {length} bytes exceeds {MAX_FRAME_BYTES}")
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
    """Content-Length of the next frame; None at EOF; -1 after a framing error."""
    length: int | None = None
    for _ in range(MAX_HEADER_LINES):
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError:
            return None
        except asyncio.LimitOverrunError as e:
            await _skip(reader, e.consumed)
            protocol.send_error(None, ErrorCode.INVALID_REQUEST, "header line too long")
            return -1
        stripped = line.strip()
        if not stripped:
            if length is None:
                continue  # stray blank lines between frames are harmless
            return length
        name, _, value = stripped.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
                if length < 0:
                    raise ValueError
            except ValueError:
                protocol.send_error(None, ErrorCode.INVALID_REQUEST, f"bad Content-Length header: {stripped[:80]!r}")
                return -1
        elif name.strip().lower() != b"content-type":
            protocol.send_error(None, ErrorCode.INVALID_REQUEST, f"not a header: {stripped[:80]!r}")
            return -1
    protocol.send_error(None, ErrorCode.INVALID_REQUEST, "too many header lines")
    return -1


async def _skip(reader: asyncio.StreamReader, n: int) -> None:
    while n > 0:
        chunk = await reader.read(min(n, 1 << 20))
        if not chunk:
            return
        n -= len(chunk)


def dispatch(body: bytes, protocol: AgyProtocol) -> None:
    try:
        raw: Any = _decode(body)
    except msgspec.DecodeError as e:
        protocol.send_error(None, ErrorCode.PARSE_ERROR, "parse error", {"cause": str(e)})
        return
    problem = _envelope_problem(raw)
    if problem is not None:
        msg_id = raw.get("id") if isinstance(raw, dict) else None  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        is_id = isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool)
        protocol.send_error(msg_id if is_id else None, ErrorCode.INVALID_REQUEST, problem)
        return
    try:
        message: Any = protocol.structure_message(raw)
    except JsonRpcException as e:
        if "id" in raw and "method" in raw:
            protocol.send_error(raw["id"], ErrorCode.INVALID_PARAMS, "invalid params", {"cause": str(e.__cause__ or e)})
        return
    try:
        protocol.handle_message(message)
    except Exception as e:
        log.exception("failed to handle a message")
        if "id" in raw and "method" in raw:
            protocol.send_error(raw["id"], ErrorCode.INTERNAL_ERROR, "internal error", {"type": type(e).__name__, "cause": str(e)})


def _envelope_problem(raw: Any) -> str | None:
    if not isinstance(raw, dict):
        return "a JSON-RPC message must be an object (batches are not supported)"
    if raw.get("jsonrpc") != "2.0":  # pyright: ignore[reportUnknownMemberType]
        return 'missing or wrong "jsonrpc" (must be "2.0")'
    if "id" in raw:
        msg_id = raw["id"]
        if isinstance(msg_id, bool) or not isinstance(msg_id, (int, str, type(None))):
            return '"id" must be a number or a string'
    if "method" in raw:
        if not isinstance(raw["method"], str):
            return '"method" must be a string'
        return None
    if "id" in raw and ("result" in raw or "error" in raw):
        return None  # a response to one of our requests
    return 'a request needs "method"'
