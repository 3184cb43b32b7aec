"""Cancel while a built-in tool runs: the killed command's late post-tool hook is
absorbed (never answered to a harness that dropped it), the command does not outlive
the turn, and the next turns on the same agent answer. Several rounds: the late hook
comes in about half of the plain rounds; in a round like Ctrl-C in a terminal (the
command gets SIGINT as the turn is cancelled) it always comes."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from typing import Any

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.helpers import request, running_sleeps, scripted, sleep_reply, wait_until

ROUNDS = ("plain", "ctrl-c", "plain")


@pytest.mark.parametrize("how", ["$/cancelRequest", "agy/cancel"])
async def test_cancel_during_a_command_then_three_turns_answer(client: LanguageClient, how: str) -> None:
    tag = uuid.uuid4().int % 10**5
    marks = [f"30.{tag:05d}{i}" for i in range(len(ROUNDS))]  # unique sleeps, to find in the process table
    backend = scripted(*map(sleep_reply, marks))
    agent_id = (await request(client, "agy/createAgent", {"backend": backend, "policies": "allowAll"}))["agentId"]
    for mark, kind in zip(marks, ROUNDS, strict=True):
        future = client.protocol.send_request("agy/chat", {"agentId": agent_id, "prompt": f"sleep {mark}"})
        await wait_until(lambda mark=mark: bool(running_sleeps(mark)), timeout=20)
        await asyncio.sleep(0.3)
        if kind == "ctrl-c":
            for pid in running_sleeps(mark):
                os.kill(pid, signal.SIGINT)
        if how == "$/cancelRequest":
            msg_id = next(k for k, v in client.protocol._request_futures.items() if v is future)
            client.protocol.notify("$/cancelRequest", lsp.CancelParams(id=msg_id))
            with pytest.raises(JsonRpcException):
                await asyncio.wrap_future(future)
        else:
            assert (await request(client, "agy/cancel", {"agentId": agent_id}))["cancelled"] is True
            assert (await asyncio.wrap_future(future)).stopReason == "cancelled"
        await wait_until(lambda mark=mark: not running_sleeps(mark), timeout=10)
        for prompt in ("one", "two", "three"):
            result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": prompt})
            assert result["stopReason"] == "end_turn" and result["text"] == f"You said: {prompt}", result
        assert not running_sleeps(mark)


@pytest.mark.parametrize("how", ["$/cancelRequest", "agy/cancel"])
async def test_cancel_while_the_editor_runs_a_tool_then_three_turns_answer(client: LanguageClient, how: str) -> None:
    """The same for an editor tool (agy/runTool) the editor never answers: its result
    (the turn's cancel) must not reach a harness that dropped the call."""
    started = asyncio.Event()

    @client.feature("agy/runTool")
    async def run_tool(params: Any) -> dict[str, Any]:
        started.set()
        await asyncio.sleep(30)
        return {"content": "too late"}

    tool = {"name": "slow_tool", "description": "A tool the editor takes long to run", "parameters": {"type": "object", "properties": {}}}
    backend = scripted({"toolCalls": [{"name": "slow_tool", "args": {}}]})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend, "tools": [tool], "policies": "allowAll"}))["agentId"]
    future = client.protocol.send_request("agy/chat", {"agentId": agent_id, "prompt": "run it"})
    await asyncio.wait_for(started.wait(), 20)
    await asyncio.sleep(0.2)
    if how == "$/cancelRequest":
        msg_id = next(k for k, v in client.protocol._request_futures.items() if v is future)
        client.protocol.notify("$/cancelRequest", lsp.CancelParams(id=msg_id))
        with pytest.raises(JsonRpcException):
            await asyncio.wrap_future(future)
    else:
        assert (await request(client, "agy/cancel", {"agentId": agent_id}))["cancelled"] is True
        assert (await asyncio.wrap_future(future)).stopReason == "cancelled"
    for prompt in ("one", "two", "three"):
        result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": prompt})
        assert result["stopReason"] == "end_turn" and result["text"] == f"You said: {prompt}", result
