"""Stable JSON-RPC error codes and `AgyError`, the exception that carries one.

Codes are documented in docs/protocol.md; never renumber them. Every layer raises
AgyError for a failure a client should see; each front-end maps it to its wire
(a JSON-RPC error for LSP and ACP, an `isError` tool result for MCP).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ErrorCode(IntEnum):
    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    REQUEST_CANCELLED = -32800

    AGENT_NOT_FOUND = -32001
    AGENT_CLOSED = -32002
    TIMEOUT = -32003
    QUOTA_EXCEEDED = -32004
    SAFETY = -32005
    MAX_TOKENS = -32006
    BACKEND_ERROR = -32007
    AGENT_FAILED = -32008
    AGENT_BUSY = -32009
    CANCELLED = -32010
    SERVER_SHUTTING_DOWN = -32011
    AGENT_LIMIT = -32012
    PERSIST_FAILED = -32013  # a warning on a turn's answer (the turn itself ran): its session was not saved
    CONVERSATION_CORRUPT = -32014  # -32013 is PERSIST_FAILED


class AgyError(Exception):
    """An error with a stable code and its cause in `data` (`data.code` is the code's name)."""

    def __init__(self, code: ErrorCode, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data: dict[str, Any] = {"code": code.name, **(data or {})}

    def __repr__(self) -> str:
        return f"AgyError({self.code.name}, {self.message!r})"


def invalid_params(message: str, **data: Any) -> AgyError:
    return AgyError(ErrorCode.INVALID_PARAMS, message, data)


def agent_not_found(agent_id: str) -> AgyError:
    shown = agent_id if len(agent_id) <= 64 else agent_id[:64] + "…"
    return AgyError(ErrorCode.AGENT_NOT_FOUND, f"no agent with id {shown!r}", {"agentId": shown})
