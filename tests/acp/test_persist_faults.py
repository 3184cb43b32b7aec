"""A prompt whose session cannot be saved says so (docs/acp.md): at the end of the
answer the person reads, and in the response's `_meta.agy.warning`. The read-only
state directory is real (tests/disk_faults.py)."""

from __future__ import annotations

from pathlib import Path

from acp import text_block

from tests.disk_faults import read_only


async def test_a_prompt_whose_session_cannot_be_saved_says_so_and_the_answer_stands(start, state_dir: str) -> None:
    with read_only(Path(state_dir) / "sessions") as fault:
        async with start() as server:
            sid = await server.new({"text": "first answer"}, {"text": "second answer"}, {"text": "third answer"})
            first = await server.conn.prompt(session_id=sid, prompt=[text_block("one")])
            assert first.field_meta is None
            fault.on()
            second = await server.conn.prompt(session_id=sid, prompt=[text_block("two")])
            assert second.stop_reason == "end_turn"
            assert second.field_meta is not None
            warning = second.field_meta["agy"]["warning"]
            assert warning["code"] == -32013 and warning["data"]["code"] == "PERSIST_FAILED"
            assert warning["data"]["errno"] == fault.errno and warning["data"]["hint"]
            text = server.client.text(sid)
            assert "second answer" in text and "PERSIST_FAILED -32013" in text and warning["data"]["hint"] in text
            fault.off()
            third = await server.conn.prompt(session_id=sid, prompt=[text_block("three")])
            assert third.field_meta is None and "third answer" in server.client.text(sid)
