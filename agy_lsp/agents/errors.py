"""AgyError and the classification of SDK and harness failures into stable codes.

Classification goes by structure first: exception types, the HTTP status the
SDK reports, stop reasons. The SDK's AntigravityExecutionError carries the HTTP
status only inside its message ("HTTP request failed with status 429: ..."), so
reading that status from the text is the documented last resort
(docs/reliability.md).
"""

from __future__ import annotations

import re
from typing import Any

from agy_lsp.agents.secrets import scrub
from agy_lsp.protocol.errors import ErrorCode


class AgyError(Exception):
    """An error with a stable code and its cause in `data`; every front-end maps it
    to its wire (a JSON-RPC error for LSP and ACP)."""

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


_STATUS = re.compile(r"status(?: code)?[ :=]+(\d{3})")
# The harness reports a failed model call as text and drops the HTTP headers, so a
# Retry-After survives only where the backend repeats it in the body: Gemini's
# RetryInfo ("retryDelay": "31s"), or "retry after N" / "try again in Ns" prose.
_RETRY_AFTER = re.compile(
    r"(?:retryDelay\\?[\"']?\s*:\s*\\?[\"']?|retry[- ]after[\"':= ]+|try again in\s+)(\d+(?:\.\d+)?)",
    re.IGNORECASE,
)


def http_status(exc: BaseException) -> int | None:
    """The HTTP status behind an SDK failure: an attribute when the exception has
    one, else the number in the SDK's fixed message format (last resort)."""
    for candidate in _chain(exc):
        for attr in ("status_code", "status", "code"):
            value = getattr(candidate, attr, None)
            if isinstance(value, int) and 100 <= value <= 599:
                return value
        if match := _STATUS.search(str(candidate)):
            return int(match.group(1))
    return None


def retry_after_ms(exc: BaseException) -> int | None:
    for candidate in _chain(exc):
        if match := _RETRY_AFTER.search(str(candidate)):
            return int(float(match.group(1)) * 1000)
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def classify(exc: BaseException, *, stage: str = "turn") -> AgyError:
    """Map any failure to an AgyError with a stable code; the cause stays in data."""
    if isinstance(exc, AgyError):
        return exc
    from google.antigravity import types as sdk  # already imported once an agent exists

    cause: dict[str, Any] = {"stage": stage, "type": type(exc).__name__, "cause": _redact(str(exc))}
    if isinstance(exc, sdk.AntigravityCancelledError):
        return AgyError(ErrorCode.CANCELLED, "the turn was cancelled", cause)
    if isinstance(exc, TimeoutError):
        return AgyError(ErrorCode.TIMEOUT, f"{stage} timed out", cause)
    if isinstance(exc, (sdk.AntigravityValidationError, ValueError)) and stage == "create":
        return AgyError(ErrorCode.INVALID_PARAMS, f"invalid agent configuration: {exc}", cause)
    status = http_status(exc)
    if status is not None:
        cause["httpStatus"] = status
    text = str(exc)
    if status == 429 or "RESOURCE_EXHAUSTED" in text:
        retry = retry_after_ms(exc)
        cause["retryAfterMs"] = retry if retry is not None else 0
        return AgyError(ErrorCode.QUOTA_EXCEEDED, "the model's quota is exhausted", cause)
    if isinstance(exc, sdk.AntigravityExecutionError):
        # The turn's model call failed (HTTP error, cut stream, refused connection).
        # The session re-labels it AgentFailed when the harness itself died.
        return AgyError(ErrorCode.BACKEND_ERROR, "the model backend failed", cause)
    if isinstance(exc, (ConnectionError, OSError, EOFError)) or type(exc).__name__.startswith("ConnectionClosed"):
        return AgyError(ErrorCode.AGENT_FAILED, "lost the connection to the agent's harness", cause)
    return AgyError(ErrorCode.AGENT_FAILED, f"{stage} failed: {type(exc).__name__}", cause)


def from_stop_reason(reason: str) -> AgyError | None:
    """Stop reasons that mean the turn did not finish normally."""
    if reason == "QUOTA_EXHAUSTED":
        return AgyError(ErrorCode.QUOTA_EXCEEDED, "the model's quota is exhausted", {"stopReason": reason, "retryAfterMs": 0})
    if reason.startswith("MAX_") and "TOKENS" in reason:
        return AgyError(ErrorCode.MAX_TOKENS, "the turn hit a token budget", {"stopReason": reason})
    if "SAFETY" in reason:
        return AgyError(ErrorCode.SAFETY, "the model stopped for safety", {"stopReason": reason})
    return None


def _redact(text: str) -> str:
    """Keys never leave the process, even inside a backend's error text."""
    return scrub(text)[:2000]
