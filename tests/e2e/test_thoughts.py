"""Thought chunks. The harness reads no reasoning field from an OpenAI-compatible
stream, so thoughts only reach us from a Gemini-protocol model: here the scripted
model's Gemini dialect, which the harness reaches through `GOOGLE_GEMINI_BASE_URL`
(see agy_lsp/backends/scripted_gemini.py)."""

from __future__ import annotations

import uuid

from pytest_lsp import LanguageClient

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from tests.e2e.conftest import start_client
from tests.helpers import request, wait_until


def gemini_env(model: ScriptedModel) -> dict[str, str]:
    return {"GOOGLE_GEMINI_BASE_URL": model.gemini_base_url, "GEMINI_API_KEY": "scripted-not-a-key"}


async def test_a_thought_streams_as_thought_chunks_before_the_text(model: ScriptedModel) -> None:
    name = f"thinker-{uuid.uuid4().hex[:8]}"
    _, state = model.register(parse_script([{"thought": "Let me weigh this.", "text": "Forty-two."}]), name=name)
    client = await start_client(env=gemini_env(model))
    try:
        created = await request(client, "agy/createAgent", {"backend": {"type": "gemini", "model": name}})
        result = await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "why?"})
        assert result["text"] == "Forty-two."
        recorder = client.recorder  # type: ignore[attr-defined]
        await wait_until(lambda: any(c["kind"] == "text" for c in recorder.chunks(result["turnId"])))
        chunks = recorder.chunks(result["turnId"])
        kinds = [c["kind"] for c in chunks]
        assert "".join(c["text"] for c in chunks if c["kind"] == "thought") == "Let me weigh this."
        assert kinds.index("thought") < kinds.index("text")
        assert result["usage"]["thoughtsTokens"] > 0
        steps = (await request(client, "agy/history", {"agentId": created["agentId"]}))["steps"]
        assert any(s.get("thinking") == "Let me weigh this." for s in steps)
        assert "contents" in state.requests[0]  # the request came in the Gemini dialect
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_openai_reasoning_fields_do_not_become_thoughts(client: LanguageClient, model: ScriptedModel, recorder) -> None:
    """Pins down the harness's behaviour that docs/acp.md describes: the OpenAI-compatible
    stream's `reasoning_content` / `reasoning` deltas are dropped."""
    base_url, state = model.register(parse_script([{"thought": "hidden reasoning", "text": "visible"}]))
    backend = {"type": "openai", "baseUrl": base_url, "model": "scripted"}
    created = await request(client, "agy/createAgent", {"backend": backend})
    result = await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "hi"})
    assert result["text"] == "visible"
    assert [c["kind"] for c in recorder.chunks(result["turnId"]) if c["kind"] == "thought"] == []
