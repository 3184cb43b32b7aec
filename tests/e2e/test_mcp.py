"""MCP servers over LSP: a real MCP stdio server (tests/mcp_server.py) behind the
real SDK and harness; only the model is scripted.

The harness shows the model `call_mcp_tool(ServerName, ToolName, Arguments)` and
lists each server's tools in the system prompt; we name the tools `server/tool`
in chunks, confirmations, remembered permissions and policy rules.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any

from pytest_lsp import LanguageClient

from agy_lsp.backends.scripted import ScriptedModel
from tests.e2e.test_confirm import answer_with, openai_backend, tool_messages
from tests.helpers import request, request_error

MCP_SERVER = os.path.join(os.path.dirname(os.path.dirname(__file__)), "mcp_server.py")


def echo_server(log: str) -> dict[str, Any]:
    return {"name": "echo", "command": sys.executable, "args": [MCP_SERVER], "env": {"MCP_LOG": log}}


def shout(text: str, call_id: str) -> dict[str, Any]:
    """The model calls the MCP tool the way the harness offers it: through call_mcp_tool."""
    args = {"ServerName": "echo", "ToolName": "shout", "Arguments": {"text": text}, "toolSummary": "Shouting", "toolAction": "Shouting"}
    return {"toolCalls": [{"name": "call_mcp_tool", "id": call_id, "args": args}]}


def shouted(log: str) -> list[str]:
    """What the MCP server's tool really received."""
    return open(log).read().splitlines() if os.path.exists(log) else []


def mcp_log() -> str:
    return os.path.join(tempfile.mkdtemp(prefix="agy-mcp-"), "calls.log")


async def test_the_default_asks_the_editor_and_allow_always_is_remembered_per_server_tool(
    client: LanguageClient, model: ScriptedModel, recorder: Any
) -> None:
    log, seen = mcp_log(), []
    answer_with(client, ["allow_always"], seen)
    backend, state = openai_backend(model, shout("hello", "c1"), shout("again", "c2"), {"text": "done"})
    created = await request(client, "agy/createAgent", {"backend": backend, "mcpServers": [echo_server(log)]})
    result = await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "shout"})

    assert result["text"] == "done"
    assert shouted(log) == ["hello", "again"]
    # Asked once, about `echo/shout` with the tool's own arguments (not call_mcp_tool's).
    assert len(seen) == 1 and seen[0]["toolCall"]["name"] == "echo/shout"
    assert seen[0]["toolCall"]["args"] == {"text": "hello"}
    status = await request(client, "agy/status", {"agentId": created["agentId"]})
    assert status["permissions"] == [{"tool": "echo/shout", "decision": "allow"}]
    # The model got the tool's answer.
    assert any("HELLO" in m for m in tool_messages(state)) and any("AGAIN" in m for m in tool_messages(state))
    # How the model sees MCP: one generic tool, and the server's tools listed in the system prompt.
    offered = [t["function"]["name"] for t in state.requests[0]["tools"]]
    assert "call_mcp_tool" in offered and not any("shout" in name for name in offered)
    system = str(state.requests[0]["messages"][0]["content"])
    assert "# echo" in system and "shout" in system
    # Chunks name the call and its result the same way.
    chunks = recorder.chunks(result["turnId"])
    calls = [c["toolCall"] for c in chunks if c["kind"] == "toolCall"]
    results = [c["toolResult"] for c in chunks if c["kind"] == "toolResult"]
    assert [c["name"] for c in calls] == ["echo/shout", "echo/shout"] and calls[0]["args"] == {"text": "hello"}
    assert [r["name"] for r in results] == ["echo/shout", "echo/shout"] and "HELLO" in json.dumps(results[0]["result"])


async def test_rejected_mcp_call_does_not_run_and_the_model_is_told(client: LanguageClient, model: ScriptedModel) -> None:
    log, seen = mcp_log(), []
    answer_with(client, ["reject_once"], seen)
    backend, state = openai_backend(model, shout("hello", "c1"), {"text": "ok, quietly"})
    created = await request(client, "agy/createAgent", {"backend": backend, "mcpServers": [echo_server(log)]})
    result = await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "shout"})
    assert result["text"] == "ok, quietly"
    assert len(seen) == 1 and seen[0]["toolCall"]["name"] == "echo/shout"
    assert shouted(log) == []
    assert any("denied" in m.lower() for m in tool_messages(state)), tool_messages(state)


async def test_policy_rules_match_server_slash_tool_and_the_tools_own_arguments(client: LanguageClient, model: ScriptedModel) -> None:
    log, seen = mcp_log(), []
    answer_with(client, [], seen)  # any question would be answered no, and recorded
    rules = [
        {"tool": "echo/shout", "decision": "allow", "when": [{"arg": "text", "pattern": "^ok"}]},
        {"tool": "echo/*", "decision": "deny", "reason": "no shouting here"},
    ]
    backend, state = openai_backend(model, shout("ok then", "c1"), shout("LOUD", "c2"), {"text": "done"})
    created = await request(client, "agy/createAgent", {"backend": backend, "mcpServers": [echo_server(log)], "policies": {"rules": rules}})
    await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "shout"})
    assert seen == []  # both decided by the rules, without asking
    assert shouted(log) == ["ok then"]
    assert any("no shouting here" in m for m in tool_messages(state)), tool_messages(state)


async def test_an_mcp_command_that_does_not_exist_is_invalid_params(client: LanguageClient, model: ScriptedModel) -> None:
    backend, _ = openai_backend(model)
    server = {"name": "ghost", "command": "/nonexistent/mcp-server"}
    error = await request_error(client, "agy/createAgent", {"backend": backend, "mcpServers": [server]})
    assert error.code == -32602 and "ghost" in str(error)


async def test_an_mcp_server_that_fails_to_connect_fails_the_turn_with_its_cause(client: LanguageClient, model: ScriptedModel) -> None:
    backend, _ = openai_backend(model, {"text": "never"})
    server = {"name": "down", "type": "http", "url": "http://127.0.0.1:9/mcp"}
    created = await request(client, "agy/createAgent", {"backend": backend, "mcpServers": [server]})
    error = await request_error(client, "agy/chat", {"agentId": created["agentId"], "prompt": "hi"})
    assert error.code == -32007 and "MCP load failed for down" in str(error.data)
