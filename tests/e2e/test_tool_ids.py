"""One id per tool call: the same in agy/confirmToolCall, the toolCall and toolResult
chunks, agy/runTool, agy/hook payloads and agy/history (real SDK, scripted model)."""

from __future__ import annotations

import asyncio
import tempfile
from typing import Any

from pytest_lsp import LanguageClient

from agy_lsp.backends.scripted import ScriptedModel
from tests.e2e.conftest import start_client
from tests.e2e.test_confirm import openai_backend
from tests.e2e.test_mcp import echo_server, mcp_log, shout
from tests.helpers import Recorder, request, to_dict, wait_until

WORD_COUNT = {
    "name": "word_count",
    "description": "Counts the words of a text",
    "parameters": {"type": "object", "properties": {"text": {"type": "string"}}},
}


def calls(*specs: tuple[str, str | None, dict[str, Any]]) -> dict[str, Any]:
    """One model reply calling tools: (name, id or None for the model's default, args)."""
    return {"toolCalls": [{"name": n, "args": a, **({"id": i} if i else {})} for n, i, a in specs]}


def run(command: str, call_id: str | None = None) -> tuple[str, str | None, dict[str, Any]]:
    return "run_command", call_id, {"CommandLine": command, "Cwd": tempfile.gettempdir()}


def ids(chunks: list[dict[str, Any]], kind: str) -> list[str]:
    return [c[kind]["id"] for c in chunks if c["kind"] == kind]


async def history_ids(client: LanguageClient, agent_id: str) -> dict[str, set[str]]:
    """Tool name -> the ids its calls have in agy/history."""
    steps = (await request(client, "agy/history", {"agentId": agent_id}))["steps"]
    out: dict[str, set[str]] = {}
    for step in steps:
        for call in step.get("toolCalls") or []:
            out.setdefault(call["name"], set()).add(call["id"])
    return out


async def test_one_id_in_every_message_for_a_builtin_and_an_editor_tool(
    client: LanguageClient, model: ScriptedModel, recorder: Recorder
) -> None:
    confirms: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    hooks: list[dict[str, Any]] = []

    @client.feature("agy/confirmToolCall")
    async def confirm(params: Any) -> dict[str, Any]:
        confirms.append(to_dict(params))
        return {"outcome": "allow_once"}

    @client.feature("agy/runTool")
    async def run_tool(params: Any) -> dict[str, Any]:
        runs.append(to_dict(params))
        return {"content": "3 words"}

    @client.feature("agy/hook")  # preToolCall is a request, postToolCall a notification
    async def hook(params: Any) -> dict[str, Any]:
        hooks.append(to_dict(params))
        return {"allow": True}

    backend, _ = openai_backend(
        model, calls(run("echo hi", "call-A")), calls(("word_count", "call-B", {"text": "a b c"})), {"text": "done"}
    )
    created = await request(
        client, "agy/createAgent", {"backend": backend, "tools": [WORD_COUNT], "hooks": ["preToolCall", "postToolCall"]}
    )
    agent_id = created["agentId"]
    result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "count"})
    assert result["text"] == "done"
    await wait_until(lambda: len([h for h in hooks if h["point"] == "postToolCall"]) == 2)

    chunks = recorder.chunks(result["turnId"])
    assert [c["toolCall"]["id"] for c in confirms] == ["call-A", "call-B"]
    assert ids(chunks, "toolCall") == ["call-A", "call-B"]
    assert ids(chunks, "toolResult") == ["call-A", "call-B"]
    assert [r["toolCall"]["id"] for r in runs] == ["call-B"]
    for point in ("preToolCall", "postToolCall"):
        assert [h["data"]["id"] for h in hooks if h["point"] == point] == ["call-A", "call-B"], point
    assert await history_ids(client, agent_id) == {"run_command": {"call-A"}, "word_count": {"call-B"}}
    # The model's ids are unique here, so no message needs `callId`.
    assert all("callId" not in c["toolCall"] for c in confirms)
    # The arguments differ in spelling (docs/protocol.md#tool-call-ids): the model's in the
    # confirmation and hooks, the SDK's in the chunks and history.
    assert confirms[0]["toolCall"]["args"]["CommandLine"] == "echo hi"
    assert next(c for c in chunks if c["kind"] == "toolCall")["toolCall"]["args"]["command_line"] == "echo hi"


async def test_repeated_model_ids_become_unique_and_keep_call_id(client: LanguageClient, model: ScriptedModel, recorder: Recorder) -> None:
    # Without an id in the script the scripted model says `call_0_run_command` every time.
    backend, _ = openai_backend(model, calls(run("echo one")), calls(run("echo two")), {"text": "t1"}, calls(run("echo 3")), {"text": "t2"})
    created = await request(client, "agy/createAgent", {"backend": backend, "policies": "allowAll"})
    agent_id = created["agentId"]
    first = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "one"})
    second = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "two"})

    turn1, turn2 = recorder.chunks(first["turnId"]), recorder.chunks(second["turnId"])
    made = ids(turn1, "toolCall") + ids(turn2, "toolCall")
    assert made[0] == "call_0_run_command" and len(set(made)) == 3, made
    assert ids(turn1, "toolResult") + ids(turn2, "toolResult") == made
    later = [c["toolCall"] for c in turn1 + turn2 if c["kind"] == "toolCall"][1:]
    assert all(c["callId"] == "call_0_run_command" for c in later), later
    outputs = [str(c["toolResult"]["result"]) for c in turn1 + turn2 if c["kind"] == "toolResult"]
    assert ["one" in outputs[0], "two" in outputs[1], "3" in outputs[2]] == [True] * 3, outputs
    assert await history_ids(client, agent_id) == {"run_command": set(made)}


