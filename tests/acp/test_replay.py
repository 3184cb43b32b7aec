"""`session/load` replays a turn exactly as it went live: a call the person rejected
and a call cancelled while it waited for permission, call for call and text for text.

Compared: every `agent_message_chunk`, `agent_thought_chunk` and `user_message_chunk`
(text, in order; a message is its chunks with one messageId), and every tool call folded to what the person ends up seeing: its
id, title, kind, rawInput, locations, final status and final content, in the order the
calls started. Not compared: the intermediate `tool_call_update`s of a live call (an
`in_progress` status before its end), the `messageId`s' values, and the updates that are not
history (`usage_update`, `session_info_update`, `available_commands_update`, modes and
config options): a replay sends none of them for past turns."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from acp import schema as s
from acp import text_block

from tests.acp.conftest import choose, exists

_MESSAGES = (s.UserMessageChunk, s.AgentMessageChunk, s.AgentThoughtChunk)


def seen(updates: list[Any]) -> list[Any]:
    """What the person sees of a session's history, in order (see the module docstring)."""
    out: list[Any] = []
    calls: dict[str, dict[str, Any]] = {}
    message: Any = None  # the (kind, messageId) of the message being read
    for u in updates:
        if isinstance(u, _MESSAGES):
            text = u.content.text
            if out and message == (type(u), u.message_id):  # chunks of one message, however split
                out[-1] = (out[-1][0], out[-1][1] + text)
            else:
                out.append((type(u).__name__, text))
            message = (type(u), u.message_id)
            continue
        message = None
        if isinstance(u, s.ToolCallStart):
            calls[u.tool_call_id] = call = u.model_dump(by_alias=True, exclude_none=True, exclude={"field_meta", "session_update"})
            out.append(("tool", call))
        elif isinstance(u, s.ToolCallProgress):
            fields = u.model_dump(by_alias=True, exclude_none=True, exclude={"field_meta", "session_update"})
            calls[u.tool_call_id].update(fields)
    return out


async def _reject(*_: Any) -> s.RequestPermissionResponse:
    return choose("reject_once")


async def test_replay_equals_live_with_a_rejected_and_a_cancelled_call(start, state_dir: str) -> None:
    never = [os.path.join(state_dir, f"never-{n}") for n in (1, 2)]
    touch = [{"name": "run_command", "args": {"CommandLine": f"touch {p}", "Cwd": state_dir}} for p in never]
    script = [{"toolCalls": [touch[0]]}, {"text": "that was refused; trying another", "toolCalls": [touch[1]]}]
    asked = asyncio.Event()

    async def answer(session_id: str, call: s.ToolCallUpdate, options: Any) -> s.RequestPermissionResponse:
        if "never-1" in (call.title or ""):
            return await _reject()
        asked.set()
        await asyncio.sleep(60)  # the person does not answer: the turn is cancelled
        return choose("reject_once")

    async with start() as server:
        server.client.on_permission = answer
        sid = await server.new(*script)
        turn = asyncio.ensure_future(server.conn.prompt(session_id=sid, prompt=[text_block("make two files")]))
        await asyncio.wait_for(asked.wait(), 30)
        await server.conn.cancel(session_id=sid)
        assert (await turn).stop_reason == "cancelled"
        after = await server.conn.prompt(session_id=sid, prompt=[text_block("fine")])
        assert after.stop_reason == "end_turn"
        live = [("UserMessageChunk", "make two files"), *seen(server.client.updates[sid])]
        live.insert(next(i for i, x in enumerate(live) if x == ("AgentMessageChunk", "You said: fine")), ("UserMessageChunk", "fine"))
        server.client.updates[sid].clear()
        await server.conn.load_session(cwd="/tmp", session_id=sid, mcp_servers=[])  # in the same process
        replayed_here = seen(server.client.updates[sid])
    assert not any(map(exists, never))
    async with start() as server:
        await server.conn.load_session(cwd="/tmp", session_id=sid, mcp_servers=[])
        replayed = seen(server.client.updates[sid])
    assert [x[0] for x in live].count("tool") == 2, live
    assert replayed_here == live, _diff(live, replayed_here)
    assert replayed == live, _diff(live, replayed)


def _diff(live: list[Any], replayed: list[Any]) -> str:
    lines = []
    for n in range(max(len(live), len(replayed))):
        a = live[n] if n < len(live) else None
        b = replayed[n] if n < len(replayed) else None
        lines.append(f"{'  ' if a == b else '!!'} live:   {a}\n   replay: {b}")
    return "\n".join(lines)
