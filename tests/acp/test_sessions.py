"""initialize, a streamed prompt, cancel, concurrency, load/list after a restart, errors."""

from __future__ import annotations

import asyncio
import os

import pytest
from acp import RequestError, text_block
from acp import schema as s

from tests.acp.conftest import exists, scripted

INVALID_PARAMS = -32602


async def test_initialize_new_session_and_streamed_prompt(start) -> None:
    async with start() as server:
        caps = server.init.agent_capabilities
        assert server.init.protocol_version == 1
        assert caps.load_session is True
        assert caps.session_capabilities.list is not None
        assert caps.prompt_capabilities.embedded_context is True
        assert caps.prompt_capabilities.image is True and caps.prompt_capabilities.audio is True
        assert server.init.agent_info.name == "agy-lsp"

        created = await server.conn.new_session(
            cwd="/tmp", mcp_servers=[], **scripted({"text": "one two three", "chunks": 3, "chunkDelayMs": 50})
        )
        assert created.modes.current_mode_id == "auto_allow_reads"
        assert {m.id for m in created.modes.available_modes} == {"ask_every_time", "auto_allow_reads", "auto", "allow_all", "plan"}
        assert [o.id for o in created.config_options] == ["model", "mode", "sandbox"]
        sid = created.session_id
        result = await server.conn.prompt(
            session_id=sid,
            prompt=[
                text_block("hi"),
                s.EmbeddedResourceContentBlock(type="resource", resource=s.TextResourceContents(uri="file:///a.py", text="x = 1")),
            ],
        )
        assert result.stop_reason == "end_turn"
        chunks = server.client.of(sid, s.AgentMessageChunk)
        assert len(chunks) >= 2 and server.client.text(sid) == "one two three"  # streamed, not one block
        usage = server.client.of(sid, s.UsageUpdate)
        assert len(usage) == 1 and usage[0].used > 0 and usage[0].size >= usage[0].used
        assert result.usage is not None and result.usage.total_tokens == usage[0].used

        # The fallback of the script echoes the prompt: the second turn sees the new words.
        await server.conn.prompt(session_id=sid, prompt=[text_block("second")])
        assert server.client.text(sid).endswith("You said: second")


async def test_invalid_input_unknown_session_and_failed_turn(start) -> None:
    async with start() as server:
        conn = server.conn
        with pytest.raises(RequestError) as err:
            await conn.prompt(session_id="nope", prompt=[text_block("hi")])
        assert err.value.code == INVALID_PARAMS and err.value.data["sessionId"] == "nope"
        with pytest.raises(RequestError) as err:
            await conn.load_session(cwd="/tmp", session_id="0123456789abcdef", mcp_servers=[])
        assert err.value.code == INVALID_PARAMS
        with pytest.raises(RequestError) as err:
            await conn.new_session(cwd="relative/dir", mcp_servers=[])
        assert err.value.code == INVALID_PARAMS
        with pytest.raises(RequestError) as err:
            await conn.new_session(cwd="/tmp", mcp_servers=[], agy={"backend": {"type": "nonsense"}})
        assert err.value.code == INVALID_PARAMS
        with pytest.raises(RequestError) as err:  # not even a valid request
            await server.raw("session/prompt", {"sessionId": 5})
        assert err.value.code == INVALID_PARAMS
        with pytest.raises(RequestError) as err:
            await server.raw("session/nonexistent", {})
        assert err.value.code == -32601

        sid = await server.new({"status": 500, "errorBody": "model exploded"})
        with pytest.raises(RequestError) as err:
            await conn.set_session_mode(session_id=sid, mode_id="yolo")
        assert err.value.code == INVALID_PARAMS
        with pytest.raises(RequestError) as err:
            await conn.prompt(session_id=sid, prompt=[])
        assert err.value.code == INVALID_PARAMS

        # A failed turn is an error carrying its cause, never end_turn.
        with pytest.raises(RequestError) as err:
            await conn.prompt(session_id=sid, prompt=[text_block("hi")])
        assert err.value.code == -32007  # the core's stable BackendError
        assert err.value.data["code"] == "BACKEND_ERROR" and err.value.data["httpStatus"] == 500
        assert "model exploded" in err.value.data["cause"]


