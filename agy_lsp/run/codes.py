"""The exit codes of `agy-lsp run` (docs/run.md#exit-codes): stable, never renumbered."""

from __future__ import annotations

import signal
from typing import Literal

from agy_lsp.protocol.errors import AgyError, ErrorCode

OK = 0  # the turn finished
ERROR = 1  # the model or backend failed, or stopped short (safety, a token or call budget)
USAGE = 2  # bad flags or input: an unknown session, a bad schema, an empty prompt
REFUSED = 3  # a tool call needed consent, nobody could give it, and that ended the turn
TIMEOUT = 4  # --timeout passed
SIGINT = 128 + signal.SIGINT  # 130: cancelled by Ctrl-C
SIGTERM = 128 + signal.SIGTERM  # 143: cancelled by SIGTERM
SIGPIPE = 128 + signal.SIGPIPE  # 141: stdout was closed (`| head`): the turn is cancelled

Status = Literal["success", "error", "usage", "refused", "timeout", "cancelled"]

STATUS: dict[int, Status] = {OK: "success", ERROR: "error", USAGE: "usage", REFUSED: "refused", TIMEOUT: "timeout"}

_USAGE_ERRORS = {ErrorCode.INVALID_PARAMS, ErrorCode.AGENT_NOT_FOUND, ErrorCode.INVALID_REQUEST}


def status(code: int) -> Status:
    return STATUS.get(code, "cancelled")


def for_error(err: AgyError) -> int:
    if err.code in _USAGE_ERRORS:
        return USAGE
    if err.code == ErrorCode.TIMEOUT:
        return TIMEOUT
    return ERROR


def for_stop_reason(stop_reason: str) -> int:
    """A turn that ended without an error but short of an answer (a call budget)."""
    return ERROR if stop_reason.startswith("MAX_") or "SAFETY" in stop_reason else OK


class UsageError(Exception):
    """Bad input found after the flags parsed (an unknown session, a bad schema file): exit 2."""
