"""The editor as confirmation handler: every path by which an ask_user tool may or may not run."""

from __future__ import annotations

import asyncio
import os
import tempfile
from typing import Any

from pytest_lsp import LanguageClient

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from tests.e2e.conftest import start_client
from tests.helpers import request, to_dict


def openai_backend(model: ScriptedModel, *replies: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    base_url, state = model.register(parse_script(list(replies)))
    return {"type": "openai", "baseUrl": base_url, "model": "scripted"}, state


def write_call(path: str, call_id: str = "c1") -> dict[str, Any]:
    return {"toolCalls": [{"name": "run_command", "id": call_id, "args": {"CommandLine": f"echo ran > {path}", "Cwd": "/tmp"}}]}


def tool_messages(state: Any) -> list[str]:
    """What the model was told about tool calls, in its last request."""
    return [str(m.get("content")) for m in state.requests[-1]["messages"] if m.get("role") == "tool"]


def answer_with(client: LanguageClient, outcomes: list[str], seen: list[dict[str, Any]]) -> None:
    @client.feature("agy/confirmToolCall")
    async def confirm(params: Any) -> dict[str, Any]:
        seen.append(to_dict(params))
        return {"outcome": outcomes.pop(0) if outcomes else "reject_once"}


def never_answer(client: LanguageClient) -> asyncio.Event:
    """A confirmation handler that never answers; the event is set once it was asked."""
    asked = asyncio.Event()

    @client.feature("agy/confirmToolCall")
    async def confirm(params: Any) -> Any:
        asked.set()
        await asyncio.sleep(3600)

    return asked


def target() -> str:
    return os.path.join(tempfile.mkdtemp(prefix="agy-confirm-"), "out.txt")


async def test_allow_once_runs_the_tool(client: LanguageClient, model: ScriptedModel) -> None:
    path, seen = target(), []
    answer_with(client, ["allow_once"], seen)
    backend, state = openai_backend(model, write_call(path), {"text": "done"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "write"})
    assert result["text"] == "done"
    assert os.path.exists(path)
    assert len(seen) == 1 and seen[0]["toolCall"]["name"] == "run_command" and seen[0]["agentId"] == agent_id
    assert seen[0]["turnId"] == result["turnId"]
    assert [o["kind"] for o in seen[0]["options"]] == ["allow_once", "allow_always", "reject_once", "reject_always"]


async def test_reject_once_does_not_run_and_the_model_sees_it(client: LanguageClient, model: ScriptedModel) -> None:
    path, seen = target(), []
    answer_with(client, ["reject_once"], seen)
    backend, state = openai_backend(model, write_call(path), {"text": "ok, not doing it"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "write"})
    assert result["text"] == "ok, not doing it"
    assert not os.path.exists(path)
    assert any("denied" in m.lower() for m in tool_messages(state)), tool_messages(state)


async def test_allow_always_is_asked_once_then_remembered(client: LanguageClient, model: ScriptedModel) -> None:
    first, second, seen = target(), target(), []
    answer_with(client, ["allow_always"], seen)
    backend, _ = openai_backend(model, write_call(first, "a"), {"text": "one"}, write_call(second, "b"), {"text": "two"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    await request(client, "agy/chat", {"agentId": agent_id, "prompt": "first"})
    await request(client, "agy/chat", {"agentId": agent_id, "prompt": "second"})
    assert os.path.exists(first) and os.path.exists(second)
    assert len(seen) == 1
    status = await request(client, "agy/status", {"agentId": agent_id})
    assert status["permissions"] == [{"tool": "run_command", "decision": "allow"}]
    await request(client, "agy/resetPermissions", {"agentId": agent_id})
    assert (await request(client, "agy/status", {"agentId": agent_id}))["permissions"] == []


async def test_client_without_the_capability_is_denied(model: ScriptedModel) -> None:
    client = await start_client(confirm=False)
    try:
        path = target()
        backend, state = openai_backend(model, write_call(path), {"text": "fine"})
        agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
        await request(client, "agy/chat", {"agentId": agent_id, "prompt": "write"})
        assert not os.path.exists(path)
        assert any("denied" in m.lower() for m in tool_messages(state))
        assert any("this client cannot ask for it" in m.message for m in client.log_messages)
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_garbage_or_error_answers_deny(client: LanguageClient, model: ScriptedModel) -> None:
    answers: list[Any] = [{"outcome": 42}, {"nonsense": True}]
    # The editor failing is the point here: keep pytest-lsp from failing the test for it.
    client.report_server_error = lambda error, source: None  # type: ignore[method-assign]

    @client.feature("agy/confirmToolCall")
    async def confirm(params: Any) -> Any:
        if not answers:
            raise RuntimeError("the editor blew up")
        return answers.pop(0)

    paths = [target() for _ in range(3)]
    replies = [r for i, p in enumerate(paths) for r in (write_call(p, f"g{i}"), {"text": f"t{i}"})]
    backend, _ = openai_backend(model, *replies)
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    for i in range(3):
        await request(client, "agy/chat", {"agentId": agent_id, "prompt": f"go {i}"})
    assert not any(os.path.exists(p) for p in paths)


async def test_no_answer_denies_after_the_timeout(model: ScriptedModel) -> None:
    client = await start_client(env={"AGY_CONFIRM_TIMEOUT_SECS": "1"})
    try:
        asked = never_answer(client)
        path = target()
        backend, state = openai_backend(model, write_call(path), {"text": "gave up"})
        agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
        result = await asyncio.wait_for(request(client, "agy/chat", {"agentId": agent_id, "prompt": "write"}), 20)
        assert asked.is_set() and result["text"] == "gave up"
        assert not os.path.exists(path)
        assert any("denied" in m.lower() for m in tool_messages(state))
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_cancelling_the_turn_during_a_pending_confirmation(client: LanguageClient, model: ScriptedModel) -> None:
    asked = never_answer(client)
    path = target()
    backend, _ = openai_backend(model, write_call(path), {"text": "never"}, {"text": "next turn"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    chat = asyncio.ensure_future(request(client, "agy/chat", {"agentId": agent_id, "prompt": "write"}))
    await asyncio.wait_for(asked.wait(), 10)
    await request(client, "agy/cancel", {"agentId": agent_id})
    result = await asyncio.wait_for(chat, 10)
    assert result["stopReason"] == "cancelled"
    await asyncio.sleep(0.5)
    assert not os.path.exists(path)
    follow_up = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "again"})
    assert follow_up["stopReason"] == "end_turn"


async def test_two_agents_confirm_at_once(client: LanguageClient, model: ScriptedModel) -> None:
    paths = [target(), target()]
    pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
    both_asked = asyncio.Event()

    @client.feature("agy/confirmToolCall")
    async def confirm(params: Any) -> Any:
        agent_id = to_dict(params)["agentId"]
        pending[agent_id] = asyncio.get_running_loop().create_future()
        if len(pending) == 2:
            both_asked.set()
        return await pending[agent_id]

    ids = []
    for i, path in enumerate(paths):
        backend, _ = openai_backend(model, write_call(path, f"p{i}"), {"text": f"agent {i} done"})
        ids.append((await request(client, "agy/createAgent", {"backend": backend}))["agentId"])
    chats = [asyncio.ensure_future(request(client, "agy/chat", {"agentId": a, "prompt": "write"})) for a in ids]
    await asyncio.wait_for(both_asked.wait(), 15)  # both are waiting at the same time
    pending[ids[1]].set_result({"outcome": "allow_once"})  # answer the second first
    second = await asyncio.wait_for(chats[1], 10)
    assert second["text"] == "agent 1 done" and os.path.exists(paths[1])
    assert not chats[0].done() and not os.path.exists(paths[0])  # the slow answer blocks only its own agent
    pending[ids[0]].set_result({"outcome": "reject_once"})
    assert (await asyncio.wait_for(chats[0], 10))["text"] == "agent 0 done"
    assert not os.path.exists(paths[0])


async def test_deny_rule_with_an_argument_matcher(client: LanguageClient, model: ScriptedModel, recorder) -> None:
    seen: list[dict[str, Any]] = []
    answer_with(client, ["allow_once"], seen)
    victim = target()
    open(victim, "w").close()
    rm = {"toolCalls": [{"name": "run_command", "id": "rm1", "args": {"CommandLine": f"rm {victim}", "Cwd": "/tmp"}}]}
    safe = target()
    backend, state = openai_backend(model, rm, {"text": "blocked"}, write_call(safe, "ok1"), {"text": "wrote"})
    rules = [{"tool": "run_command", "decision": "deny", "when": [{"arg": "CommandLine", "pattern": r"\brm\b"}], "reason": "no rm"}]
    agent_id = (await request(client, "agy/createAgent", {"backend": backend, "policies": {"rules": rules}}))["agentId"]
    denied = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "delete"})
    assert os.path.exists(victim) and not seen, "rm was denied without asking"
    assert any("no rm" in m for m in tool_messages(state))
    (result,) = [c["toolResult"] for c in recorder.chunks(denied["turnId"]) if c["kind"] == "toolResult"]
    assert (result["id"], result["outcome"], result["error"]) == ("rm1", "denied", "no rm"), "the rule's own reason reaches the person"
    await request(client, "agy/chat", {"agentId": agent_id, "prompt": "write"})
    assert os.path.exists(safe) and len(seen) == 1, "other commands still ask and run when allowed"


async def test_presets(client: LanguageClient, model: ScriptedModel) -> None:
    allowed, denied = target(), target()
    backend, _ = openai_backend(model, write_call(allowed), {"text": "a"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend, "policies": "allowAll"}))["agentId"]
    await request(client, "agy/chat", {"agentId": agent_id, "prompt": "go"})
    backend, _ = openai_backend(model, write_call(denied), {"text": "b"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend, "policies": {"preset": "denyAll"}}))["agentId"]
    await request(client, "agy/chat", {"agentId": agent_id, "prompt": "go"})
    assert os.path.exists(allowed) and not os.path.exists(denied)


