"""Two parallel calls of the same tool are two ACP tool calls, each with its own
permission request and updates (tracked by the core's tool call id, not by name)."""

from __future__ import annotations

import asyncio
import os

from acp import schema as s
from acp import text_block

from tests.acp.conftest import choose, exists


def touch(*paths: str) -> dict:
    """One model reply with a run_command per path (the scripted model numbers their ids)."""
    return {"toolCalls": [{"name": "run_command", "args": {"CommandLine": f"touch {p}", "Cwd": os.path.dirname(p)}} for p in paths]}


async def test_parallel_calls_of_one_tool_are_tracked_separately(start, state_dir: str) -> None:
    one, two = os.path.join(state_dir, "one"), os.path.join(state_dir, "two")
    both = [os.path.join(state_dir, f"both{n}") for n in (1, 2)]
    async with start() as server:
        client = server.client

        async def answer(session_id: str, call: s.ToolCallUpdate, options: list[s.PermissionOption]) -> s.RequestPermissionResponse:
            return choose("reject_once" if two in str(call.raw_input) else "allow_once")

        client.on_permission = answer
        mixed, allowed = await asyncio.gather(server.new(touch(one, two), {"text": "half"}), server.new(touch(*both), {"text": "all"}))
        results = await asyncio.gather(*(server.conn.prompt(session_id=sid, prompt=[text_block("go")]) for sid in (mixed, allowed)))
        assert [r.stop_reason for r in results] == ["end_turn"] * 2

        for sid, paths, finals in ((mixed, [one, two], ["completed", "failed"]), (allowed, both, ["completed", "completed"])):
            starts = client.of(sid, s.ToolCallStart)
            assert [st.raw_input["CommandLine"] for st in starts] == [f"touch {p}" for p in paths]
            ids = [st.tool_call_id for st in starts]
            assert len(set(ids)) == 2, ids
            asked = [call.tool_call_id for session_id, call, _ in client.permissions if session_id == sid]
            assert asked == ids, "each permission request names its own call"
            progress = client.of(sid, s.ToolCallProgress)
            assert {u.tool_call_id for u in progress} == set(ids), "no update for a call that was never started"
            for call_id, final in zip(ids, finals, strict=True):
                statuses = [u.status for u in progress if u.tool_call_id == call_id]
                assert statuses[-1] == final and statuses.count(final) == 1, (call_id, statuses)
                if final == "completed":
                    assert statuses[0] == "in_progress"
        assert exists(one) and not exists(two) and all(exists(p) for p in both)
        assert client.text(mixed) == "half" and client.text(allowed) == "all"
