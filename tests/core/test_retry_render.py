"""A `retry` chunk (the harness retrying the model request) renders as a line of its
own: the terminal chat's note, `agy-lsp run`'s stream-json event (see tests/e2e/test_retries.py
for the real harness)."""

from __future__ import annotations

import io

from agy_lsp.client.terminal import Renderer
from agy_lsp.protocol.types import ChatChunk, RetryInfo
from agy_lsp.run.output import chunk_event

LINE = "model request failed (HTTP 503: overloaded), retrying (attempt 2)"


def _retry(seq: int = 2) -> ChatChunk:
    chunk = ChatChunk(agent_id="a", turn_id="t", seq=seq, kind="retry", text=LINE)
    chunk.retry = RetryInfo(attempt=2, reason="HTTP 503: overloaded")
    return chunk


def test_the_terminal_chat_shows_a_retry_as_its_own_line() -> None:
    text, side = io.StringIO(), io.StringIO()
    renderer = Renderer(text, side)
    renderer.chunk(ChatChunk(agent_id="a", turn_id="t", seq=1, kind="text", text="Half a sen"))
    renderer.chunk(_retry())
    assert side.getvalue() == f"{LINE}…\n" and text.getvalue() == "Half a sen\n"


def test_run_streams_a_retry_event() -> None:
    assert chunk_event(_retry(), {}) == {"type": "retry", "text": LINE, "retry": {"attempt": 2, "reason": "HTTP 503: overloaded"}, "seq": 2}
