"""Over ACP: a dead harness heals on the next prompt, a prompt right after a cancel
runs, and a replayed session shows refused tool calls as the live turn did."""

from __future__ import annotations

import asyncio
import os
import signal

from acp import schema as s
from acp import text_block

from tests.acp.conftest import choose, exists
from tests.helpers import harness_children


async def test_a_session_whose_harness_died_heals_on_the_next_prompt(start) -> None:
    async with start() as server:
        sid = await server.new({"text": "before"})
        await server.conn.prompt(session_id=sid, prompt=[text_block("hello")])
        (harness,) = harness_children(server.pid)
        os.kill(harness, signal.SIGKILL)
        await server.client.wait_for(lambda: "failed" in server.client.states(sid))
        result = await server.conn.prompt(session_id=sid, prompt=[text_block("still there?")])
        assert result.stop_reason == "end_turn"
        assert server.client.text(sid).endswith("You said: still there?")
        states = server.client.states(sid)
        assert states[states.index("failed") :][:3] == ["failed", "starting", "idle"], states
        assert harness not in harness_children(server.pid) and len(harness_children(server.pid)) == 1


async def test_a_prompt_right_after_cancel_waits_for_the_cancelled_turn_and_runs(start) -> None:
    async with start() as server:
        sid = await server.new({"text": "a long story that takes its time", "chunks": 20, "chunkDelayMs": 300})
        first = asyncio.ensure_future(server.conn.prompt(session_id=sid, prompt=[text_block("tell me")]))
        await server.client.wait_for(lambda: bool(server.client.of(sid, s.AgentMessageChunk)))
        await server.conn.cancel(session_id=sid)
        second = await server.conn.prompt(session_id=sid, prompt=[text_block("and now?")])
        assert (await first).stop_reason == "cancelled"
        assert second.stop_reason == "end_turn"
        assert server.client.text(sid).endswith("You said: and now?")


async def test_replay_shows_refused_calls_as_the_live_turn_did(start, state_dir: str) -> None:
    target = os.path.join(state_dir, "never")
    call = {"toolCalls": [{"name": "run_command", "args": {"CommandLine": f"touch {target}", "Cwd": state_dir}}]}
    async with start() as server:
        server.client.on_permission = lambda *_: _reject()
        sid = await server.new(call, {"text": "I could not run it"})
        await server.conn.prompt(session_id=sid, prompt=[text_block("make a file")])
        live = _tool_views(server.client, sid)
        assert not exists(target)
    async with start() as server:
        await server.conn.load_session(cwd="/tmp", session_id=sid, mcp_servers=[])
        replayed = _tool_views(server.client, sid)
        messages = [u.content.text for u in server.client.of(sid, s.AgentMessageChunk)]
    assert live == replayed == [("run_command", "failed", "Denied: you rejected the tool call")], (live, replayed)
    assert messages == ["I could not run it"], "no invented agent message for the denial"
    assert not any("rule:" in m for m in messages)


async def _reject() -> s.RequestPermissionResponse:
    return choose("reject_once")


def _tool_views(client, sid: str) -> list[tuple[str, str, str]]:
    """Each tool call as the person ends up seeing it: (title's tool, final status, last text)."""
    out: list[tuple[str, str, str]] = []
    for start in client.of(sid, s.ToolCallStart):
        status, text = start.status, _text(start.content)
        for update in client.of(sid, s.ToolCallProgress):
            if update.tool_call_id == start.tool_call_id:
                status = update.status or status
                text = _text(update.content) or text
        out.append((start.title.split()[0] if not start.title.startswith("Run") else "run_command", status, text))
    return out


def _text(content) -> str:
    for item in content or []:
        block = getattr(item, "content", None)
        if isinstance(block, s.TextContentBlock):
            return block.text
    return ""
