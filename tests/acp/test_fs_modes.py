"""fs/* delegation to the editor's buffers, session modes and the model option."""

from __future__ import annotations

import os

import pytest
from acp import RequestError, text_block
from acp import schema as s

from tests.acp.conftest import exists


async def test_fs_delegation_modes_and_model_option(start, state_dir: str) -> None:
    path = os.path.join(state_dir, "buffer.py")  # exists only in the editor, never on disk
    async with start(fs=True) as server:
        client = server.client
        client.files[path] = "unsaved = True\n"
        sid = await server.new(
            {"toolCalls": [{"name": "read_file", "args": {"path": path}}]},
            {"toolCalls": [{"name": "write_file", "args": {"path": path, "content": "saved = True\n"}}]},
            {"text": "edited"},
            {"toolCalls": [{"name": "read_file", "args": {"path": path}}]},
            {"text": "read again"},
        )
        result = await server.conn.prompt(session_id=sid, prompt=[text_block("edit it")])
        assert result.stop_reason == "end_turn" and client.text(sid) == "edited"

        # Reads are auto-allowed in the default mode and come from the editor's buffer;
        # so does the old text of the write, for its diff.
        assert client.reads == [path, path]
        starts = {u.kind: u for u in client.of(sid, s.ToolCallStart)}
        read_id = starts["read"].tool_call_id
        done = [u for u in client.of(sid, s.ToolCallProgress) if u.tool_call_id == read_id and u.status == "completed"]
        assert done and done[0].raw_output == "unsaved = True\n"
        assert starts["read"].locations[0].path == path

        # The write asked first, showed a diff, and went to the editor, not the disk.
        assert [p[1].kind for p in client.permissions] == ["edit"]
        diff = starts["edit"].content[0]
        assert isinstance(diff, s.FileEditToolCallContent) and diff.path == path and diff.new_text == "saved = True\n"
        assert diff.old_text == "unsaved = True\n" and client.permissions[0][1].content[-1].old_text == "unsaved = True\n"
        assert client.files[path] == "saved = True\n" and not exists(path)

        # Ask every time: now the read asks too; the `mode` option follows.
        await server.conn.set_session_mode(session_id=sid, mode_id="ask_every_time")
        modes = lambda: [o.current_value for u in client.of(sid, s.ConfigOptionUpdate) for o in u.config_options if o.id == "mode"]  # noqa: E731
        await client.wait_for(lambda: "ask_every_time" in modes())
        await server.conn.prompt(session_id=sid, prompt=[text_block("read it again")])
        assert [p[1].kind for p in client.permissions] == ["edit", "read"]
        assert client.text(sid).endswith("read again")

        # The model option: the current model is accepted, unknown ones are refused.
        changed = await server.conn.set_config_option(config_id="model", session_id=sid, value="scripted")
        assert changed.config_options[0].current_value == "scripted"
        with pytest.raises(RequestError) as err:
            await server.conn.set_config_option(config_id="model", session_id=sid, value="no-such-model")
        assert err.value.code == -32602 and err.value.data["models"] == ["scripted"]
        with pytest.raises(RequestError) as err:
            await server.conn.set_config_option(config_id="temperature", session_id=sid, value="hot")
        assert err.value.code == -32602
