"""Editor tools (agy/runTool) and hooks (agy/hook) on the real SDK."""

from __future__ import annotations

import os
from typing import Any

from pytest_lsp import LanguageClient

from agy_lsp.backends.scripted import ScriptedModel
from tests.e2e.test_confirm import openai_backend, target, tool_messages, write_call
from tests.helpers import request, to_dict, wait_until

SELECTION_TOOL = {
    "name": "editor_selection",
    "description": "The text selected in the editor",
    "parameters": {"type": "object", "properties": {"buffer": {"type": "string"}}},
}


def call(name: str, args: dict[str, Any], call_id: str = "t1") -> dict[str, Any]:
    return {"toolCalls": [{"name": name, "id": call_id, "args": args}]}


async def test_editor_tool_result_reaches_the_model(client: LanguageClient, model: ScriptedModel, recorder) -> None:
    runs: list[dict[str, Any]] = []

    @client.feature("agy/runTool")
    async def run_tool(params: Any) -> dict[str, Any]:
        runs.append(to_dict(params))
        return {"content": "SELECTED: def main()", "state": {"calls": len(runs)}}

    @client.feature("agy/confirmToolCall")
    async def confirm(params: Any) -> dict[str, Any]:
        return {"outcome": "allow_once"}

    backend, state = openai_backend(
        model,
        call("editor_selection", {"buffer": "main.py"}),
        {"text": "got it"},
        call("editor_selection", {"buffer": "x"}, "t2"),
        {"text": "again"},
    )
    created = await request(client, "agy/createAgent", {"backend": backend, "tools": [SELECTION_TOOL], "policies": "allowAll"})
    assert "editor_selection" in created["tools"]
    result = await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "what is selected?"})
    assert result["text"] == "got it"
    assert runs[0]["toolCall"]["args"] == {"buffer": "main.py"} and runs[0]["turnId"] == result["turnId"]
    assert any("SELECTED: def main()" in m for m in tool_messages(state))
    tool_results = [c for c in recorder.chunks(result["turnId"]) if c["kind"] == "toolResult"]
    assert tool_results and "SELECTED" in str(tool_results[0]["toolResult"]["result"])
    await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "again"})
    assert runs[1]["state"] == {"calls": 1}, "tool state persists per agent between calls"


async def test_editor_tool_error_reaches_the_model_as_a_tool_error(client: LanguageClient, model: ScriptedModel) -> None:
    @client.feature("agy/runTool")
    async def run_tool(params: Any) -> dict[str, Any]:
        return {"error": "no buffer named ghost.py"}

    backend, state = openai_backend(model, call("editor_selection", {"buffer": "ghost.py"}), {"text": "sorry"})
    created = await request(client, "agy/createAgent", {"backend": backend, "tools": [SELECTION_TOOL], "policies": "allowAll"})
    result = await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "select"})
    assert result["text"] == "sorry"
    assert any("no buffer named ghost.py" in m for m in tool_messages(state))


async def test_editor_tools_go_through_policies(client: LanguageClient, model: ScriptedModel) -> None:
    runs: list[Any] = []

    @client.feature("agy/runTool")
    async def run_tool(params: Any) -> dict[str, Any]:
        runs.append(params)
        return {"content": "x"}

    @client.feature("agy/confirmToolCall")
    async def confirm(params: Any) -> dict[str, Any]:
        return {"outcome": "reject_once"}

    backend, state = openai_backend(model, call("editor_selection", {}), {"text": "denied"})
    created = await request(client, "agy/createAgent", {"backend": backend, "tools": [SELECTION_TOOL]})
    await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "select"})
    assert runs == [], "the default policy asked, the person rejected, the editor tool never ran"


async def test_pre_tool_call_hook_can_deny(client: LanguageClient, model: ScriptedModel, recorder) -> None:
    hooks: list[dict[str, Any]] = []

    @client.feature("agy/hook")  # requests (decide points) and notifications (inspect points)
    async def hook(params: Any) -> dict[str, Any]:
        hooks.append(to_dict(params))
        return {"allow": False, "message": "blocked by the editor hook"}

    path = target()
    backend, state = openai_backend(model, write_call(path), {"text": "ok"})
    created = await request(client, "agy/createAgent", {"backend": backend, "policies": "allowAll", "hooks": ["preToolCall", "postTurn"]})
    await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "write"})
    assert not os.path.exists(path)
    assert hooks and hooks[0]["point"] == "preToolCall" and hooks[0]["data"]["name"] == "run_command"
    assert any("blocked by the editor hook" in m for m in tool_messages(state))
    # postTurn is an inspect point: a notification, not a request
    await wait_until(lambda: any(h["point"] == "postTurn" for h in hooks))


async def test_unsubscribed_hooks_send_nothing(client: LanguageClient, model: ScriptedModel) -> None:
    hooks: list[Any] = []

    @client.feature("agy/hook")
    async def hook(params: Any) -> dict[str, Any]:
        hooks.append(params)
        return {"allow": True}

    path = target()
    backend, _ = openai_backend(model, write_call(path), {"text": "ok"})
    created = await request(client, "agy/createAgent", {"backend": backend, "policies": "allowAll"})
    await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "write"})
    assert os.path.exists(path) and hooks == []


async def test_on_interaction_answer_goes_back_to_the_agent(client: LanguageClient, model: ScriptedModel) -> None:
    asked: list[dict[str, Any]] = []

    @client.feature("agy/hook")
    async def hook(params: Any) -> dict[str, Any]:
        asked.append(to_dict(params))
        return {"answer": "blue, definitely"}

    question = {
        "questions": [{"question": "Which colour?", "options": ["red", "blue"]}],
        "toolSummary": "Colour",
        "toolAction": "Asking",
    }
    backend, state = openai_backend(model, call("ask_question", question), {"text": "blue it is"})
    created = await request(
        client,
        "agy/createAgent",
        {
            "backend": backend,
            "policies": "allowAll",
            "hooks": ["onInteraction"],
            "capabilities": {"enabledTools": ["ask_question", "view_file"]},
        },
    )
    result = await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "pick a colour"})
    assert result["text"] == "blue it is"
    interaction = next(a for a in asked if a["point"] == "onInteraction")
    assert "Which colour?" in str(interaction["data"])
    assert any("blue, definitely" in m for m in tool_messages(state)), tool_messages(state)
