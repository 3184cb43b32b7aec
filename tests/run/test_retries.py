"""`agy-lsp run` reports the harness's retries of a failed model request: a `retry`
event in stream-json (checked against docs/run-events.schema.json), a stderr line in
text mode on a terminal. The harness retries the Gemini API's 503 after about 4 s,
so the scripted model speaks its Gemini dialect here."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from tests.run.conftest import Runner, events

REPLIES = [{"status": 503, "errorBody": "overloaded"}, {"text": "Back again."}]


@pytest.fixture
def gemini(run: Runner) -> Iterator[str]:
    """A Gemini model name whose script is REPLIES, reached through GOOGLE_GEMINI_BASE_URL."""
    model = ScriptedModel()
    name = f"retry-{uuid.uuid4().hex[:8]}"
    model.register(parse_script(REPLIES), name=name)
    run.env |= {"GOOGLE_GEMINI_BASE_URL": model.gemini_base_url, "GEMINI_API_KEY": "scripted-not-a-key"}
    yield name
    model.close()


def test_a_retry_is_a_retry_event(run: Runner, gemini: str) -> None:
    done = run("--output", "stream-json", "--backend", "gemini", "--model", gemini, "hello")
    assert done.returncode == 0, done.stderr
    seen = events(done.stdout)
    types = [e["type"] for e in seen]
    assert types.count("retry") == 1 and types.index("retry") < types.index("text"), types
    retry = seen[types.index("retry")]
    assert retry["retry"] == {"attempt": 2, "reason": "HTTP 503: overloaded"}
    assert retry["text"] == "model request failed (HTTP 503: overloaded), retrying (attempt 2)"
    assert seen[-1]["type"] == "result" and seen[-1]["text"] == "Back again."


def test_a_retry_is_a_stderr_line_on_a_terminal(run: Runner, gemini: str) -> None:
    done, seen = run.with_tty_stderr("--backend", "gemini", "--model", gemini, "hello")
    assert done.returncode == 0 and done.stdout == "Back again.\n"  # stdout: the answer alone
    assert "model request failed (HTTP 503: overloaded), retrying (attempt 2)…" in seen
    assert "System step error" not in seen  # the SDK's own copy of the same news is not repeated
