"""Acknowledged means stored, on the real server, SDK and harness: a turn whose session
cannot be saved answers with a PERSIST_FAILED `warning` and a `window/logMessage`,
and a restart keeps exactly what docs/reliability.md#when-the-disk-fails says.
The disk faults are real (tests/disk_faults.py)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp

from tests.disk_faults import read_only, small_disk
from tests.e2e.conftest import start_client
from tests.e2e.test_sessions import stop
from tests.helpers import harness_children, request, wait_until


def answers(history: dict[str, Any]) -> list[str]:
    """The agent's answers in a conversation's history (the scripted model echoes)."""
    return [s["content"] for s in history["steps"] if str(s.get("content", "")).startswith("You said:")]


def logged(client: Any, kind: lsp.MessageType) -> list[str]:
    return [m.message for m in client.log_messages if m.type == kind]


def not_saved(result: dict[str, Any], errno: str) -> dict[str, Any]:
    warning = result["warning"]
    assert warning is not None and warning["code"] == -32013, result
    data = warning["data"]
    assert data["code"] == "PERSIST_FAILED" and data["errno"] == errno and data["turnId"] == result["turnId"]
    assert data["cause"] and data["hint"] and data["path"]
    return warning


async def test_a_full_disk_warns_and_a_restart_lacks_only_the_turns_the_harness_could_not_write(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {"AGY_STATE_DIR": str(state)}
    with small_disk(state, 32) as fault:
        first = await start_client(env)
        try:
            agent = (await request(first, "agy/createAgent", {"name": "keeper"}))["agentId"]
            one = await request(first, "agy/chat", {"agentId": agent, "prompt": "one"})
            assert one["warning"] is None
            conversation = (await request(first, "agy/status", {"agentId": agent}))["conversationId"]
            path = state / "sessions" / f"{conversation}.json"
            before = path.read_bytes()

            fault.on()
            two = await request(first, "agy/chat", {"agentId": agent, "prompt": "two"})
            assert two["text"] == "You said: two" and two["stopReason"] == "end_turn"
            warning = not_saved(two, "ENOSPC")
            errors = logged(first, lsp.MessageType.Error)
            assert len(errors) == 1 and "PERSIST_FAILED -32013" in errors[0] and two["turnId"] in errors[0]
            assert warning["data"]["hint"] in errors[0]
            assert path.read_bytes() == before and sorted(p.name for p in path.parent.iterdir()) == [path.name]
            live = await request(first, "agy/history", {"agentId": agent})
            assert answers(live) == ["You said: one", "You said: two"], "the running agent remembers the turn"

            fault.off()
            three = await request(first, "agy/chat", {"agentId": agent, "prompt": "three"})
            assert three["warning"] is None
            assert any("saved again" in m for m in logged(first, lsp.MessageType.Info))
            assert json.loads(path.read_bytes())["turnCount"] == 3
        finally:
            await stop(first)

        second = await start_client(env)
        try:
            (session,) = (await request(second, "agy/listSessions", {}))["sessions"]
            assert session["conversationId"] == conversation and session["turnCount"] == 3 and session["name"] == "keeper"
            resumed = (await request(second, "agy/createAgent", {"conversationId": conversation}))["agentId"]
            history = await request(second, "agy/history", {"agentId": resumed})
            # The harness wrote nothing while the disk was full, told nobody, and never
            # wrote that turn later: it is gone from the conversation for good.
            assert answers(history) == ["You said: one", "You said: three"]
            assert (await request(second, "agy/status", {"agentId": resumed}))["turnCount"] == 3
            four = await request(second, "agy/chat", {"agentId": resumed, "prompt": "four"})
            assert four["text"] == "You said: four" and four["warning"] is None
        finally:
            await stop(second)


async def test_a_read_only_sessions_dir_warns_and_a_restart_keeps_the_last_save(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {"AGY_STATE_DIR": str(state)}
    with read_only(state / "sessions") as fault:
        first = await start_client(env)
        try:
            agent = (await request(first, "agy/createAgent", {"name": "keeper"}))["agentId"]
            await request(first, "agy/chat", {"agentId": agent, "prompt": "one"})
            conversation = (await request(first, "agy/status", {"agentId": agent}))["conversationId"]
            fault.on()
            two = await request(first, "agy/chat", {"agentId": agent, "prompt": "two"})
            assert two["text"] == "You said: two" and two["stopReason"] == "end_turn"
            not_saved(two, fault.errno)
            assert any("PERSIST_FAILED -32013" in m and two["turnId"] in m for m in logged(first, lsp.MessageType.Error))
        finally:
            await stop(first)  # its last save fails too

        second = await start_client(env)  # still read-only
        try:
            (session,) = (await request(second, "agy/listSessions", {}))["sessions"]
            assert session["turnCount"] == 1, "our file is as it was at the last save"
            resumed = (await request(second, "agy/createAgent", {"conversationId": conversation}))["agentId"]
            history = await request(second, "agy/history", {"agentId": resumed})
            assert answers(history) == ["You said: one", "You said: two"], "the harness's database was writable"
            fault.off()
            three = await request(second, "agy/chat", {"agentId": resumed, "prompt": "three"})
            assert three["warning"] is None
            stored = json.loads((state / "sessions" / f"{conversation}.json").read_bytes())
            assert stored["spec"]["name"] == "keeper"
            assert stored["turnCount"] == 2, "counted from the last save: the unsaved turn is not"
        finally:
            await stop(second)


async def test_a_server_stopped_on_a_full_disk_comes_back_as_before_the_disk_filled_up(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {"AGY_STATE_DIR": str(state)}
    with small_disk(state, 32) as fault:
        first = await start_client(env)
        try:
            agent = (await request(first, "agy/createAgent", {}))["agentId"]
            await request(first, "agy/chat", {"agentId": agent, "prompt": "one"})
            conversation = (await request(first, "agy/status", {"agentId": agent}))["conversationId"]
            fault.on()
            not_saved(await request(first, "agy/chat", {"agentId": agent, "prompt": "two"}), "ENOSPC")
        finally:
            await stop(first)  # its last save fails too
        fault.off()

        second = await start_client(env)
        try:
            (session,) = (await request(second, "agy/listSessions", {}))["sessions"]
            assert session["turnCount"] == 1
            resumed = (await request(second, "agy/createAgent", {"conversationId": conversation}))["agentId"]
            assert answers(await request(second, "agy/history", {"agentId": resumed})) == ["You said: one"]
        finally:
            await stop(second)


async def test_an_agent_whose_save_fails_stays_live_and_hibernates_once_the_timer_saves_it(tmp_path: Path) -> None:
    """The hibernation timer retries the save (docs/reliability.md#when-the-disk-fails):
    while the sessions dir is read-only the idle agent keeps its harness, said once;
    once it is writable again the next retry stores the agent and it hibernates."""
    state = tmp_path / "state"
    with read_only(state / "sessions") as fault:
        client = await start_client({"AGY_STATE_DIR": str(state), "AGY_IDLE_TIMEOUT_SECS": "1"})
        server_pid = client._server.pid  # type: ignore[union-attr]
        try:
            agent = (await request(client, "agy/createAgent", {}))["agentId"]
            await request(client, "agy/chat", {"agentId": agent, "prompt": "one"})
            conversation = (await request(client, "agy/status", {"agentId": agent}))["conversationId"]
            path = state / "sessions" / f"{conversation}.json"
            fault.on()
            not_saved(await request(client, "agy/chat", {"agentId": agent, "prompt": "two"}), fault.errno)
            await asyncio.sleep(3.5)  # idle ticks at 1 s, then retries at +1 and +2 s: all fail
            assert (await request(client, "agy/status", {"agentId": agent}))["state"] == "idle"
            assert len(harness_children(server_pid)) == 1, "hibernated without a save: the turn could be lost"
            kept = [m for m in logged(client, lsp.MessageType.Warning) if "kept live" in m]
            assert len(kept) == 1 and "PERSIST_FAILED -32013" in kept[0]

            fault.off()
            await wait_until(lambda: not harness_children(server_pid), timeout=10)  # the next retry, at +4 s
            status = await request(client, "agy/status", {"agentId": agent})
            assert status["state"] == "hibernated" and json.loads(path.read_bytes())["turnCount"] == 2
            assert any("saved again" in m for m in logged(client, lsp.MessageType.Info))
            three = await request(client, "agy/chat", {"agentId": agent, "prompt": "three"})  # wakes it
            assert three["text"] == "You said: three" and three["warning"] is None
            history = await request(client, "agy/history", {"agentId": agent})
            assert answers(history) == ["You said: one", "You said: two", "You said: three"]
        finally:
            await stop(client)
