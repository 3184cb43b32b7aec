"""Every inbound JSON-RPC message passes here first, on all three wires (LSP, ACP, MCP).

The wire libraries assume well-formed input: one array, one bare value or one
deeply nested object raised out of their read loops and killed the server. So a
message is decoded, bounded and checked here; only a plain JSON-RPC 2.0 object
reaches a library's dispatcher, and everything else is a `Rejection` the
front-end answers (a request) or logs and drops (a notification or a response).
The limits are documented in docs/reliability.md ("Hostile input").
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import msgspec

from agy_lsp.protocol.errors import ErrorCode

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # one message (an LSP frame, an ND-JSON line): embedded files, images
MAX_DEPTH = 64  # nested arrays and objects, the envelope included (a tool's JSON schema needs ~20)

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class Rejection:
    code: ErrorCode
    message: str
    id: int | str | None = None  # the request's own id, when it could be read
    answer: bool = True  # False: a notification or a response; log it, never answer it
    data: dict[str, Any] = field(default_factory=dict[str, Any])

    def error(self) -> dict[str, Any]:
        return {"code": int(self.code), "message": self.message, "data": {"code": self.code.name, **self.data}}

    def frame(self) -> bytes:
        """The error answer's JSON body."""
        return _encode({"jsonrpc": "2.0", "id": self.id, "error": self.error()})


def oversize(length: int) -> Rejection:
    return Rejection(ErrorCode.INVALID_REQUEST, f"message of {length} bytes exceeds the limit", data={"limit": MAX_MESSAGE_BYTES})


def check(body: bytes) -> dict[str, Any] | Rejection:
    """The message as a dict, or why it is refused."""
    if len(body) > MAX_MESSAGE_BYTES:
        return oversize(len(body))
    try:
        raw: Any = _decode(body)
    except RecursionError:
        return _too_deep(None, True)
    except Exception as e:  # msgspec.DecodeError, or anything else the bytes provoke
        return Rejection(ErrorCode.PARSE_ERROR, "parse error", data={"cause": str(e)[:200]})
    if not isinstance(raw, dict):
        if isinstance(raw, list):
            why = "an empty batch" if not raw else "batches are not supported; send one message at a time"
        else:
            why = "a JSON-RPC message must be an object"
        return Rejection(ErrorCode.INVALID_REQUEST, why)
    message: dict[str, Any] = raw  # pyright: ignore[reportUnknownVariableType]
    return _envelope(message)


def _envelope(message: dict[str, Any]) -> dict[str, Any] | Rejection:
    method = message.get("method")
    has_id = "id" in message
    msg_id = message.get("id")
    good_id: int | str | None = msg_id if _is_id(msg_id) else None
    if "method" not in message and has_id and ("result" in message or "error" in message):
        return _response(message)
    # a notification (a method, no id) is never answered, whatever is wrong with it
    answer = has_id or not isinstance(method, str)
    if _too_deep_value(message):
        return _too_deep(good_id, answer)
    if message.get("jsonrpc") != "2.0":
        return Rejection(ErrorCode.INVALID_REQUEST, 'missing or wrong "jsonrpc" (must be "2.0")', good_id, answer)
    if not isinstance(method, str):
        why = '"method" must be a string' if "method" in message else 'a request needs "method"'
        return Rejection(ErrorCode.INVALID_REQUEST, why, good_id, answer)
    if has_id and not _is_id(msg_id):
        return Rejection(ErrorCode.INVALID_REQUEST, '"id" must be an integer or a string', None, answer)
    params = message.get("params")
    if params is not None and not isinstance(params, dict):
        kind = "an array" if isinstance(params, list) else type(params).__name__  # pyright: ignore[reportUnknownArgumentType]
        return Rejection(ErrorCode.INVALID_PARAMS, f'"params" must be an object, not {kind}', good_id, answer, {"method": method})
    return message


def _response(message: dict[str, Any]) -> dict[str, Any] | Rejection:
    """An answer to one of our requests: passed on when well-formed, else dropped
    (answering an answer could start an endless exchange of errors)."""
    error = message.get("error")
    if (
        message.get("jsonrpc") != "2.0"
        or not (_is_id(message.get("id")) or message.get("id") is None)
        or ("error" in message and not (isinstance(error, dict) and isinstance(error.get("code"), int)))  # pyright: ignore[reportUnknownMemberType]
        or _too_deep_value(message)
    ):
        return Rejection(ErrorCode.INVALID_REQUEST, "malformed response", answer=False)
    return message


def _is_id(value: Any) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _too_deep(msg_id: int | str | None, answer: bool) -> Rejection:
    return Rejection(ErrorCode.INVALID_REQUEST, f"nested deeper than {MAX_DEPTH} levels", msg_id, answer, {"limit": MAX_DEPTH})


def _too_deep_value(value: Any) -> bool:
    """Whether `value` nests deeper than MAX_DEPTH (iterative: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        for child in node.values() if type(node) is dict else node:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))
    return False


async def read_line(reader: asyncio.StreamReader) -> bytes | Rejection | None:
    """The next newline-delimited message (stripped); None at EOF. A line over the
    reader's limit is skipped up to its newline, never held whole: its Rejection."""
    skipped = 0
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as e:
            if skipped or len(e.partial) > MAX_MESSAGE_BYTES:
                return oversize(skipped + len(e.partial))
            return e.partial.strip() or None
        except asyncio.LimitOverrunError as e:
            await reader.readexactly(e.consumed)  # dropped: at most the limit is ever buffered
            skipped += e.consumed
            continue
        if skipped or len(line) > MAX_MESSAGE_BYTES + 1:
            return oversize(skipped + len(line))
        line = line.strip()
        if line:
            return line
