"""Stored sessions keep their MCP servers, never their env or headers."""

from __future__ import annotations

import json
import os
import tempfile

from agy_lsp.backends.scripted import ScriptedModel
from tests.e2e.conftest import start_client
from tests.e2e.test_confirm import openai_backend, tool_messages
from tests.e2e.test_mcp import echo_server, mcp_log, shout, shouted
from tests.helpers import request


async def test_resumed_conversation_keeps_its_mcp_servers_but_never_their_env(model: ScriptedModel) -> None:
    state_dir = tempfile.mkdtemp(prefix="agy-mcp-store-")
    log = mcp_log()
    server = echo_server(log)
    server["env"]["MCP_TOKEN"] = "hunter2-secret-value"
    backend, state = openai_backend(model, shout("one", "c1"), {"text": "first"}, shout("two", "c2"), {"text": "second"})
    policies = {"rules": [{"tool": "echo/shout", "decision": "allow"}]}
    client = await start_client({"AGY_STATE_DIR": state_dir})
    try:
        created = await request(client, "agy/createAgent", {"backend": backend, "mcpServers": [server], "policies": policies})
        await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "go"})
        conversation = (await request(client, "agy/status", {"agentId": created["agentId"]}))["conversationId"]
        await request(client, "agy/shutdownAgent", {"agentId": created["agentId"]})
        with open(os.path.join(state_dir, "sessions", f"{conversation}.json")) as f:
            stored = f.read()
        assert "hunter2" not in stored and "MCP_LOG" not in stored
        assert json.loads(stored)["spec"]["mcpServers"][0]["name"] == "echo"
        resumed = await request(client, "agy/createAgent", {"conversationId": conversation})
        result = await request(client, "agy/chat", {"agentId": resumed["agentId"], "prompt": "again"})
        assert result["text"] == "second"
        assert any("TWO" in m for m in tool_messages(state))  # the stored server is back...
        assert shouted(log) == ["one"]  # ...without the env it was given
    finally:
        await client.shutdown_session()
        await client.stop()
