"""The harness retrying a failed model request streams a `retry` chunk as the retry
starts, not silence (issue #26, defect 6). The harness retries Gemini's 429 and 503
(an OpenAI-compatible 5xx fails the turn at once), waiting about 4 s before the
first retry, so these tests script a single 503 in the scripted model's Gemini
dialect."""

from __future__ import annotations

import asyncio
import uuid

from hypothesis import given
from hypothesis import strategies as st

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from agy_lsp.sdk.errors import REASON_CHARS, retry_reason
from agy_lsp.secrets import register
from tests.e2e.conftest import start_client
from tests.helpers import request, wait_until

KEY = "scripted-not-a-key"
# What the harness streams for a retried 503 (its SYSTEM error step), as seen live.
HARNESS_503 = (
    "Encountered retryable error from model provider: Agent execution terminated due to error. "
    '("Error 503, Message: overloaded, Status: , Details: []: Error 503, Message: overloaded, Status: , Details: []")'
)


def test_the_reason_is_the_status_and_the_backends_message() -> None:
    assert retry_reason(HARNESS_503, 503) == "HTTP 503: overloaded"
    cut = (
        "Encountered retryable error from model provider: There was a network issue connecting to the server, "
        'please try again. ("unexpected EOF: unexpected EOF")'
    )
    assert retry_reason(cut, 2) == "unexpected EOF"  # a Gemini stream cut mid-answer (2: no HTTP status)
    assert retry_reason('Agent execution terminated due to error. ("Error 500, Message: boom")', 500) is None


@given(st.text(max_size=400), st.one_of(st.none(), st.integers(-1, 1000)))
def test_a_reason_is_short_and_never_holds_a_key(noise: str, status: int | None) -> None:
    secret = "sk-retry-" + uuid.uuid4().hex
    register(secret)
    reason = retry_reason(f"Encountered retryable error from model provider: {noise} {secret} {noise}", status)
    assert reason is not None and 0 < len(reason) <= REASON_CHARS
    assert secret not in reason and secret[:20] not in reason


async def test_a_retried_503_streams_a_retry_chunk_before_the_answer(model: ScriptedModel) -> None:
    name = f"retry-{uuid.uuid4().hex[:8]}"
    script = [{"status": 503, "errorBody": f"overloaded (key {KEY})"}, {"text": "Back again.", "delayMs": 1500}]
    _, state = model.register(parse_script(script), name=name)
    client = await start_client(env={"GOOGLE_GEMINI_BASE_URL": model.gemini_base_url, "GEMINI_API_KEY": KEY})
    try:
        created = await request(client, "agy/createAgent", {"backend": {"type": "gemini", "model": name}})
        recorder = client.recorder  # type: ignore[attr-defined]
        chat = asyncio.create_task(request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "hello"}))
        retried = lambda: [c for c in recorder.chunks() if c["kind"] == "retry"]  # noqa: E731
        await wait_until(lambda: retried() or chat.done(), timeout=30)
        assert retried(), "no retry chunk while the harness retried"
        assert not chat.done(), "the retry chunk came only with the answer"
        result = await chat
        assert result["text"] == "Back again."
        assert len(state.requests) == 2
        chunks = recorder.chunks(result["turnId"])
        kinds = [c["kind"] for c in chunks]
        assert kinds.count("retry") == 1 and kinds.index("retry") < kinds.index("text")
        retry = chunks[kinds.index("retry")]
        assert retry["retry"]["attempt"] == 2
        assert retry["retry"]["reason"].startswith("HTTP 503: overloaded"), retry
        assert KEY not in retry["retry"]["reason"] and KEY not in retry["text"]
        assert retry["text"].startswith("model request failed (HTTP 503"), retry
    finally:
        await client.shutdown_session()
        await client.stop()
