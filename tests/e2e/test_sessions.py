"""Sessions that outlive the process: resume, list, export, delete, corrupt files."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from agy_lsp.backends.scripted import ScriptedModel
from tests.e2e.conftest import start_client
from tests.e2e.test_confirm import openai_backend, target, write_call
from tests.helpers import request, request_error, to_dict


async def stop(client: Any) -> None:
    await client.shutdown_session()
    await client.stop()


async def test_resume_after_a_restart_keeps_history_turns_and_permissions(model: ScriptedModel) -> None:
    env = {"AGY_STATE_DIR": tempfile.mkdtemp(prefix="agy-sessions-")}
    first = await start_client(env)
    asked: list[Any] = []

    @first.feature("agy/confirmToolCall")
    async def confirm(params: Any) -> dict[str, Any]:
        asked.append(params)
        return {"outcome": "allow_always"}

    path = target()
    backend, _ = openai_backend(model, write_call(path), {"text": "wrote it"})
    agent_id = (await request(first, "agy/createAgent", {"backend": backend, "name": "keeper"}))["agentId"]
    await request(first, "agy/chat", {"agentId": agent_id, "prompt": "Please write the file for me"})
    await request(first, "agy/chat", {"agentId": agent_id, "prompt": "second turn"})
    before = await request(first, "agy/status", {"agentId": agent_id})
    history_before = await request(first, "agy/history", {"agentId": agent_id})
    await stop(first)

    second = await start_client(env)
    try:
        listed = await request(second, "agy/listSessions", {})
        assert listed["total"] == 1
        session = listed["sessions"][0]
        assert session["conversationId"] == before["conversationId"] and session["name"] == "keeper"
        assert session["title"] == "Please write the file for me" and session["turnCount"] == 2
        resumed = await request(second, "agy/createAgent", {"conversationId": before["conversationId"]})
        status = await request(second, "agy/status", {"agentId": resumed["agentId"]})
        assert status["turnCount"] == 2 and status["name"] == "keeper"
        assert status["permissions"] == [{"tool": "run_command", "decision": "allow"}]
        history = await request(second, "agy/history", {"agentId": resumed["agentId"]})
        done = lambda h: [s["content"] for s in h["steps"] if s["status"] == "DONE"]  # noqa: E731
        assert done(history) == done(history_before)
        result = await request(second, "agy/chat", {"agentId": resumed["agentId"], "prompt": "third"})
        assert result["text"] == "You said: third"
        assert (await request(second, "agy/status", {"agentId": resumed["agentId"]}))["turnCount"] == 3
        exported = await request(second, "agy/exportSession", {"agentId": resumed["agentId"]})
        assert "Please write the file for me" in exported["markdown"] and "You said: third" in exported["markdown"]
        assert len(exported["steps"]) == len((await request(second, "agy/history", {"agentId": resumed["agentId"]}))["steps"])
        assert len(asked) == 1
    finally:
        await stop(second)


async def test_corrupt_state_is_skipped_and_delete_removes_files(model: ScriptedModel) -> None:
    state_dir = tempfile.mkdtemp(prefix="agy-sessions-")
    os.makedirs(os.path.join(state_dir, "sessions"))
    with open(os.path.join(state_dir, "sessions", "broken.json"), "w") as f:
        f.write('{"conversationId": "broken", "turnCount": "many"')
    with open(os.path.join(state_dir, "sessions", "garbage.json"), "wb") as f:
        f.write(b"\x00\xff not json at all")
    client = await start_client({"AGY_STATE_DIR": state_dir})
    try:
        assert (await request(client, "agy/listSessions", {}))["sessions"] == []
        agent_id = (await request(client, "agy/createAgent", {}))["agentId"]
        await request(client, "agy/chat", {"agentId": agent_id, "prompt": "keep"})
        conversation_id = (await request(client, "agy/status", {"agentId": agent_id}))["conversationId"]
        stored = [n for n in os.listdir(os.path.join(state_dir, "conversations")) if n.startswith(conversation_id)]
        assert stored and os.path.exists(os.path.join(state_dir, "sessions", f"{conversation_id}.json"))
        assert (await request(client, "agy/listSessions", {}))["total"] == 1
        await request(client, "agy/deleteAgent", {"agentId": agent_id})
        assert not [n for n in os.listdir(os.path.join(state_dir, "conversations")) if n.startswith(conversation_id)]
        assert not os.path.exists(os.path.join(state_dir, "sessions", f"{conversation_id}.json"))
        assert (await request(client, "agy/listSessions", {}))["total"] == 0
        error = await request_error(client, "agy/createAgent", {"conversationId": conversation_id})
        assert error.code == -32602
        page = await request(client, "agy/listSessions", {"offset": 0, "limit": 1})
        assert to_dict(page)["sessions"] == []
    finally:
        await stop(client)


async def test_resume_restores_the_whole_spec_and_given_fields_override(model: ScriptedModel) -> None:
    """Capabilities, timeout, retries, editor tools and their state, name: all of it
    comes back from the store; a field given in the resume request wins."""
    client = await start_client({"AGY_STATE_DIR": tempfile.mkdtemp(prefix="agy-spec-")})
    states: list[dict[str, Any]] = []

    @client.feature("agy/runTool")
    async def run_tool(params: Any) -> dict[str, Any]:
        state = dict(to_dict(params).get("state") or {})  # omitted while empty
        states.append(state)
        return {"content": "counted", "state": {"n": state.get("n", 0) + 1}}

    counter = {"toolCalls": [{"name": "counter", "args": {}}]}
    backend, script = openai_backend(
        model, counter, {"text": "one"}, {"hang": True}, counter, {"text": "two"}, {"hang": True}, {"status": 429}, {"text": "x"}
    )
    spec = {
        "backend": backend,
        "name": "the original",
        "capabilities": {"disabledTools": ["search_web"]},
        "chatTimeoutSecs": 1.5,
        "maxQuotaRetries": 0,
        "tools": [{"name": "counter", "description": "counts"}],
        "policies": "allowAll",
    }
    try:
        created = await request(client, "agy/createAgent", spec)
        assert "search_web" not in created["tools"] and "counter" in created["tools"]
        await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "count"})
        timeout = await request_error(client, "agy/chat", {"agentId": created["agentId"], "prompt": "hang"})
        assert timeout.data["code"] == "TIMEOUT"
        conversation = (await request(client, "agy/status", {"agentId": created["agentId"]}))["conversationId"]
        await request(client, "agy/shutdownAgent", {"agentId": created["agentId"]})

        resumed = await request(client, "agy/createAgent", {"conversationId": conversation, "name": "renamed"})
        agent_id = resumed["agentId"]
        assert resumed["tools"] == created["tools"], "capabilities and editor tools came back"
        assert (await request(client, "agy/chat", {"agentId": agent_id, "prompt": "count again"}))["text"] == "two"
        assert states == [{}, {"n": 1}], "the editor tools' state came back"
        timeout = await request_error(client, "agy/chat", {"agentId": agent_id, "prompt": "hang"})
        assert timeout.data["code"] == "TIMEOUT" and timeout.data["timeoutSecs"] == 1.5
        asked = len(script.requests)
        quota = await request_error(client, "agy/chat", {"agentId": agent_id, "prompt": "quota"})
        assert quota.data["code"] == "QUOTA_EXCEEDED" and len(script.requests) == asked + 1, "maxQuotaRetries=0 came back"
        assert (await request(client, "agy/status", {"agentId": agent_id}))["name"] == "renamed"
    finally:
        await stop(client)


async def test_delete_session_removes_a_stored_conversation_and_nothing_else(model: ScriptedModel) -> None:
    """agy/deleteSession: the core's sessions.delete, as ACP's session/delete uses it.
    Refused while a live agent holds it, exact files only, false for an unknown id,
    InvalidParams for an id that is not one; listSessions filters by cwd."""
    root = tempfile.mkdtemp(prefix="agy-sessions-")
    state_dir, workspace = os.path.join(root, "state"), os.path.join(root, "ws")
    os.makedirs(workspace)
    beside = os.path.join(root, "app.db")  # a file an id could point at if it were joined unchecked
    with open(beside, "w") as f:
        f.write("keep")
    client = await start_client({"AGY_STATE_DIR": state_dir})
    try:
        agent_id = (await request(client, "agy/createAgent", {"workspaces": [workspace]}))["agentId"]
        await request(client, "agy/chat", {"agentId": agent_id, "prompt": "keep me"})
        conversation_id = (await request(client, "agy/status", {"agentId": agent_id}))["conversationId"]
        mine = (await request(client, "agy/listSessions", {"cwd": workspace}))["sessions"]
        assert [s["conversationId"] for s in mine] == [conversation_id]
        assert (await request(client, "agy/listSessions", {"cwd": "/elsewhere"}))["total"] == 0
        busy = await request_error(client, "agy/deleteSession", {"conversationId": conversation_id})
        assert busy.code == -32009
        await request(client, "agy/shutdownAgent", {"agentId": agent_id})
        assert (await request(client, "agy/deleteSession", {"conversationId": conversation_id}))["deleted"] is True
        assert not [n for n in os.listdir(os.path.join(state_dir, "conversations")) if n.startswith(conversation_id)]
        assert (await request(client, "agy/listSessions", {}))["total"] == 0
        assert (await request(client, "agy/deleteSession", {"conversationId": conversation_id}))["deleted"] is False
        for hostile in ("../app", "../../" + root.lstrip("/") + "/app", "x\x00y", "a" * 5000, "*"):
            error = await request_error(client, "agy/deleteSession", {"conversationId": hostile})
            assert error.code == -32602 and root not in str(error), error
        with open(beside) as f:
            assert f.read() == "keep"
    finally:
        await stop(client)
