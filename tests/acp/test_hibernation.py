"""ACP sessions hibernate like LSP agents, and a prompt resumes them."""

from __future__ import annotations

from acp import text_block

from tests.helpers import harness_children, wait_until


async def test_an_idle_session_hibernates_and_the_next_prompt_resumes_it(start) -> None:
    async with start(env={"AGY_IDLE_TIMEOUT_SECS": "1"}) as server:
        sid = await server.new({"text": "Noted."})
        result = await server.conn.prompt(session_id=sid, prompt=[text_block("remember 42")])
        assert result.stop_reason == "end_turn" and len(harness_children(server.pid)) == 1
        await wait_until(lambda: not harness_children(server.pid), timeout=10)

        result = await server.conn.prompt(session_id=sid, prompt=[text_block("what was it?")])
        assert result.stop_reason == "end_turn"
        assert server.client.text(sid) == "Noted.You said: what was it?"
        assert len(harness_children(server.pid)) == 1
