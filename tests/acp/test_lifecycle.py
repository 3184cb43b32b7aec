"""The whole session lifecycle: session/new without a harness, the title, commands,
session/resume (no replay), session/close, session/delete, a lossless load, and the
auth methods."""

from __future__ import annotations

import asyncio

import pytest
from acp import RequestError, text_block
from acp import schema as s

from tests.helpers import harness_children

INVALID_PARAMS = -32602


async def test_new_resume_close_delete(start) -> None:
    skills = {"inline": [{"name": "pirate", "description": "talk like a pirate", "content": "Say arr."}]}
    async with start() as server:
        client, conn = server.client, server.conn
        caps = server.init.agent_capabilities.session_capabilities
        assert caps.resume is not None and caps.close is not None and caps.delete is not None and caps.list is not None
        assert caps.fork is None  # the SDK has no conversation copy (docs/acp.md)

        sid = await server.new({"text": "ahoy"}, skills=skills)
        await asyncio.sleep(0.5)
        assert harness_children(server.pid) == set(), "session/new starts no harness"
        await client.wait_for(lambda: bool(client.of(sid, s.AvailableCommandsUpdate)))
        names = [c.name for c in client.of(sid, s.AvailableCommandsUpdate)[-1].available_commands]
        assert names == ["plan", "clear", "pirate"]

        await conn.prompt(session_id=sid, prompt=[text_block("hello   there\nmatey")])
        assert len(harness_children(server.pid)) == 1
        infos = client.of(sid, s.SessionInfoUpdate)
        assert len(infos) == 1 and infos[0].title == "hello there matey" and infos[0].updated_at
        chunks = client.of(sid, s.AgentMessageChunk)
        assert chunks and len({c.message_id for c in chunks}) == 1 and chunks[0].message_id

        # A typed skill asks the agent to use it; /clear forgets the conversation.
        await conn.prompt(session_id=sid, prompt=[text_block("/pirate greet me")])
        assert "Use your skill `pirate`" in client.text(sid)  # the scripted model echoes the prompt
        cleared = await conn.prompt(session_id=sid, prompt=[text_block("/clear")])
        assert cleared.stop_reason == "end_turn" and client.text(sid).endswith("History cleared: the agent starts afresh.")

        await conn.close_session(session_id=sid)
        await asyncio.sleep(0.5)
        assert harness_children(server.pid) == set(), "session/close ends the harness"
        with pytest.raises(RequestError) as err:
            await conn.prompt(session_id=sid, prompt=[text_block("gone?")])
        assert err.value.code == INVALID_PARAMS

        # Resume: reattach without a replay and without a harness, until the next prompt.
        before = len(client.updates[sid])
        resumed = await conn.resume_session(cwd="/tmp", session_id=sid, mcp_servers=[])
        assert resumed.modes is not None and resumed.config_options
        await asyncio.sleep(0.3)
        assert not [u for u in client.updates[sid][before:] if isinstance(u, (s.UserMessageChunk, s.AgentMessageChunk))]
        assert harness_children(server.pid) == set()
        await conn.prompt(session_id=sid, prompt=[text_block("back")])
        assert client.text(sid).endswith("You said: back")

        # Delete: it is gone from the list; an unknown one is invalid params.
        assert sid in [i.session_id for i in (await conn.list_sessions()).sessions]
        await server.raw("session/delete", {"sessionId": sid})
        assert sid not in [i.session_id for i in (await conn.list_sessions()).sessions]
        with pytest.raises(RequestError) as err:
            await server.raw("session/delete", {"sessionId": sid})
        assert err.value.code == INVALID_PARAMS
        with pytest.raises(RequestError) as err:
            await server.raw("session/fork", {"sessionId": sid, "cwd": "/tmp"})
        assert err.value.code == -32601


async def test_a_load_replays_tool_calls_with_their_outcomes(start, state_dir: str) -> None:
    run = {"toolCalls": [{"name": "run_command", "args": {"CommandLine": "echo replayed-output", "Cwd": "/tmp"}}]}
    async with start() as server:
        sid = await server.new(run, {"text": "done"}, mode="allow_all")
        await server.conn.prompt(session_id=sid, prompt=[text_block("run it")])
    async with start() as server:
        await server.conn.load_session(cwd="/tmp", session_id=sid, mcp_servers=[])
        replay = server.client.updates[sid]
        start_ = next(u for u in replay if isinstance(u, s.ToolCallStart))
        end = [u for u in replay if isinstance(u, s.ToolCallProgress) and u.tool_call_id == start_.tool_call_id]
        assert end and end[-1].status == "completed" and "replayed-output" in end[-1].content[0].content.text
        assert all(u.message_id for u in replay if isinstance(u, (s.UserMessageChunk, s.AgentMessageChunk)))


async def test_auth_methods_and_authenticate(start) -> None:
    async with start() as server:
        methods = {m.id: m for m in server.init.auth_methods}
        assert set(methods) == {"gemini-api-key", "vertex"}
        assert methods["gemini-api-key"].vars[0].name == "GEMINI_API_KEY"
        with pytest.raises(RequestError) as err:  # no key in this environment
            await server.conn.authenticate(method_id="gemini-api-key")
        assert err.value.code == -32000 and "GEMINI_API_KEY" in str(err.value)
        with pytest.raises(RequestError) as err:
            await server.conn.authenticate(method_id="nope")
        assert err.value.code == INVALID_PARAMS
    async with start(env={"GEMINI_API_KEY": "not-a-real-key"}) as server:
        await server.conn.authenticate(method_id="gemini-api-key")
