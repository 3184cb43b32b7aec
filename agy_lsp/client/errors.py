# ruff: noqa: N818  (the names mirror the stable error codes: QuotaExceeded, Timeout, ...)
"""Typed exceptions for JSON-RPC errors, one class per stable code.

`error_from_wire` turns a JSON-RPC error object into the matching class; the
server's `data` (with `data.code` naming the code) stays on the exception.
"""

from __future__ import annotations

from typing import Any

from agy_lsp.protocol.errors import ErrorCode

_CAUSE_SHOWN = 300  # characters of `data.cause` in the exception's text (all of it stays in `data`)


class AgyClientError(Exception):
    """Base of every error the client raises. `code` is the JSON-RPC error code
    (None when the failure is local, e.g. the server went away)."""

    code: int | None = None

    def __init__(self, message: str, data: dict[str, Any] | None = None, *, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data: dict[str, Any] = dict(data or {})
        if code is not None:
            self.code = code

    @property
    def code_name(self) -> str | None:
        name = self.data.get("code")
        if isinstance(name, str):
            return name
        try:
            return ErrorCode(self.code).name if self.code is not None else None
        except ValueError:
            return None

    @property
    def cause(self) -> str | None:
        """What went wrong underneath (the server's `data.cause`), if it said."""
        cause = self.data.get("cause")
        return cause if isinstance(cause, str) and cause else None

    @property
    def hint(self) -> str | None:
        """What to do about it (the server's `data.hint`), where it knows."""
        hint = self.data.get("hint")
        return hint if isinstance(hint, str) and hint else None

    def __str__(self) -> str:
        # The message alone hides why ("the model backend failed"): add the cause and the fix.
        text = self.message
        if (cause := self.cause) is not None and cause not in text:
            text += f": {cause if len(cause) <= _CAUSE_SHOWN else cause[:_CAUSE_SHOWN] + '…'}"
        if (hint := self.hint) is not None:
            text += f" (hint: {hint})"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code})"


class ConnectionClosed(AgyClientError):
    """The server exited or closed its output before answering."""


# ---------------------------------------------------------------- JSON-RPC standard codes


class ParseError(AgyClientError):
    code = ErrorCode.PARSE_ERROR


class InvalidRequest(AgyClientError):
    code = ErrorCode.INVALID_REQUEST


class MethodNotFound(AgyClientError):
    code = ErrorCode.METHOD_NOT_FOUND


class InvalidParams(AgyClientError, ValueError):
    code = ErrorCode.INVALID_PARAMS


class InternalError(AgyClientError):
    code = ErrorCode.INTERNAL_ERROR


class RequestCancelled(AgyClientError):
    """-32800: the request was cancelled with `$/cancelRequest` (e.g. `Turn.cancel()`)."""

    code = ErrorCode.REQUEST_CANCELLED


# ---------------------------------------------------------------- agy codes


class AgentNotFound(AgyClientError, LookupError):
    code = ErrorCode.AGENT_NOT_FOUND


class AgentClosed(AgyClientError):
    code = ErrorCode.AGENT_CLOSED


class Timeout(AgyClientError, TimeoutError):
    code = ErrorCode.TIMEOUT


class QuotaExceeded(AgyClientError):
    """The model's quota is exhausted; `retry_after` is in seconds (None if unknown)."""

    code = ErrorCode.QUOTA_EXCEEDED

    @property
    def retry_after(self) -> float | None:
        ms = self.data.get("retryAfterMs")
        return ms / 1000 if isinstance(ms, (int, float)) and not isinstance(ms, bool) else None


class Safety(AgyClientError):
    code = ErrorCode.SAFETY


class MaxTokens(AgyClientError):
    code = ErrorCode.MAX_TOKENS


class BackendError(AgyClientError):
    """The model backend failed; the cause is in `data` (type, cause, httpStatus)."""

    code = ErrorCode.BACKEND_ERROR


class AgentFailed(AgyClientError):
    code = ErrorCode.AGENT_FAILED


class AgentBusy(AgyClientError):
    code = ErrorCode.AGENT_BUSY


class Cancelled(AgyClientError):
    code = ErrorCode.CANCELLED


class ServerShuttingDown(AgyClientError):
    code = ErrorCode.SERVER_SHUTTING_DOWN


class AgentLimit(AgyClientError):
    """maxLiveAgents harnesses stayed busy while this agent waited to start."""

    code = ErrorCode.AGENT_LIMIT


_BY_CODE: dict[int, type[AgyClientError]] = {
    int(cls.code): cls
    for cls in (
        ParseError,
        InvalidRequest,
        MethodNotFound,
        InvalidParams,
        InternalError,
        RequestCancelled,
        AgentNotFound,
        AgentClosed,
        Timeout,
        QuotaExceeded,
        Safety,
        MaxTokens,
        BackendError,
        AgentFailed,
        AgentBusy,
        Cancelled,
        ServerShuttingDown,
        AgentLimit,
    )
    if cls.code is not None
}
_BY_NAME: dict[str, type[AgyClientError]] = {ErrorCode(code).name: cls for code, cls in _BY_CODE.items()}


def error_from_wire(error: Any) -> AgyClientError:
    """A JSON-RPC `error` object -> the matching exception (by code, then by data.code)."""
    if not isinstance(error, dict):
        return InternalError(f"malformed error from the server: {error!r}")
    raw: dict[str, Any] = error  # pyright: ignore[reportUnknownVariableType]
    code = raw.get("code")
    message = str(raw.get("message") or "error")
    data_raw = raw.get("data")
    data: dict[str, Any] = data_raw if isinstance(data_raw, dict) else ({"value": data_raw} if data_raw is not None else {})  # pyright: ignore[reportUnknownVariableType]
    cls = _BY_CODE.get(code) if isinstance(code, int) else None
    if cls is None and isinstance(data.get("code"), str):
        cls = _BY_NAME.get(data["code"])
    exc = (cls or AgyClientError)(message, data)
    if isinstance(code, int):
        exc.code = code
    return exc
