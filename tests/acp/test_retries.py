"""The harness retrying a failed model request shows as an `agent_thought_chunk`
marked `_meta.agy.retry`, live, before the answer; `session/load`'s replay leaves it
out (it was progress, not part of the conversation). See docs/acp.md."""

from __future__ import annotations

import tempfile
import uuid

from acp import schema as s
from acp import text_block

from agy_lsp.backends.scripted import ScriptedModel, parse_script


async def test_a_retried_503_is_a_marked_thought_before_the_answer(start) -> None:
    model = ScriptedModel()
    try:
        name = f"retry-{uuid.uuid4().hex[:8]}"
        model.register(parse_script([{"status": 503, "errorBody": "overloaded"}, {"text": "Back again."}]), name=name)
        env = {"GOOGLE_GEMINI_BASE_URL": model.gemini_base_url, "GEMINI_API_KEY": "scripted-not-a-key"}
        async with start(env=env) as server:
            meta = {"agy": {"backend": {"type": "gemini", "model": name}, "models": []}}
            created = await server.conn.new_session(cwd=tempfile.gettempdir(), mcp_servers=[], **meta)
            sid = created.session_id
            result = await server.conn.prompt(session_id=sid, prompt=[text_block("hello")])
            assert result.stop_reason == "end_turn"
            assert server.client.text(sid) == "Back again."
            updates = server.client.updates[sid]
            retries = [u for u in updates if isinstance(u, s.AgentThoughtChunk) and (u.field_meta or {}).get("agy", {}).get("retry")]
            assert len(retries) == 1, updates
            retry = retries[0]
            assert retry.field_meta["agy"]["retry"]["attempt"] == 2
            assert retry.field_meta["agy"]["retry"]["reason"] == "HTTP 503: overloaded"
            assert retry.content.text.startswith("model request failed (HTTP 503: overloaded), retrying (attempt 2)")
            first_text = next(i for i, u in enumerate(updates) if isinstance(u, s.AgentMessageChunk))
            assert updates.index(retry) < first_text
            updates.clear()
            await server.conn.load_session(cwd=tempfile.gettempdir(), session_id=sid, mcp_servers=[])
            replayed = server.client.updates[sid]
            assert any(isinstance(u, s.AgentMessageChunk) and u.content.text == "Back again." for u in replayed), replayed
            assert not [u for u in replayed if (u.field_meta or {}).get("agy", {}).get("retry")], "a retry is progress, not history"
    finally:
        model.close()
