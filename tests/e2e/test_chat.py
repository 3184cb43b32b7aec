"""Turns: concurrency across agents, cancel then chat again, send, busy agents."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.helpers import request, request_error, scripted, wait_until


async def test_three_agents_chat_at_once(client: LanguageClient, recorder) -> None:
    ids = []
    for i in range(3):
        created = await request(client, "agy/createAgent", {"backend": scripted({"text": f"agent {i} " * 8, "chunkDelayMs": 30})})
        ids.append(created["agentId"])
    t0 = asyncio.get_running_loop().time()
    results = await asyncio.gather(*(request(client, "agy/chat", {"agentId": a, "prompt": "go"}) for a in ids))
    elapsed = asyncio.get_running_loop().time() - t0
    for i, result in enumerate(results):
        assert result["text"] == f"agent {i} " * 8
        chunks = recorder.chunks(result["turnId"])
        assert {c["agentId"] for c in chunks} == {ids[i]}
        assert "".join(c["text"] for c in chunks if c["kind"] == "text") == result["text"]
    # Each turn streams 16 deltas 30 ms apart (~0.5 s); run one after another they would need ~1.5 s.
    assert elapsed < 1.4, f"turns did not overlap: {elapsed:.2f}s"


async def test_cancel_mid_turn_then_chat_again(client: LanguageClient, recorder) -> None:
    backend = scripted({"text": "word " * 60, "chunkDelayMs": 50}, {"text": "the second answer"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    future = client.protocol.send_request("agy/chat", {"agentId": agent_id, "prompt": "long"})
    await wait_until(lambda: len(recorder.chunks()) >= 3)
    client.protocol.notify("$/cancelRequest", lsp.CancelParams(id=future_id(client, future)))
    try:
        await asyncio.wrap_future(future)
        raise AssertionError("the cancelled chat returned a result")
    except JsonRpcException as e:
        assert e.code == -32800
    cancelled_turn = recorder.chunks()[0]["turnId"]
    n_cancelled = len(recorder.chunks(cancelled_turn))
    result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "again"})
    assert result["text"] == "the second answer"
    assert result["stopReason"] == "end_turn"
    # nothing from the cancelled turn leaked into the new one, and it stopped streaming
    assert "".join(c["text"] for c in recorder.chunks(result["turnId"]) if c["kind"] == "text") == "the second answer"
    assert len(recorder.chunks(cancelled_turn)) == n_cancelled
    status = await request(client, "agy/status", {"agentId": agent_id})
    assert status["state"] == "idle" and status["idle"] is True


async def test_agy_cancel_ends_the_turn_with_stop_reason_cancelled(client: LanguageClient, recorder) -> None:
    backend = scripted({"text": "word " * 60, "chunkDelayMs": 50})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    chat = asyncio.ensure_future(request(client, "agy/chat", {"agentId": agent_id, "prompt": "long"}))
    await wait_until(lambda: len(recorder.chunks()) >= 2)
    assert (await request(client, "agy/cancel", {"agentId": agent_id}))["cancelled"] is True
    result = await chat
    assert result["stopReason"] == "cancelled"
    assert result["text"].startswith("word ")
    assert (await request(client, "agy/cancel", {"agentId": agent_id}))["cancelled"] is False
    assert (await request(client, "agy/chat", {"agentId": agent_id, "prompt": "hi"}))["text"] == "You said: hi"


async def test_busy_agent_refuses_a_second_chat(client: LanguageClient, recorder) -> None:
    agent_id = (await request(client, "agy/createAgent", {"backend": scripted({"text": "a " * 20, "chunkDelayMs": 40})}))["agentId"]
    first = asyncio.ensure_future(request(client, "agy/chat", {"agentId": agent_id, "prompt": "one"}))
    await wait_until(lambda: len(recorder.chunks()) >= 1)
    error = await request_error(client, "agy/chat", {"agentId": agent_id, "prompt": "two"})
    assert error.code == -32009 and error.data["code"] == "AGENT_BUSY"
    assert (await first)["text"] == "a " * 20


async def test_send_streams_without_waiting(client: LanguageClient, recorder) -> None:
    agent_id = (await request(client, "agy/createAgent", {"backend": scripted({"text": "sent " * 5, "chunkDelayMs": 30})}))["agentId"]
    sent = await request(client, "agy/send", {"agentId": agent_id, "prompt": "bg"})
    assert sent["turnId"]
    await request(client, "agy/waitForIdle", {"agentId": agent_id})
    chunks = recorder.chunks(sent["turnId"])
    assert "".join(c["text"] for c in chunks if c["kind"] == "text") == "sent " * 5
    status = await request(client, "agy/status", {"agentId": agent_id})
    assert status["turnCount"] == 1 and status["lastResponse"] == "sent " * 5


async def test_tool_call_and_result_stream_as_chunks(client: LanguageClient, recorder) -> None:
    backend = scripted({"toolCalls": [{"name": "view_file", "args": {"AbsolutePath": __file__}}]}, {"text": "listed"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "ls"})
    assert result["text"] == "listed"
    kinds = [c["kind"] for c in recorder.chunks(result["turnId"])]
    assert "toolCall" in kinds and "toolResult" in kinds and kinds.index("toolCall") < kinds.index("toolResult")
    call = next(c for c in recorder.chunks(result["turnId"]) if c["kind"] == "toolCall")["toolCall"]
    assert call["name"] == "view_file" and __file__ in call["args"].values()
    tool_result = next(c for c in recorder.chunks(result["turnId"]) if c["kind"] == "toolResult")["toolResult"]
    assert tool_result["name"] == "view_file"
    # For built-in tools the SDK reports only a summary of the result ("Tool execution").
    assert tool_result["result"] and not tool_result.get("error")


def future_id(client: LanguageClient, future: object) -> str:
    for msg_id, fut in client.protocol._request_futures.items():
        if fut is future:
            return msg_id
    raise AssertionError("request id not found")


async def test_a_chat_right_after_agy_cancel_waits_for_the_cancelled_turn_and_runs(client: LanguageClient, recorder) -> None:
    backend = scripted({"text": "word " * 60, "chunkDelayMs": 50}, {"text": "the second answer"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    first = asyncio.ensure_future(request(client, "agy/chat", {"agentId": agent_id, "prompt": "long"}))
    await wait_until(lambda: len(recorder.chunks()) >= 2)
    cancel = client.protocol.send_request("agy/cancel", {"agentId": agent_id})  # written now, before the next chat
    second = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "again"})  # sent before `first` answered
    assert (await asyncio.wrap_future(cancel)).cancelled is True
    assert (await first)["stopReason"] == "cancelled"
    assert second["stopReason"] == "end_turn" and second["text"] == "the second answer"


async def test_a_chat_right_after_cancel_request_waits_and_runs(client: LanguageClient, recorder) -> None:
    backend = scripted({"text": "word " * 60, "chunkDelayMs": 50}, {"text": "the second answer"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    future = client.protocol.send_request("agy/chat", {"agentId": agent_id, "prompt": "long"})
    await wait_until(lambda: len(recorder.chunks()) >= 2)
    client.protocol.notify("$/cancelRequest", lsp.CancelParams(id=future_id(client, future)))
    second = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "again"})
    assert second["stopReason"] == "end_turn" and second["text"] == "the second answer"
    with pytest.raises(JsonRpcException) as cancelled:
        await asyncio.wrap_future(future)
    assert cancelled.value.code == -32800
