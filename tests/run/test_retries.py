"""`agy-lsp run` reports the harness's retries of a failed model request: a `retry`
event in stream-json (checked against docs/run-events.schema.json), a stderr line in
text mode on a terminal. The harness retries the Gemini API's 503 after about 4 s,
so the scripted model speaks its Gemini dialect here."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from tests.run.conftest import TIMEOUT, Runner, events

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
    master, slave = os.openpty()
    try:
        args = run.args("--backend", "gemini", "--model", gemini, "hello")
        done = subprocess.run(args, stdout=subprocess.PIPE, stderr=slave, text=True, env=run.env, cwd=run.cwd, timeout=TIMEOUT)
        os.close(slave)
        seen = b""
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not data:
                break
            seen += data
    finally:
        os.close(master)
    assert done.returncode == 0 and done.stdout == "Back again.\n"  # stdout: the answer alone
    assert "model request failed (HTTP 503: overloaded), retrying (attempt 2)…" in seen.decode()
    assert "System step error" not in seen.decode()  # the SDK's own copy of the same news is not repeated
