"""SDK and harness failures -> AgyError with a stable code.

Classification goes by structure first: exception types, the HTTP status the SDK
reports (an attribute, or the `http_code` of the system step that preceded the
error), stop reasons. The SDK's AntigravityExecutionError carries the HTTP status
only inside its message ("HTTP request failed with status 429: ..."), so reading
the status from the text is the documented last resort (docs/reliability.md).
"""

from __future__ import annotations

import re
from typing import Any

from google.antigravity import types as sdk

from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.secrets import scrub

_STATUS = re.compile(r"status(?: code)?[ :=]+(\d{3})")
# The harness reports a failed model call as text and drops the HTTP headers, so a
# Retry-After survives only where the backend repeats it in the body: Gemini's
# RetryInfo ("retryDelay": "31s"), or "retry after N" / "try again in Ns" prose.
_RETRY_AFTER = re.compile(
    r"(?:retryDelay\\?[\"']?\s*:\s*\\?[\"']?|retry[- ]after[\"':= ]+|try again in\s+)(\d+(?:\.\d+)?)",
    re.IGNORECASE,
)
_HARNESS_GONE = "Harness process exited unexpectedly"
# What the harness says when it cannot open a conversation's stored record.
_UNREADABLE = ("failed to load/create DB trajectory", "file is not a database", "database disk image is malformed")


def http_status(exc: BaseException) -> int | None:
    """The HTTP status behind an SDK failure: an attribute when the exception has
    one, else the number in the SDK's fixed message format (last resort)."""
    for candidate in _chain(exc):
        for attr in ("status_code", "status", "code", "http_code"):
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


def classify(exc: BaseException, *, stage: str = "turn", system_http_status: int | None = None) -> AgyError:
    """Any failure as an AgyError with a stable code; the cause stays in data.
    `system_http_status`: the `http_code` of the SYSTEM error step the SDK streamed
    just before raising (it raises AntigravityConnectionError for 400/401/403)."""
    if isinstance(exc, AgyError):
        return exc
    cause: dict[str, Any] = {"stage": stage, "type": type(exc).__name__, "cause": scrub(str(exc))[:2000]}
    if isinstance(exc, sdk.AntigravityCancelledError):
        return AgyError(ErrorCode.CANCELLED, "the turn was cancelled", cause)
    if isinstance(exc, TimeoutError):
        return AgyError(ErrorCode.TIMEOUT, f"{stage} timed out", cause)
    if isinstance(exc, (sdk.AntigravityValidationError, ValueError)) and stage == "create":
        return AgyError(ErrorCode.INVALID_PARAMS, f"invalid agent configuration: {exc}", cause)
    status = system_http_status or http_status(exc)
    if status is not None:
        cause["httpStatus"] = status
    text = str(exc)
    if status == 429 or "RESOURCE_EXHAUSTED" in text:
        retry = retry_after_ms(exc)
        cause["retryAfterMs"] = retry if retry is not None else 0
        return AgyError(ErrorCode.QUOTA_EXCEEDED, "the model's quota is exhausted", cause)
    if isinstance(exc, sdk.AntigravityExecutionError) or (
        # The SDK reports the model's 400/401/403 as a connection error of its own.
        isinstance(exc, sdk.AntigravityConnectionError) and status is not None and _HARNESS_GONE not in text
    ):
        return AgyError(ErrorCode.BACKEND_ERROR, _backend_message(status), cause)
    if isinstance(exc, (ConnectionError, OSError, EOFError, sdk.AntigravityConnectionError)) or type(exc).__name__.startswith(
        "ConnectionClosed"
    ):
        return AgyError(ErrorCode.AGENT_FAILED, "lost the connection to the agent's harness", cause)
    return AgyError(ErrorCode.AGENT_FAILED, f"{stage} failed: {type(exc).__name__}", cause)


def _backend_message(status: int | None) -> str:
    if status in (401, 403):
        return f"the model backend refused the credentials (HTTP {status}); check the API key"
    if status is not None:
        return f"the model backend failed (HTTP {status})"
    return "the model backend failed"


def unreadable_conversation(exc: BaseException, conversation_id: str | None) -> AgyError | None:
    """A resume that failed because the stored conversation cannot be read: by the
    harness (its record, `conversations/<id>.db`, is damaged) or by the SDK (a
    record it cannot parse even with its too-deep values cut, see tool_args). None
    for any other failure."""
    chain = _chain(exc)
    text = " ".join(str(e) for e in chain)
    sdk_parse = any(type(e).__name__ == "ParseError" for e in chain)
    if not (sdk_parse or any(marker in text for marker in _UNREADABLE)):
        return None
    return AgyError(
        ErrorCode.CONVERSATION_CORRUPT,
        f"the stored conversation {conversation_id} cannot be read",
        {
            "conversationId": conversation_id,
            "stage": "resume",
            "reader": "sdk" if sdk_parse else "harness",
            "type": type(exc).__name__,
            "cause": scrub(text)[:2000],
            "hint": "its record (conversations/<id>.db under the state directory) is damaged: start a new agent, "
            "or agy/deleteAgent to remove it",
        },
    )
