"""`agent_thought_chunk`: a model's thoughts, from the scripted model's Gemini
dialect (the only way thoughts reach the harness; see docs/acp.md)."""

from __future__ import annotations

import tempfile
import uuid

from acp import schema as s
from acp import text_block

from agy_lsp.backends.scripted import ScriptedModel, parse_script


async def test_thoughts_stream_as_agent_thought_chunks(start) -> None:
    model = ScriptedModel()
    try:
        name = f"thinker-{uuid.uuid4().hex[:8]}"
        model.register(parse_script([{"thought": "Weighing the options.", "text": "Option B."}]), name=name)
        env = {"GOOGLE_GEMINI_BASE_URL": model.gemini_base_url, "GEMINI_API_KEY": "scripted-not-a-key"}
        async with start(env=env) as server:
            meta = {"agy": {"backend": {"type": "gemini", "model": name}, "models": []}}
            created = await server.conn.new_session(cwd=tempfile.gettempdir(), mcp_servers=[], **meta)
            sid = created.session_id
            result = await server.conn.prompt(session_id=sid, prompt=[text_block("which?")])
            assert result.stop_reason == "end_turn"
            updates = server.client.updates[sid]
            thoughts = [u for u in updates if isinstance(u, s.AgentThoughtChunk)]
            assert "".join(u.content.text for u in thoughts) == "Weighing the options."
            first_text = next(i for i, u in enumerate(updates) if isinstance(u, s.AgentMessageChunk))
            assert updates.index(thoughts[0]) < first_text
            assert server.client.text(sid) == "Option B."
            assert result.usage is not None and (result.usage.thought_tokens or 0) > 0
    finally:
        model.close()
