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
# Failures to reach the model at all, as Go's net/http words them: (kind, pattern,
# what, hint). Retrying these only delays the answer (the harness backs off for
# minutes), so a turn that meets one fails at once (sdk/live.py).
_UNREACHABLE: tuple[tuple[str, re.Pattern[str], str, str], ...] = (
    (
        "url",
        re.compile(r"unsupported protocol scheme", re.IGNORECASE),
        "the base URL is not an http(s) URL",
        "give a base URL such as http://127.0.0.1:11434/v1",
    ),
    (
        "dns",
        re.compile(r"no such host|server misbehaving|name or service not known|nodename nor servname", re.IGNORECASE),
        "the model's host name does not resolve (DNS)",
        "check the network connection (offline?) and the host name in the model's address",
    ),
    (
        "refused",
        re.compile(r"connection refused", re.IGNORECASE),
        "the connection to the model's server was refused",
        "is the model server running and listening at that address and port?",
    ),
    (
        "unreachable",
        re.compile(r"network is unreachable|no route to host", re.IGNORECASE),
        "there is no route to the model's server",
        "check the network connection, proxy and firewall",
    ),
    (
        "tls",
        re.compile(r"x509:|tls:|certificate", re.IGNORECASE),
        "the TLS handshake with the model's server failed",
        "check the server's certificate, or use http:// for a local server without TLS",
    ),
)
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


# The Go error itself inside the harness's wrapping ('Post "...": dial tcp: lookup
# x: no such host'), without the quoted URL's escapes.
_REWRAPPED = re.compile(r": (?:doRequest|failed to send|error sending)")
_GO_ERROR = re.compile(r'(?:Post|Get) \\?"([^"\\]+)\\?": ([^"\\()]+)')


# How the harness words a model request that never got an answer (its SYSTEM error
# step); other SYSTEM errors (an invalid tool call) may quote the model's arguments.
_REQUEST_FAILED = re.compile(r"error sending request|failed to send HTTP request|network issue connecting", re.IGNORECASE)


def unreachable_step(error: str) -> AgyError | None:
    """BACKEND_ERROR for a harness SYSTEM error step that says the model's request
    could not be sent at all; None for any other step."""
    return unreachable(error, kind="harness") if _REQUEST_FAILED.search(error) else None


# How the harness words a failed model request it retries (its SYSTEM error step,
# streamed as the retry starts, after its backoff): Gemini's 429/503 and the like.
_RETRYING = re.compile(r"retryable error", re.IGNORECASE)
_GENAI_MESSAGE = re.compile(r"Message: (.*?), Status: ", re.DOTALL)
_DETAIL = re.compile(r'\(\\?"(.+?)\\?"\)\s*$', re.DOTALL)  # the Go error the harness quotes at the end
_NOISE = re.compile(r"^.*?retryable error from model provider:\s*|Agent execution terminated due to error\.\s*", re.IGNORECASE)
REASON_CHARS = 120


def retry_reason(error: str, http_code: int | None = None) -> str | None:
    """Why the harness retries, short and scrubbed ("HTTP 503: overloaded"), when a
    SYSTEM error step says it retries a model request; None for any other step."""
    if not _RETRYING.search(error):
        return None
    clean = scrub(error)
    found = _GENAI_MESSAGE.search(clean)
    detail = _DETAIL.search(clean)
    what = found.group(1) if found else detail.group(1) if detail else _NOISE.sub("", clean).strip(' ("\\)')
    head, _, tail = what.partition(": ")
    what = " ".join((head if head == tail else what).split())  # Go repeats a wrapped error: "unexpected EOF: unexpected EOF"
    status = http_code if http_code is not None and 100 <= http_code <= 599 else None
    reason = f"HTTP {status}: {what}" if status and what else f"HTTP {status}" if status else what or "model request failed"
    return reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 1] + "…"


def unreachable(text: str, *, stage: str = "turn", kind: str = "network") -> AgyError | None:
    """BACKEND_ERROR when `text` (an exception's, or a harness SYSTEM error step's)
    says the model could not be reached at all; None for anything else. `cause` is
    the network error alone, `detail` the whole text."""
    for network, pattern, what, hint in _UNREACHABLE:
        if pattern.search(text):
            clean = scrub(text)
            go = _GO_ERROR.search(clean)
            # The Go error (cut where the harness repeats its wrapping), then the URL.
            short = f"{_REWRAPPED.split(go.group(2), 1)[0].strip()} ({go.group(1)})" if go else clean[:500]
            cause = {"stage": stage, "type": kind, "network": network, "cause": short, "hint": hint, "detail": clean[:2000]}
            return AgyError(ErrorCode.BACKEND_ERROR, f"cannot reach the model backend: {what}", cause)
    return None


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
        if status is None and (network := unreachable(text, stage=stage, kind=type(exc).__name__)) is not None:
            return network
        if status in (401, 403):
            cause["hint"] = "set a valid key: GEMINI_API_KEY, `agy-lsp login`, or the backend's apiKey"
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
