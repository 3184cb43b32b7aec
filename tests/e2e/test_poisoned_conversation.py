"""A model's call that the SDK could not read back (issue #25, defect 5): arguments
nested too deep, or too large. The call is refused with a reason the model sees, the
agent answers the next turn, and the conversation resumes after a restart with all
its turns (docs/reliability.md, "Poisoned conversations")."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import Any

import pytest

from agy_lsp.backends.scripted import ScriptedModel
from agy_lsp.sdk.tool_args import MAX_BYTES, MAX_DEPTH
from tests.e2e.conftest import start_client
from tests.e2e.test_confirm import openai_backend, target, tool_messages
from tests.e2e.test_sessions import stop
from tests.helpers import request, request_error, to_dict

NOTE_TOOL = {"name": "editor_note", "description": "Keeps a note", "parameters": {"type": "object", "properties": {"note": {}}}}


def nested(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = {"a": value}
    return value


def poisoned_args(kind: str) -> tuple[dict[str, Any], str | None]:
    """Arguments the harness takes from the model and records, and what the model is
    told. A model's event over about 8 MB the harness refuses itself ("Model produced
    invalid output"), in either dialect: the 10 MB call never reaches the SDK."""
    if kind == "deep":
        return {"note": nested(60)}, f"arguments nested too deep (max {MAX_DEPTH})"
    if kind == "1500 deep":  # the SDK's own pre-tool hook fails to decode them: blocked all the same
        return {"note": nested(1500)}, "blocked due to pre-tool hook"
    if kind == "10MB":
        return {"note": "y" * 10_000_000}, None
    return {"note": "y" * 6_000_000}, f"max {MAX_BYTES}"


@pytest.fixture
def state_dir() -> Any:
    """A state directory of its own (a 10 MB reply leaves a ~90 MB record): removed after."""
    path = tempfile.mkdtemp(prefix="agy-poison-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def deep_recursion() -> Any:
    """Room for the scripted model's json.dumps of a 1500-deep call, in this process."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)
    yield
    sys.setrecursionlimit(old)


@pytest.mark.parametrize("kind", ["deep", "1500 deep", "large", "10MB"])
@pytest.mark.usefixtures("deep_recursion")
async def test_a_poisoned_call_is_refused_and_the_conversation_lives_on(model: ScriptedModel, kind: str, state_dir: str) -> None:
    args, told = poisoned_args(kind)
    replies = [{"text": "hello"}, {"toolCalls": [{"name": "editor_note", "id": "t1", "args": args}]}, {"text": "refused, sorry"}]
    replies += [{"text": "still here"}, {"text": "back again"}]
    env = {"AGY_STATE_DIR": state_dir}
    backend, state = openai_backend(model, *replies)
    first = await start_client(env)
    runs: list[Any] = []

    @first.feature("agy/runTool")
    async def run_tool(params: Any) -> dict[str, Any]:
        runs.append(params)
        return {"content": "noted"}

    try:
        spec = {"backend": backend, "tools": [NOTE_TOOL], "policies": "allowAll"}
        agent_id = (await request(first, "agy/createAgent", spec))["agentId"]
        assert (await request(first, "agy/chat", {"agentId": agent_id, "prompt": "first"}))["text"] == "hello"
        poisoned = await request(first, "agy/chat", {"agentId": agent_id, "prompt": "take this note"})
        assert poisoned["text"] == "refused, sorry"
        assert runs == [], "the editor never ran the call"
        assert told is None or any(told in m for m in tool_messages(state)), tool_messages(state)
        assert (await request(first, "agy/chat", {"agentId": agent_id, "prompt": "are you there?"}))["text"] == "still here"
        conversation_id = (await request(first, "agy/status", {"agentId": agent_id}))["conversationId"]
    finally:
        await stop(first)

    second = await start_client(env)
    try:
        resumed = (await request(second, "agy/createAgent", {"conversationId": conversation_id}))["agentId"]
        contents = [s.get("content") for s in (await request(second, "agy/history", {"agentId": resumed}))["steps"]]
        assert {"first", "hello", "take this note", "refused, sorry", "still here"} <= set(contents)
        exported = await request(second, "agy/exportSession", {"agentId": resumed})
        assert "hello" in exported["markdown"] and "still here" in exported["markdown"]
        assert (await request(second, "agy/chat", {"agentId": resumed, "prompt": "again"}))["text"] == "back again"
        assert runs == []
    finally:
        await stop(second)


async def test_a_conversation_whose_record_cannot_be_read_says_so(model: ScriptedModel, state_dir: str) -> None:
    env = {"AGY_STATE_DIR": state_dir}
    first = await start_client(env)
    try:
        backend, _ = openai_backend(model, {"text": "hello"})
        agent_id = (await request(first, "agy/createAgent", {"backend": backend}))["agentId"]
        await request(first, "agy/chat", {"agentId": agent_id, "prompt": "first"})
        conversation_id = (await request(first, "agy/status", {"agentId": agent_id}))["conversationId"]
    finally:
        await stop(first)
    with open(os.path.join(env["AGY_STATE_DIR"], "conversations", f"{conversation_id}.db"), "r+b") as f:
        f.write(b"\x00 not a database " * 64)
    second = await start_client(env)
    try:
        error = await request_error(second, "agy/createAgent", {"conversationId": conversation_id})
        data = to_dict(error.data)
        assert error.code == -32014 and data["code"] == "CONVERSATION_CORRUPT", (error, data)
        assert data["conversationId"] == conversation_id and data["reader"] == "harness"
        assert "not a database" in data["cause"] and "new agent" in data["hint"]
        fresh = (await request(second, "agy/createAgent", {}))["agentId"]
        assert (await request(second, "agy/chat", {"agentId": fresh, "prompt": "still serving"}))["text"] == "You said: still serving"
    finally:
        await stop(second)


async def test_a_built_in_tool_with_arguments_too_deep_is_denied(client: Any, model: ScriptedModel) -> None:
    """Not only editor tools: the pre-tool hook refuses any call over the limits (here
    25 deep, which the SDK could still read back) and the tool does not run."""
    path = target()
    call = {
        "toolCalls": [{"name": "run_command", "id": "c1", "args": {"CommandLine": f"echo ran > {path}", "Cwd": "/tmp", "Why": nested(25)}}]
    }
    backend, state = openai_backend(model, call, {"text": "denied"})
    created = await request(client, "agy/createAgent", {"backend": backend, "policies": "allowAll"})
    assert (await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "run it"}))["text"] == "denied"
    assert not os.path.exists(path)
    assert any(f"nested too deep (max {MAX_DEPTH})" in m for m in tool_messages(state)), tool_messages(state)