async def test_cancel_during_prompt_and_during_permission_and_concurrency(start, state_dir: str) -> None:
    marker = os.path.join(state_dir, "must-not-exist")
    async with start() as server:
        client = server.client
        slow, waiting, free = await asyncio.gather(
            server.new({"text": "slow " * 40, "chunkDelayMs": 100}),
            server.new({"toolCalls": [{"name": "run_command", "args": {"CommandLine": f"touch {marker}"}}]}, {"text": "after"}),
            server.new({"text": "free"}),
        )
        answered = asyncio.Event()

        async def never(session_id: str, call: s.ToolCallUpdate, options: list[s.PermissionOption]) -> s.RequestPermissionResponse:
            await answered.wait()  # the person does not answer until the session is cancelled
            return s.RequestPermissionResponse(outcome=s.DeniedOutcome(outcome="cancelled"))

        client.on_permission = never
        slow_turn = asyncio.create_task(server.conn.prompt(session_id=slow, prompt=[text_block("go")]))
        waiting_turn = asyncio.create_task(server.conn.prompt(session_id=waiting, prompt=[text_block("go")]))
        await client.wait_for(lambda: bool(client.of(slow, s.AgentMessageChunk)) and bool(client.permissions))

        # One session waits on a permission, another streams: a third one is not blocked.
        free_result = await asyncio.wait_for(server.conn.prompt(session_id=free, prompt=[text_block("go")]), 15)
        assert free_result.stop_reason == "end_turn" and client.text(free) == "free"

        await server.conn.cancel(session_id=slow)
        assert (await asyncio.wait_for(slow_turn, 15)).stop_reason == "cancelled"
        assert client.text(slow).count("slow") < 40

        await server.conn.cancel(session_id=waiting)
        answered.set()
        assert (await asyncio.wait_for(waiting_turn, 15)).stop_reason == "cancelled"
        assert not exists(marker)
        assert [u.status for u in client.of(waiting, s.ToolCallProgress)][-1] == "failed"

        # Both sessions take the next prompt.
        client.on_permission = None
        after = await server.conn.prompt(session_id=slow, prompt=[text_block("next")])
        assert after.stop_reason == "end_turn" and client.text(slow).endswith("You said: next")


async def test_list_and_load_after_restart(start) -> None:
    async with start() as server:
        sid = await server.new({"toolCalls": [{"name": "run_command", "args": {"CommandLine": "echo hi"}}]}, {"text": "first answer"})
        other = await server.new()
        await server.conn.prompt(session_id=sid, prompt=[text_block("remember the tool")])
        await server.conn.prompt(session_id=other, prompt=[text_block("another one")])

    async with start() as server:
        listed = await server.conn.list_sessions()
        by_id = {info.session_id: info for info in listed.sessions}
        assert set(by_id) == {sid, other}
        assert by_id[sid].title == "remember the tool" and by_id[sid].cwd == "/tmp" and by_id[sid].updated_at
        assert (await server.conn.list_sessions(cwd="/elsewhere")).sessions == []

        loaded = await server.conn.load_session(cwd="/tmp", session_id=sid, mcp_servers=[])
        assert loaded.modes is not None
        replay = server.client.updates[sid]
        users = [u.content.text for u in replay if isinstance(u, s.UserMessageChunk)]
        assert users == ["remember the tool"]
        assert any(isinstance(u, s.ToolCallStart) and u.kind == "execute" for u in replay)
        assert server.client.text(sid) == "first answer"

        result = await server.conn.prompt(session_id=sid, prompt=[text_block("still there?")])
        assert result.stop_reason == "end_turn" and server.client.text(sid).endswith("You said: still there?")
        assert server.client.of(sid, s.SessionInfoUpdate) == []  # a loaded session keeps its title (the core's)
        assert (await server.conn.list_sessions()).sessions[0].title == "remember the tool"
