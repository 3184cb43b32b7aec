"""The SDK's capabilities through agy/createAgent and agy/configureAgent, on the real
SDK and harness: each test checks what reaches the model (the scripted model logs
its requests) and what reaches the client."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from pytest_lsp import LanguageClient

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from tests.e2e.conftest import start_client
from tests.e2e.test_confirm import openai_backend
from tests.e2e.test_sessions import stop
from tests.e2e.test_thoughts import gemini_env
from tests.helpers import delegation, request, request_error, to_dict


def tools_offered(state: Any, n: int = 0) -> list[str]:
    """The tool names the model was offered in its n-th request (OpenAI dialect)."""
    return [t["function"]["name"] for t in state.requests[n].get("tools", [])]


def system_prompt(state: Any, n: int = 0) -> str:
    return "".join(str(m.get("content")) for m in state.requests[n]["messages"] if m.get("role") == "system")


def tool_messages(state: Any) -> list[str]:
    return [str(m.get("content")) for m in state.requests[-1]["messages"] if m.get("role") == "tool"]


def run(command: str) -> dict[str, Any]:
    return {"toolCalls": [{"name": "run_command", "args": {"CommandLine": command, "Cwd": "/tmp"}}]}


async def test_model_options_reach_a_gemini_model_and_change_between_turns(model: ScriptedModel) -> None:
    name = f"options-{uuid.uuid4().hex[:8]}"
    _, state = model.register(parse_script([{"text": "one"}, {"text": "two"}]), name=name)
    client = await start_client(env=gemini_env(model))
    try:
        options = {"thinkingLevel": "high", "maxOutputTokens": 1234}
        agent_id = (await request(client, "agy/createAgent", {"backend": {"type": "gemini", "model": name}, "modelOptions": options}))[
            "agentId"
        ]
        await request(client, "agy/chat", {"agentId": agent_id, "prompt": "first"})
        config = state.requests[0]["generationConfig"]
        assert config["maxOutputTokens"] == 1234 and config["thinkingConfig"]["thinkingLevel"] == "high", config
        await request(client, "agy/configureAgent", {"agentId": agent_id, "modelOptions": {"thinkingLevel": "low"}})
        await request(client, "agy/chat", {"agentId": agent_id, "prompt": "second"})
        config = state.requests[-1]["generationConfig"]
        assert config["thinkingConfig"]["thinkingLevel"] == "low" and config.get("maxOutputTokens") != 1234, config
        texts = [str(p.get("text")) for c in state.requests[-1]["contents"] for p in c["parts"]]
        assert any("first" in t for t in texts), "the conversation carried over the new harness"
        spec = (await request(client, "agy/status", {"agentId": agent_id}))["spec"]
        assert spec["modelOptions"] == {"thinkingLevel": "low"} and spec["backend"] == {"type": "gemini", "model": name}

        bad = await request_error(client, "agy/configureAgent", {"agentId": agent_id, "modelOptions": {"thinkingLevel": "extreme"}})
        assert bad.code == -32602 and "modelOptions.thinkingLevel" in json.dumps(bad.data), bad.data
    finally:
        await stop(client)


async def test_model_options_are_refused_for_an_openai_compatible_model(client: LanguageClient, model: ScriptedModel) -> None:
    backend, _ = openai_backend(model, {"text": "x"})
    error = await request_error(client, "agy/createAgent", {"backend": backend, "modelOptions": {"thinkingLevel": "low"}})
    assert error.code == -32602 and error.data["field"] == "modelOptions"


async def test_custom_system_instructions_and_skills_reach_the_model(client: LanguageClient, model: ScriptedModel) -> None:
    backend, state = openai_backend(model, {"text": "arr"})
    spec = {
        "backend": backend,
        "systemInstructions": {"custom": "You are a CUSTOM assistant."},
        "skills": {"inline": [{"name": "pirate", "description": "talk like a pirate", "content": "Say arr."}]},
    }
    agent_id = (await request(client, "agy/createAgent", spec))["agentId"]
    await request(client, "agy/chat", {"agentId": agent_id, "prompt": "hello"})
    prompt = system_prompt(state)
    assert "You are a CUSTOM assistant." in prompt and "You are Antigravity" not in prompt
    assert "pirate" in prompt and "lookup_skill" in tools_offered(state)


async def test_custom_subagents_are_offered_and_subagents_can_be_turned_off(client: LanguageClient, model: ScriptedModel) -> None:
    backend, state = openai_backend(model, {"text": "team"})
    custom = {"custom": [{"name": "reviewer", "description": "reviews code carefully", "instructions": "Review."}]}
    agent_id = (await request(client, "agy/createAgent", {"backend": backend, "subagents": custom}))["agentId"]
    await request(client, "agy/chat", {"agentId": agent_id, "prompt": "hello"})
    assert "reviewer: reviews code carefully" in system_prompt(state)

    backend, state = openai_backend(model, {"text": "alone"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend, "subagents": {"enabled": False}}))["agentId"]
    await request(client, "agy/chat", {"agentId": agent_id, "prompt": "hello"})
    assert "invoke_subagent" not in tools_offered(state) and "view_file" in tools_offered(state)


async def test_a_subagents_work_is_marked_and_its_usage_counted_apart(client: LanguageClient, model: ScriptedModel, recorder) -> None:
    backend, _ = openai_backend(model, *delegation({"text": "extra"}))
    agent_id = (await request(client, "agy/createAgent", {"backend": backend, "policies": "allowAll"}))["agentId"]
    result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "delegate"})
    chunks = recorder.chunks(result["turnId"])
    sub = [c for c in chunks if c.get("depth")]
    assert "".join(c["text"] for c in sub if c["kind"] == "text") == "sub says hi"
    assert all(c["depth"] == 1 and c["parentTrajectoryId"] and c["trajectoryId"] != c["parentTrajectoryId"] for c in sub)
    (delegating_call,) = [c["toolCall"]["id"] for c in chunks if c["kind"] == "toolCall" and c["toolCall"]["name"] == "invoke_subagent"]
    assert {c.get("parentCallId") for c in sub} == {delegating_call}, "nested under the call that started it"
    assert "sub says hi" not in result["text"], "a subagent's text is not the agent's answer"
    own = [c for c in chunks if c["kind"] == "text" and not c.get("depth")]
    assert "".join(c["text"] for c in own) == result["text"] == "waitingparent done"
    assert len({c["stepId"] for c in own}) == 2, "the agent's two steps are told apart"
    usage = (await request(client, "agy/status", {"agentId": agent_id}))["trajectoryUsage"]
    assert len(usage) == 2 and sub[0]["trajectoryId"] in {u["trajectoryId"] for u in usage}


async def test_a_budget_ends_the_turn_with_the_sdks_stop_reason(client: LanguageClient, model: ScriptedModel) -> None:
    backend, state = openai_backend(model, run("echo one"), {"text": "never"})
    spec = {"backend": backend, "policies": "allowAll", "budget": {"maxModelCalls": 1}}
    agent_id = (await request(client, "agy/createAgent", spec))["agentId"]
    result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "go"})
    assert result["stopReason"] == "MAX_MODEL_CALLS_EXCEEDED" and len(state.requests) == 1

    backend, _ = openai_backend(model, {"text": "many words", "completionTokens": 500})
    spec = {"backend": backend, "budget": {"maxOutputTokens": 100}}
    agent_id = (await request(client, "agy/createAgent", spec))["agentId"]
    error = await request_error(client, "agy/chat", {"agentId": agent_id, "prompt": "spend"})
    assert error.code == -32006 and error.data["stopReason"] == "MAX_OUTPUT_TOKENS_EXCEEDED", error.data

    bad = await request_error(client, "agy/createAgent", {"backend": backend, "budget": {"maxModelCalls": -1}})
    assert bad.code == -32602 and bad.data["field"] == "budget", bad.data


async def test_compaction_shows_as_a_chunk(client: LanguageClient, model: ScriptedModel, recorder) -> None:
    """The harness summarises once the history passes tokenThreshold (its own estimate),
    asking the model for the summary."""
    hooks: list[Any] = []
    client.feature("agy/hook")(lambda params: hooks.append(to_dict(params)))
    talk = {"text": "word " * 4000, "chunks": 4}
    backend, state = openai_backend(model, talk, talk, {"text": "the summary"}, {"text": "after"})
    spec = {"backend": backend, "compaction": {"tokenThreshold": 20000}, "hooks": ["onCompaction"]}
    agent_id = (await request(client, "agy/createAgent", spec))["agentId"]
    turns = [await request(client, "agy/chat", {"agentId": agent_id, "prompt": p}) for p in ("one", "two", "three")]
    assert turns[-1]["text"] == "after"
    compactions = [c for t in turns for c in recorder.chunks(t["turnId"]) if c["kind"] == "compaction"]
    assert len(compactions) == 1 and compactions[0]["text"], [c["kind"] for t in turns for c in recorder.chunks(t["turnId"])]
    assert any("summary" in str(m.get("content")).lower() for m in state.requests[2]["messages"]), "the model was asked to summarise"
    assert [h for h in hooks if h["point"] == "onCompaction"], hooks


async def test_run_command_settings_and_the_sandbox_status(client: LanguageClient, model: ScriptedModel) -> None:
    backend, state = openai_backend(model, {"text": "ready"})
    spec = {"backend": backend, "runCommand": {"sandbox": True, "enableDaemons": True, "timeoutSecs": 30}}
    agent_id = (await request(client, "agy/createAgent", spec))["agentId"]
    await request(client, "agy/chat", {"agentId": agent_id, "prompt": "hi"})
    run_tool = next(t for t in state.requests[0]["tools"] if t["function"]["name"] == "run_command")
    assert "IsDaemon" in json.dumps(run_tool), "enableDaemons offers the daemon argument"
    sandbox = (await request(client, "agy/status", {"agentId": agent_id}))["sandbox"]
    assert isinstance(sandbox["available"], bool)


async def test_tool_output_is_cut_for_the_model(client: LanguageClient, model: ScriptedModel) -> None:
    lengths = []
    for spec in ({}, {"toolOutput": {"maxTokens": 50}}):
        backend, state = openai_backend(model, run("seq 1 20000"), {"text": "ok"})
        agent_id = (await request(client, "agy/createAgent", {"backend": backend, "policies": "allowAll", **spec}))["agentId"]
        await request(client, "agy/chat", {"agentId": agent_id, "prompt": "count"})
        lengths.append(len(tool_messages(state)[-1]))
    assert lengths[1] < 1000 < lengths[0], lengths


async def test_ask_question_is_offered_when_someone_can_answer(client: LanguageClient, model: ScriptedModel) -> None:
    offered = []
    for hooks in ([], ["onInteraction"]):
        backend, state = openai_backend(model, {"text": "ok"})
        agent_id = (await request(client, "agy/createAgent", {"backend": backend, "hooks": hooks}))["agentId"]
        await request(client, "agy/chat", {"agentId": agent_id, "prompt": "hi"})
        offered.append("ask_question" in tools_offered(state))
    assert offered == [False, True]


async def test_the_stop_hook_can_make_the_agent_go_on(client: LanguageClient, model: ScriptedModel) -> None:
    answers = [{"allow": False, "message": "Also check the tests."}, {"allow": True}]

    @client.feature("agy/hook")
    async def hook(params: Any) -> dict[str, Any]:
        assert to_dict(params)["point"] == "stop"
        return answers.pop(0)

    backend, state = openai_backend(model, {"text": "done?"}, {"text": "tests checked"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend, "hooks": ["stop"]}))["agentId"]
    result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "work"})
    assert result["text"].endswith("tests checked") and not answers
    assert "Also check the tests." in json.dumps(state.requests[-1]["messages"])


async def test_audio_and_video_prompt_parts_reach_a_gemini_model(model: ScriptedModel) -> None:
    name = f"media-{uuid.uuid4().hex[:8]}"
    _, state = model.register(parse_script([{"text": "heard it"}]), name=name)
    client = await start_client(env=gemini_env(model))
    try:
        agent_id = (await request(client, "agy/createAgent", {"backend": {"type": "gemini", "model": name}}))["agentId"]
        audio = base64.b64encode(b"RIFF....WAVEfmt ").decode()
        prompt = [{"type": "text", "text": "listen"}, {"type": "audio", "data": audio, "mimeType": "audio/wav"}]
        assert (await request(client, "agy/chat", {"agentId": agent_id, "prompt": prompt}))["text"] == "heard it"
        mimes = [p["inlineData"]["mimeType"] for c in state.requests[0]["contents"] for p in c["parts"] if "inlineData" in p]
        assert "audio/wav" in mimes, state.requests[0]["contents"]
    finally:
        await stop(client)


async def test_a_resumed_agent_keeps_its_options(model: ScriptedModel) -> None:
    import tempfile

    client = await start_client({"AGY_STATE_DIR": tempfile.mkdtemp(prefix="agy-options-")})
    try:
        backend, state = openai_backend(model, {"text": "one"}, {"text": "two"})
        spec = {
            "backend": backend,
            "systemInstructions": {"custom": "Be brief."},
            "subagents": {"enabled": False, "custom": [{"name": "critic", "description": "finds flaws"}]},
            "toolOutput": {"maxTokens": 80, "mcpMaxBytes": 9000},
            "budget": {"maxToolCalls": 5, "scope": "forwardLooking"},
            "runCommand": {"enableDaemons": True, "timeoutSecs": 30},
            "compaction": {"tokenThreshold": 50000},
            "skills": {"inline": [{"name": "haiku", "description": "answers in haiku", "content": "5-7-5."}]},
            "capabilities": {"agentBehavior": "interactive"},
            "policies": "auto",
            "hooks": ["stop"],
        }
        created = await request(client, "agy/createAgent", spec)
        await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "hi"})
        conversation = (await request(client, "agy/status", {"agentId": created["agentId"]}))["conversationId"]
        await request(client, "agy/shutdownAgent", {"agentId": created["agentId"]})
        resumed = await request(client, "agy/createAgent", {"conversationId": conversation})
        await request(client, "agy/chat", {"agentId": resumed["agentId"], "prompt": "again"})
        assert "Be brief." in system_prompt(state, -1) and "invoke_subagent" not in tools_offered(state, -1)
        assert "IsDaemon" in json.dumps(state.requests[-1]["tools"]) and "haiku" in system_prompt(state, -1)
        kept = (await request(client, "agy/status", {"agentId": resumed["agentId"]}))["spec"]
        for field, value in spec.items():
            if field != "backend":
                assert kept[field] == value, (field, kept[field], value)
    finally:
        await stop(client)


async def test_plan_mode_sends_the_plan_command_and_the_written_plan_streams(
    client: LanguageClient, model: ScriptedModel, recorder
) -> None:
    import os
    import tempfile

    folder = tempfile.mkdtemp(prefix="agy-plan-")
    plan_file = os.path.join(folder, "implementation_plan.md")
    plan = "# Plan\n\n- [x] read the code\n- [/] write the parser\n- [ ] test it\n"
    write = {"toolCalls": [{"name": "write_to_file", "args": {"TargetFile": plan_file, "CodeContent": plan, "Overwrite": True}}]}
    backend, state = openai_backend(model, write, {"text": "Here is my plan. Shall I go ahead?"})
    spec = {"backend": backend, "policies": "allowAll", "workspaces": [folder], "capabilities": {"agentBehavior": "interactive"}}
    agent_id = (await request(client, "agy/createAgent", spec))["agentId"]
    result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "/plan build a parser"})
    assert "/plan build a parser" in json.dumps(state.requests[0]["messages"][-1])
    plans = [c for c in recorder.chunks(result["turnId"]) if c["kind"] == "plan"]
    assert len(plans) == 1 and plans[0]["plan"]["path"] == plan_file and plans[0]["text"] == plan
    assert [(e["content"], e["status"]) for e in plans[0]["plan"]["entries"]] == [
        ("read the code", "completed"),
        ("write the parser", "in_progress"),
        ("test it", "pending"),
    ]
    bad = await request_error(client, "agy/chat", {"agentId": agent_id, "prompt": [{"type": "command", "text": "deploy"}]})
    assert bad.code == -32602 and bad.data["field"] == "prompt"


async def test_the_auto_preset_lets_a_safety_model_decide_and_asks_about_what_it_flags(
    client: LanguageClient, model: ScriptedModel
) -> None:
    import os
    import tempfile

    asked: list[Any] = []

    @client.feature("agy/confirmToolCall")
    async def confirm(params: Any) -> dict[str, Any]:
        asked.append(to_dict(params))
        return {"outcome": "reject_once"}

    made = os.path.join(tempfile.mkdtemp(prefix="agy-auto-"), "made")
    backend, state = openai_backend(model, run(f"touch {made}"), {"text": "Looks routine."}, {"text": "done"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend, "policies": "auto"}))["agentId"]
    await request(client, "agy/chat", {"agentId": agent_id, "prompt": "make a file"})
    assert "Evaluate the current action" in json.dumps(state.requests[1]["messages"]), "the safety model was consulted"
    assert os.path.exists(made) and not asked, "a routine call runs without asking"

    victim = tempfile.mkdtemp(prefix="agy-auto-victim-")
    flag = {"toolCalls": [{"name": "vet_destruction", "args": {"target": victim, "scope": "recursive", "reason": "deletes a tree"}}]}
    backend, _ = openai_backend(model, run(f"rm -rf {victim}"), flag, {"text": "unsure"}, {"text": "unsure"}, {"text": "stopped"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend, "policies": "auto"}))["agentId"]
    await request(client, "agy/chat", {"agentId": agent_id, "prompt": "clean up"})
    assert len(asked) == 1 and asked[0]["toolCall"]["name"] == "run_command" and asked[0].get("reason"), asked
    assert os.path.isdir(victim), "the flagged call asked the person, who said no"


async def test_tools_are_listed_and_chosen_by_the_names_the_model_sees(client: LanguageClient, model: ScriptedModel) -> None:
    backend, _ = openai_backend(model, {"text": "x"})
    created = await request(client, "agy/createAgent", {"backend": backend})
    assert "write_to_file" in created["tools"] and "create_file" not in created["tools"]
    for name in ("write_to_file", "create_file"):  # the model's name or the SDK's
        narrowed = await request(client, "agy/createAgent", {"backend": backend, "capabilities": {"enabledTools": ["view_file", name]}})
        assert sorted(narrowed["tools"]) == ["view_file", "write_to_file"], narrowed["tools"]