async def test_a_rejected_call_is_shown_with_its_outcome_live_and_in_history(
    client: LanguageClient, model: ScriptedModel, recorder
) -> None:
    path, seen = target(), []
    answer_with(client, ["reject_once"], seen)
    backend, _ = openai_backend(model, write_call(path, "r1"), {"text": "ok"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "write"})
    chunks = recorder.chunks(result["turnId"])
    calls = [c["toolCall"] for c in chunks if c["kind"] == "toolCall"]
    results = [c["toolResult"] for c in chunks if c["kind"] == "toolResult"]
    assert [c["id"] for c in calls] == [r["id"] for r in results] == ["r1"]
    assert results[0]["outcome"] == "denied" and results[0]["error"] == "you rejected the tool call"
    steps = (await request(client, "agy/history", {"agentId": agent_id}))["steps"]
    refused = [s for s in steps if s.get("toolCalls") and s["toolCalls"][0]["id"] == "r1"]
    assert len(refused) == 1 and refused[0]["toolCalls"][0]["outcome"] == "denied"
    assert refused[0]["error"] == "you rejected the tool call" and not refused[0].get("content")
    assert not any("rule:" in (s.get("error") or "") + (s.get("content") or "") for s in steps), steps
    export = await request(client, "agy/exportSession", {"agentId": agent_id})
    assert "(denied)" in export["markdown"] and "rule:" not in export["markdown"]


async def test_a_call_cancelled_with_its_turn_ends_with_outcome_cancelled(client: LanguageClient, model: ScriptedModel, recorder) -> None:
    asked = never_answer(client)
    backend, _ = openai_backend(model, write_call(target(), "k1"), {"text": "never"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    chat = asyncio.ensure_future(request(client, "agy/chat", {"agentId": agent_id, "prompt": "write"}))
    await asyncio.wait_for(asked.wait(), 10)
    await request(client, "agy/cancel", {"agentId": agent_id})
    result = await asyncio.wait_for(chat, 10)
    results = [c["toolResult"] for c in recorder.chunks(result["turnId"]) if c["kind"] == "toolResult"]
    assert [(r["id"], r["outcome"]) for r in results] == [("k1", "cancelled")], results
    assert "cancelled" in results[0]["error"]
