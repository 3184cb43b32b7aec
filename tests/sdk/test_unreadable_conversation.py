"""A resume whose stored record cannot be read is CONVERSATION_CORRUPT, with the
cause and a hint; any other start failure is not (agy_lsp/sdk/errors.py)."""

from __future__ import annotations

from google.protobuf import json_format

from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.sdk.errors import unreadable_conversation


def started_from(cause: BaseException) -> RuntimeError:
    try:
        raise RuntimeError("Failed to initialize conversation at ws://localhost:1/. Stderr: ") from cause
    except RuntimeError as e:
        return e


def test_a_record_the_sdk_cannot_parse() -> None:
    error = unreadable_conversation(started_from(json_format.ParseError("Message too deep. Max recursion depth is 100")), "c1")
    assert error is not None and error.code == ErrorCode.CONVERSATION_CORRUPT
    assert error.data["reader"] == "sdk" and "too deep" in error.data["cause"] and error.data["conversationId"] == "c1"
    assert error.data["hint"]


def test_a_record_the_harness_cannot_open() -> None:
    failed = RuntimeError("Failed to initialize conversation. Stderr: failed to load/create DB trajectory: file is not a database")
    error = unreadable_conversation(failed, "c2")
    assert error is not None and error.data["reader"] == "harness" and error.data["code"] == "CONVERSATION_CORRUPT"


def test_other_start_failures_are_not_corruption() -> None:
    assert unreadable_conversation(started_from(ConnectionRefusedError("refused")), "c3") is None
    assert unreadable_conversation(TimeoutError(), "c3") is None
