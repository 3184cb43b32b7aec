"""Hibernation: idle agents give their harness back; maxLiveAgents caps live harnesses.

The process table is the judge: harnesses are counted as children of the server.
What the model is sent after a wake-up shows the conversation really resumed.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from typing import Any

from lsprotocol import types as lsp

from agy_lsp.backends.scripted import ScriptedModel
from tests.e2e.conftest import start_client
from tests.e2e.test_confirm import openai_backend
from tests.e2e.test_sessions import stop
from tests.helpers import harness_children, request, request_error, wait_until


def done_texts(history: dict[str, Any]) -> list[str]:
    return [s["content"] for s in history["steps"] if s["status"] == "DONE" and s["content"]]


def user_texts(state: Any) -> list[str]:
    """The person's prompts in the model's last request: the conversation it was given."""
    texts: list[str] = []
    for message in state.requests[-1]["messages"]:
        if message.get("role") == "user":
            content = message.get("content")
            text = content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)
            texts += re.findall(r"<USER_REQUEST>\n(.*?)\n</USER_REQUEST>", text, re.S)
    return texts


async def test_an_idle_agent_hibernates_and_resumes_with_the_same_history(model: ScriptedModel) -> None:
    client = await start_client({"AGY_IDLE_TIMEOUT_SECS": "1.5", "AGY_STATE_DIR": tempfile.mkdtemp(prefix="agy-hib-")})
    server_pid = client._server.pid  # type: ignore[union-attr]
    recorder = client.recorder  # type: ignore[attr-defined]
    try:
        backend, state = openai_backend(model, {"text": "Noted: the cat is called Tom."}, {"text": "His name is Tom."})
        agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
        await request(client, "agy/chat", {"agentId": agent_id, "prompt": "My cat is called Tom."})
        history_before = await request(client, "agy/history", {"agentId": agent_id})
        usage_before = (await request(client, "agy/usage", {"agentId": agent_id}))["totalUsage"]
        assert len(harness_children(server_pid)) == 1

        await recorder.wait_for(lambda: "hibernated" in recorder.states(agent_id), timeout=10)
        await wait_until(lambda: not harness_children(server_pid), timeout=5)
        status = await request(client, "agy/status", {"agentId": agent_id})
        assert status["state"] == "hibernated" and status["turnCount"] == 1
        assert status["totalUsage"] == usage_before
        # Queries read the kept conversation without waking the agent.
        assert done_texts(await request(client, "agy/history", {"agentId": agent_id})) == done_texts(history_before)
        assert not harness_children(server_pid)
        # waitForWakeup has nothing to wait for on the SDK's local connection: False, and no wake-up.
        assert (await request(client, "agy/waitForWakeup", {"agentId": agent_id, "timeoutSecs": 1}))["wokeUp"] is False
        assert not harness_children(server_pid)
        assert (await request(client, "agy/status", {"agentId": agent_id}))["state"] == "hibernated"

        states_before_wake = len(recorder.states(agent_id))
        result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "What is my cat called?"})
        assert result["text"] == "His name is Tom."
        assert recorder.states(agent_id)[states_before_wake:][:3] == ["starting", "idle", "busy"]
        assert user_texts(state)[-2:] == ["My cat is called Tom.", "What is my cat called?"]
        history_after = await request(client, "agy/history", {"agentId": agent_id})
        assert done_texts(history_after)[: len(done_texts(history_before))] == done_texts(history_before)
        status = await request(client, "agy/status", {"agentId": agent_id})
        assert status["turnCount"] == 2
        assert status["totalUsage"]["totalTokens"] == usage_before["totalTokens"] + result["usage"]["totalTokens"]
        assert len(harness_children(server_pid)) == 1
    finally:
        await stop(client)
    await wait_until(lambda: not harness_children(server_pid), timeout=5)


async def test_max_live_agents_caps_the_harnesses_and_every_conversation_keeps_working(model: ScriptedModel) -> None:
    client = await start_client({"AGY_MAX_LIVE_AGENTS": "2", "AGY_STATE_DIR": tempfile.mkdtemp(prefix="agy-cap-")})
    server_pid = client._server.pid  # type: ignore[union-attr]
    peak = 0
    sampling = True

    async def sample() -> None:
        nonlocal peak
        while sampling:
            peak = max(peak, len(harness_children(server_pid)))
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    try:
        agents: list[tuple[str, Any]] = []
        for i in range(4):
            backend, state = openai_backend(model, {"text": f"agent {i} noted"}, {"text": f"agent {i} remembers"})
            agents.append(((await request(client, "agy/createAgent", {"backend": backend, "name": f"a{i}"}))["agentId"], state))
        for i, (agent_id, _) in enumerate(agents):
            await request(client, "agy/chat", {"agentId": agent_id, "prompt": f"secret {i}"})
        # All four at once: two wait for room until turns end, none is refused.
        results = await asyncio.gather(
            *(request(client, "agy/chat", {"agentId": agent_id, "prompt": f"recall {i}"}) for i, (agent_id, _) in enumerate(agents))
        )
        assert [r["text"] for r in results] == [f"agent {i} remembers" for i in range(4)]
        for i, (_, state) in enumerate(agents):
            assert user_texts(state)[-2:] == [f"secret {i}", f"recall {i}"]
        listed = await request(client, "agy/listAgents", {})
        states = sorted(a["state"] for a in listed["agents"])
        assert states.count("idle") <= 2 and states.count("hibernated") >= 2, states
    finally:
        sampling = False
        await sampler
        await stop(client)
    assert 1 <= peak <= 2, f"saw {peak} harnesses with maxLiveAgents=2"


async def test_a_hibernated_agent_can_be_closed_and_deleted(model: ScriptedModel) -> None:
    state_dir = tempfile.mkdtemp(prefix="agy-hib-del-")
    client = await start_client({"AGY_MAX_LIVE_AGENTS": "1", "AGY_STATE_DIR": state_dir})
    server_pid = client._server.pid  # type: ignore[union-attr]
    try:
        first_backend, _ = openai_backend(model, {"text": "one"})
        first = (await request(client, "agy/createAgent", {"backend": first_backend}))["agentId"]
        await request(client, "agy/chat", {"agentId": first, "prompt": "hello"})
        second_backend, _ = openai_backend(model, {"text": "two"})
        await request(client, "agy/createAgent", {"backend": second_backend})
        assert (await request(client, "agy/status", {"agentId": first}))["state"] == "hibernated"
        assert len(harness_children(server_pid)) == 1
        conversation_id = (await request(client, "agy/status", {"agentId": first}))["conversationId"]
        assert conversation_id in [s["conversationId"] for s in (await request(client, "agy/listSessions", {}))["sessions"]]
        await request(client, "agy/deleteAgent", {"agentId": first})
        assert (await request_error(client, "agy/status", {"agentId": first})).code == -32001
        assert conversation_id not in [s["conversationId"] for s in (await request(client, "agy/listSessions", {}))["sessions"]]
    finally:
        await stop(client)


async def test_waiting_for_room_can_be_cancelled_and_is_bounded(model: ScriptedModel) -> None:
    # maxLiveAgents=1 and one agent busy in a long turn: another agent waits for room.
    env = {"AGY_MAX_LIVE_AGENTS": "1", "AGY_CHAT_TIMEOUT_SECS": "1.5", "AGY_STATE_DIR": tempfile.mkdtemp(prefix="agy-room-")}
    client = await start_client(env)
    server_pid = client._server.pid  # type: ignore[union-attr]
    recorder = client.recorder  # type: ignore[attr-defined]
    try:
        slow_backend, _ = openai_backend(model, {"text": "finally", "delayMs": 8000})
        slow = (await request(client, "agy/createAgent", {"backend": slow_backend, "chatTimeoutSecs": 30}))["agentId"]
        other_backend, _ = openai_backend(model, {"text": "other here"})
        other = (await request(client, "agy/createAgent", {"backend": other_backend}))["agentId"]
        assert recorder.states(slow)[-1] == "hibernated"

        slow_turn = asyncio.create_task(request(client, "agy/chat", {"agentId": slow, "prompt": "take your time"}))
        await recorder.wait_for(lambda: recorder.states(slow)[-1] == "busy" and recorder.states(other)[-1] == "hibernated")
        waiting = asyncio.create_task(request(client, "agy/chat", {"agentId": other, "prompt": "me too"}))
        await recorder.wait_for(lambda: recorder.states(other)[-1] == "starting")
        assert (await request(client, "agy/cancel", {"agentId": other}))["cancelled"] is True
        assert (await waiting)["stopReason"] == "cancelled"
        assert recorder.states(other)[-1] == "hibernated"
        assert len(harness_children(server_pid)) == 1

        error = await request_error(client, "agy/createAgent", {"backend": other_backend})
        assert error.code == -32012 and "maxLiveAgents" in str(error.data)
        assert len((await request(client, "agy/listAgents", {}))["agents"]) == 2

        assert (await slow_turn)["text"] == "finally"
        assert (await request(client, "agy/chat", {"agentId": other, "prompt": "now?"}))["text"] == "other here"
        assert len(harness_children(server_pid)) == 1
    finally:
        await stop(client)


async def test_lowering_max_live_agents_hibernates_idle_agents_at_once(model: ScriptedModel) -> None:
    client = await start_client({"AGY_STATE_DIR": tempfile.mkdtemp(prefix="agy-trim-")})
    server_pid = client._server.pid  # type: ignore[union-attr]
    try:
        agents = []
        for i in range(3):
            backend, _ = openai_backend(model, {"text": f"hi {i}"})
            agents.append((await request(client, "agy/createAgent", {"backend": backend}))["agentId"])
        assert len(harness_children(server_pid)) == 3
        client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings={"agy": {"maxLiveAgents": 1}}))
        await wait_until(lambda: len(harness_children(server_pid)) == 1, timeout=10)
        states = [(await request(client, "agy/status", {"agentId": a}))["state"] for a in agents]
        assert states == ["hibernated", "hibernated", "idle"]  # the most recently used stays
        assert (await request(client, "agy/chat", {"agentId": agents[0], "prompt": "back"}))["text"] == "hi 0"
        assert len(harness_children(server_pid)) == 1
    finally:
        await stop(client)