async def test_a_call_denied_by_policy_does_not_lend_its_id_to_the_next(
    client: LanguageClient, model: ScriptedModel, recorder: Recorder
) -> None:
    # The harness denies the first call without asking anyone; only its error step tells.
    deny = {"tool": "run_command", "decision": "deny", "when": [{"arg": "CommandLine", "pattern": "forbidden"}]}
    backend, _ = openai_backend(model, calls(run("echo forbidden", "d1")), calls(run("echo fine", "ok1")), {"text": "done"})
    created = await request(client, "agy/createAgent", {"backend": backend, "policies": {"preset": "allowAll", "rules": [deny]}})
    result = await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "go"})
    chunks = recorder.chunks(result["turnId"])
    # The denied call is shown too, under its own id, with its outcome (it never ran).
    assert ids(chunks, "toolCall") == ["d1", "ok1"] and ids(chunks, "toolResult") == ["d1", "ok1"]
    denied, fine = (c["toolResult"] for c in chunks if c["kind"] == "toolResult")
    assert denied["outcome"] == "denied" and "result" not in denied and "rule:" not in denied["error"]
    assert fine["outcome"] == "completed" and "fine" in str(fine["result"])


async def test_parallel_calls_of_one_editor_tool_keep_their_ids(client: LanguageClient, model: ScriptedModel, recorder: Recorder) -> None:
    runs: list[dict[str, Any]] = []

    @client.feature("agy/runTool")
    async def run_tool(params: Any) -> dict[str, Any]:
        runs.append(to_dict(params))
        call_id = runs[-1]["toolCall"]["id"]
        await asyncio.sleep(0.3 if call_id == "p1" else 0)  # the first one answers last
        return {"content": f"ran {call_id}"}

    same = {"text": "same words"}  # identical arguments: only the ids tell the calls apart
    backend, _ = openai_backend(model, calls(("word_count", "p1", same), ("word_count", "p2", same)), {"text": "done"})
    created = await request(client, "agy/createAgent", {"backend": backend, "tools": [WORD_COUNT], "policies": "allowAll"})
    result = await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "go"})
    chunks = recorder.chunks(result["turnId"])
    assert sorted(r["toolCall"]["id"] for r in runs) == ["p1", "p2"]
    assert sorted(ids(chunks, "toolCall")) == ["p1", "p2"]
    results = {c["toolResult"]["id"]: str(c["toolResult"]["result"]) for c in chunks if c["kind"] == "toolResult"}
    assert set(results) == {"p1", "p2"} and all(f"ran {i}" in text for i, text in results.items()), results


async def test_mcp_calls_keep_their_ids(client: LanguageClient, model: ScriptedModel, recorder: Recorder) -> None:
    confirms: list[dict[str, Any]] = []

    @client.feature("agy/confirmToolCall")
    async def confirm(params: Any) -> dict[str, Any]:
        confirms.append(to_dict(params))
        return {"outcome": "allow_once"}

    backend, _ = openai_backend(model, shout("hello", "m1"), shout("again", "m2"), {"text": "done"})
    created = await request(client, "agy/createAgent", {"backend": backend, "mcpServers": [echo_server(mcp_log())]})
    result = await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "shout"})
    chunks = recorder.chunks(result["turnId"])
    assert [c["toolCall"]["id"] for c in confirms] == ["m1", "m2"]
    assert ids(chunks, "toolCall") == ["m1", "m2"] and ids(chunks, "toolResult") == ["m1", "m2"]
    assert await history_ids(client, created["agentId"]) == {"echo/shout": {"m1", "m2"}}


async def test_history_keeps_the_ids_after_a_wake_up(model: ScriptedModel) -> None:
    """After hibernation the SDK re-reads the conversation from disk: new step objects,
    and an editor tool's step now has a step id and the model's call id."""
    client = await start_client({"AGY_IDLE_TIMEOUT_SECS": "1", "AGY_STATE_DIR": tempfile.mkdtemp(prefix="agy-ids-")})
    try:

        @client.feature("agy/runTool")
        async def run_tool(params: Any) -> dict[str, Any]:
            return {"content": "2 words"}

        count = ("word_count", "w", {"text": "a b"})  # the same model id twice: the second gets another
        backend, _ = openai_backend(model, calls(run("echo hi", "h1")), calls(count), calls(count), {"text": "done"}, {"text": "awake"})
        agent_id = (await request(client, "agy/createAgent", {"backend": backend, "tools": [WORD_COUNT], "policies": "allowAll"}))[
            "agentId"
        ]
        result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "count"})
        live = ids(client.recorder.chunks(result["turnId"]), "toolCall")  # type: ignore[attr-defined]
        assert live[:2] == ["h1", "w"] and len(set(live)) == 3, live
        assert await history_ids(client, agent_id) == {"run_command": {"h1"}, "word_count": set(live[1:])}

        await client.recorder.wait_for(lambda: "hibernated" in client.recorder.states(agent_id))  # type: ignore[attr-defined]
        await request(client, "agy/chat", {"agentId": agent_id, "prompt": "wake up"})
        assert await history_ids(client, agent_id) == {"run_command": {"h1"}, "word_count": set(live[1:])}
    finally:
        await client.shutdown_session()
        await client.stop()
