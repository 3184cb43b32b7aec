"""Every query, and the error codes for unknown agents, bad params and unknown methods."""

from __future__ import annotations

from pytest_lsp import LanguageClient

from tests.helpers import request, request_error, scripted


async def test_every_query(client: LanguageClient) -> None:
    backend = scripted({"text": "first reply"}, {"text": "second reply"})
    created = await request(client, "agy/createAgent", {"backend": backend, "name": "q", "systemInstructions": "Be brief."})
    agent_id = created["agentId"]
    status = await request(client, "agy/status", {"agentId": agent_id})
    assert status["state"] == "idle" and status["turnCount"] == 0 and status["lastResponse"] == ""
    assert status["name"] == "q" and status["lastTurnUsage"] is None and status["permissions"] == []

    await request(client, "agy/chat", {"agentId": agent_id, "prompt": "one"})
    second = await request(client, "agy/chat", {"agentId": agent_id, "prompt": [{"type": "text", "text": "two"}]})
    assert second["text"] == "second reply"

    status = await request(client, "agy/status", {"agentId": agent_id})
    assert status["turnCount"] == 2 and status["lastResponse"] == "second reply"
    assert status["conversationId"] and status["totalUsage"]["totalTokens"] > status["lastTurnUsage"]["totalTokens"] > 0
    assert status["compactionIndices"] == []

    history = await request(client, "agy/history", {"agentId": agent_id})
    assert history["total"] == len(history["steps"]) >= 4
    ids = [s["id"] for s in history["steps"]]
    assert len(ids) == len(set(ids)), "each step once, in its latest form"
    assert all(s["status"] == "DONE" for s in history["steps"])
    contents = [s["content"] for s in history["steps"]]
    assert contents[0] == "one" and "second reply" in contents
    page = await request(client, "agy/history", {"agentId": agent_id, "offset": 1, "limit": 2})
    assert page["total"] == history["total"] and page["steps"] == history["steps"][1:3]

    usage = await request(client, "agy/usage", {"agentId": agent_id})
    assert usage["totalUsage"] == status["totalUsage"] and usage["lastTurnUsage"] == status["lastTurnUsage"]

    assert (await request(client, "agy/structuredOutput", {"agentId": agent_id}))["structuredOutput"] is None
    listed = await request(client, "agy/listAgents", {})
    assert {"agentId": agent_id, "name": "q", "state": "idle", "conversationId": status["conversationId"], "turnCount": 2} in listed[
        "agents"
    ]
    info = await request(client, "agy/serverInfo", {})
    assert info["name"] == "agy-lsp" and info["sdkVersion"] and info["defaultBackend"] == "scripted"

    assert (await request(client, "agy/clearHistory", {"agentId": agent_id}))["ok"] is True
    cleared = await request(client, "agy/history", {"agentId": agent_id})
    assert cleared == {"steps": [], "total": 0}
    assert (await request(client, "agy/status", {"agentId": agent_id}))["turnCount"] == 0


async def test_shutdown_disconnect_delete(client: LanguageClient, recorder) -> None:
    ids = [(await request(client, "agy/createAgent", {"backend": scripted()}))["agentId"] for _ in range(3)]
    await request(client, "agy/chat", {"agentId": ids[2], "prompt": "keep me"})
    assert (await request(client, "agy/shutdownAgent", {"agentId": ids[0]}))["ok"]
    assert (await request(client, "agy/disconnectAgent", {"agentId": ids[1]}))["ok"]
    assert (await request(client, "agy/deleteAgent", {"agentId": ids[2]}))["ok"]
    assert recorder.states(ids[0])[-1] == "closed"
    remaining = {a["agentId"] for a in (await request(client, "agy/listAgents", {}))["agents"]}
    assert not remaining & set(ids)
    for agent_id in ids:
        error = await request_error(client, "agy/status", {"agentId": agent_id})
        assert error.code == -32001


async def test_error_codes(client: LanguageClient) -> None:
    error = await request_error(client, "agy/chat", {"agentId": "nope", "prompt": "hi"})
    assert error.code == -32001 and error.data == {"code": "AGENT_NOT_FOUND", "agentId": "nope"}

    error = await request_error(client, "agy/chat", {"agentId": 5})
    assert error.code == -32602 and error.data["code"] == "INVALID_PARAMS" and "agentId" in error.data["cause"]

    error = await request_error(client, "agy/createAgent", {"backend": {"type": "martian"}})
    assert error.code == -32602

    error = await request_error(client, "agy/createAgent", {"backend": {"type": "openai"}})
    assert error.code == -32602 and "baseUrl" in error.message

    error = await request_error(client, "agy/createAgent", {"backend": {"type": "scripted", "script": [{"bogus": 1}]}})
    assert error.code == -32602 and "script" in error.message

    error = await request_error(client, "agy/noSuchMethod", {})
    assert error.code == -32601

    agent_id = (await request(client, "agy/createAgent", {"backend": scripted()}))["agentId"]
    error = await request_error(client, "agy/chat", {"agentId": agent_id, "prompt": "   "})
    assert error.code == -32602 and error.data["field"] == "prompt"
    bad_image = [{"type": "image", "data": "%%%", "mimeType": "image/png"}]
    error = await request_error(client, "agy/chat", {"agentId": agent_id, "prompt": bad_image})
    assert error.code == -32602
    error = await request_error(client, "agy/history", {"agentId": agent_id, "offset": -1})
    assert error.code == -32602
    # the server keeps serving, and the agent still works
    assert (await request(client, "agy/chat", {"agentId": agent_id, "prompt": "still here"}))["text"] == "You said: still here"
