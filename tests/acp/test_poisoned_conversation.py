"""A model's call of the editor's fs tools that the SDK could not read back (issue
#25, defect 5): refused with the reason, never sent to the editor; the session
answers the next prompt and loads after a restart with its earlier turns."""

from __future__ import annotations

import json
from typing import Any

import pytest
from acp import schema as s
from acp import text_block

from agy_lsp.sdk.tool_args import MAX_BYTES, MAX_DEPTH


def nested(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = {"a": value}
    return value


CALLS = {
    # As a JSON text: the script reaches the server inside session/new, whose wire allows 64 levels.
    "deep": (
        {"name": "read_file", "argsJson": json.dumps({"path": "/tmp/notes.txt", "options": nested(60)})},
        f"nested too deep (max {MAX_DEPTH})",
    ),
    "large": ({"name": "write_file", "args": {"path": "/tmp/big.txt", "content": "y" * 6_000_000}}, f"max {MAX_BYTES}"),
}


@pytest.mark.parametrize("kind", list(CALLS))
async def test_a_poisoned_fs_call_is_refused_and_the_session_lives_on(start, kind: str) -> None:
    call, told = CALLS[kind]
    replies = [{"text": "hello"}, {"toolCalls": [call]}, {"text": "refused, sorry"}, {"text": "still here"}]
    async with start(fs=True) as server:
        client = server.client
        sid = await server.new(*replies, mode="allow_all")
        await server.conn.prompt(session_id=sid, prompt=[text_block("first")])
        done = await server.conn.prompt(session_id=sid, prompt=[text_block("take this")])
        assert done.stop_reason == "end_turn" and client.text(sid).endswith("refused, sorry")
        assert client.reads == [] and client.files == {}, "the editor was never asked"
        failed = [u for u in client.of(sid, s.ToolCallProgress) if u.status == "failed"]
        assert failed and told in str(failed[-1].content or failed[-1].raw_output), failed
        await server.conn.prompt(session_id=sid, prompt=[text_block("are you there?")])
        assert client.text(sid).endswith("still here")
    async with start(fs=True) as server:
        await server.conn.load_session(cwd="/tmp", session_id=sid, mcp_servers=[])
        replay = server.client.updates[sid]
        said = "".join(u.content.text for u in replay if isinstance(u, s.UserMessageChunk))
        assert "first" in said and "take this" in said and "are you there?" in said
        assert server.client.text(sid) == "hello" + "refused, sorry" + "still here"
        await server.conn.prompt(session_id=sid, prompt=[text_block("again")])
        assert server.client.text(sid).endswith("You said: again")
