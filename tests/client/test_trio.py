"""The client on trio: a streamed turn, a confirmation, a query, and no process left after exit."""

from __future__ import annotations

import os
import time

import anyio
import pytest

from agy_lsp.client import AgyClient, ConfirmToolCallParams
from tests.client.conftest import ENV, scripted
from tests.helpers import harness_children

pytest.importorskip("trio")


def test_a_session_on_trio() -> None:
    server_pid = 0

    async def session() -> tuple[list[str], str, int, int | None]:
        nonlocal server_pid
        asked: list[str] = []

        async def allow(params: ConfirmToolCallParams) -> bool:
            asked.append(params.tool_call.name)
            return True

        async with AgyClient.spawn(env=ENV) as client:
            agent = await client.create_agent(
                scripted(
                    {"text": "hello trio", "chunks": 2},
                    {"toolCalls": [{"name": "run_command", "args": {"CommandLine": "echo hi"}}]},
                    {"text": "done"},
                ),
                on_confirm=allow,
            )
            kinds = [c.kind async for c in agent.chat("hi")]
            assert kinds == ["text", "text"] or kinds == ["text"]
            text = await agent.chat_text("run")
            count = await agent.turn_count()
            assert client.process is not None
            server_pid = client.process.pid
            assert harness_children(server_pid)
        return asked, text, count, client.returncode

    asked, text, count, code = anyio.run(session, backend="trio")
    assert asked == ["run_command"] and text == "done" and count == 2 and code == 0
    # shutdown + exit left nothing behind: no server, no localharness
    with pytest.raises(ProcessLookupError):
        os.kill(server_pid, 0)
    deadline = time.monotonic() + 5
    while harness_children(server_pid):
        assert time.monotonic() < deadline, "a localharness outlived the server"
        time.sleep(0.05)
