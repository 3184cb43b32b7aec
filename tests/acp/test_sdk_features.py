"""The SDK's capabilities over ACP, on the real SDK and harness with the scripted model:
each test checks what reaches the model (the scripted model logs its requests) and what
reaches the client (docs/acp.md#sdk-capabilities)."""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from typing import Any

import pytest
from acp import RequestError, text_block
from acp import schema as s

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from tests.helpers import delegation


@pytest.fixture(scope="module")
def model():
    server = ScriptedModel()
    yield server
    server.close()


def openai(model: ScriptedModel, *replies: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    base_url, state = model.register(parse_script(list(replies)))
    return {"type": "openai", "baseUrl": base_url, "model": "my-model"}, state


def options_of(updates: list[Any]) -> dict[str, Any]:
    return {o.id: o for o in updates[-1].config_options}


async def test_config_options_model_list_thought_level_and_sandbox(start, model: ScriptedModel) -> None:
    name = f"options-{uuid.uuid4().hex[:8]}"
    _, gemini_state = model.register(parse_script([{"text": "one"}, {"text": "two"}]), name=name)
    model.register(parse_script([{"text": "priced"}]), name="gemini-2.5-flash")  # one the window and price tables know
    env = {"GOOGLE_GEMINI_BASE_URL": model.gemini_base_url, "GEMINI_API_KEY": "scripted-not-a-key"}
    caps = {
        "session": s.ClientSessionCapabilities(
            config_options=s.SessionConfigOptionsCapabilities(boolean=s.BooleanConfigOptionCapabilities())
        )
    }
    async with start(env=env, caps=caps) as server:
        conn, client = server.conn, server.client
        # An OpenAI-compatible server: its /v1/models list arrives as a config_option_update.
        backend, _ = openai(model, {"text": "hi"})
        created = await conn.new_session(cwd="/tmp", mcp_servers=[], agy={"backend": backend})
        sid = created.session_id
        assert [o.id for o in created.config_options] == ["model", "mode", "sandbox"]  # no thinking for OpenAI models
        await client.wait_for(lambda: bool(client.of(sid, s.ConfigOptionUpdate)))
        assert [o.value for o in options_of(client.of(sid, s.ConfigOptionUpdate))["model"].options] == ["my-model", "scripted"]

        # A Gemini model: thought_level reaches the model, sandbox is a boolean.
        created = await conn.new_session(cwd="/tmp", mcp_servers=[], agy={"backend": {"type": "gemini", "model": name}})
        gid = created.session_id
        opts = {o.id: o for o in created.config_options}
        assert opts["thought_level"].category == "thought_level" and opts["sandbox"].type == "boolean"
        changed = await conn.set_config_option(config_id="thought_level", session_id=gid, value="high")
        assert {o.id: o for o in changed.config_options}["thought_level"].current_value == "high"
        await conn.prompt(session_id=gid, prompt=[text_block("think")])
        config = gemini_state.requests[-1]["generationConfig"]
        assert config.get("thinkingConfig", {}).get("thinkingLevel") == "high", config
        assert not client.of(gid, s.UsageUpdate), "no usage_update for a model whose context window is unknown"

        priced = (
            await conn.new_session(cwd="/tmp", mcp_servers=[], agy={"backend": {"type": "gemini", "model": "gemini-2.5-flash"}})
        ).session_id
        await conn.prompt(session_id=priced, prompt=[text_block("cost?")])
        usage = client.of(priced, s.UsageUpdate)
        assert usage and usage[-1].size == 1_048_576 and usage[-1].used > 0
        assert usage[-1].cost is not None and usage[-1].cost.currency == "USD" and usage[-1].cost.amount > 0

        changed = await server.raw("session/set_config_option", {"sessionId": gid, "configId": "sandbox", "type": "boolean", "value": True})
        assert {o["id"]: o for o in changed["configOptions"]}["sandbox"]["currentValue"] is True
        await conn.prompt(session_id=gid, prompt=[text_block("again")])
        await client.wait_for(lambda: "sandbox" in str(options_of(client.of(gid, s.ConfigOptionUpdate))["sandbox"].description))


async def test_plan_mode_sends_plan_and_the_plan_streams_as_a_plan_update(start, model: ScriptedModel) -> None:
    folder = tempfile.mkdtemp(prefix="agy-acp-plan-")
    plan_file = os.path.join(folder, "implementation_plan.md")
    plan = "# Plan\n\n- [x] read\n- [/] write\n- [ ] test\n"
    write = {"toolCalls": [{"name": "write_to_file", "args": {"TargetFile": plan_file, "CodeContent": plan, "Overwrite": True}}]}
    backend, state = openai(model, write, {"text": "Shall I go ahead?"})
    async with start() as server:
        created = await server.conn.new_session(cwd=folder, mcp_servers=[], agy={"backend": backend})
        sid = created.session_id
        await server.conn.set_config_option(config_id="mode", session_id=sid, value="plan")
        server.client.on_permission = None  # the plan file write asks; allowed
        await server.conn.prompt(session_id=sid, prompt=[text_block("build a parser")])
        assert "/plan" in json.dumps(state.requests[0]["messages"][-1]), "the prompt went as the SDK's /plan"
        assert server.client.of(sid, s.CurrentModeUpdate)[-1].current_mode_id == "plan"
        plans = server.client.of(sid, s.AgentPlanUpdate)
        assert [(e.content, e.status) for e in plans[-1].entries] == [("read", "completed"), ("write", "in_progress"), ("test", "pending")]
        assert plans[-1].field_meta["agy"]["path"] == plan_file


async def test_questions_through_elicitation_or_declined(start, model: ScriptedModel) -> None:
    question = {"questions": [{"question": "Which colour?", "options": ["red", "blue"]}], "toolSummary": "Colour", "toolAction": "Asking"}
    ask = {"toolCalls": [{"name": "ask_question", "args": question}]}
    caps = {"elicitation": s.ElicitationCapabilities(form=s.ElicitationFormCapabilities())}
    async with start(caps=caps) as server:
        backend, state = openai(model, ask, {"text": "blue it is"})
        server.client.on_elicitation = lambda message, mode: s.AcceptElicitationResponse(
            action="accept", content={"q0": mode.requested_schema.properties["q0"].one_of[1].const}
        )
        sid = (await server.conn.new_session(cwd="/tmp", mcp_servers=[], agy={"backend": backend, "mode": "allow_all"})).session_id
        await server.conn.prompt(session_id=sid, prompt=[text_block("pick")])
        message, mode = server.client.elicitations[0]
        assert message == "Which colour?" and [o.title for o in mode.requested_schema.properties["q0"].one_of] == ["red", "blue"]
        assert "blue" in json.dumps(state.requests[-1]["messages"][-1])
    async with start() as server:  # no elicitation: the model is told no one can answer
        backend, state = openai(model, ask, {"text": "I will assume blue"})
        sid = (await server.conn.new_session(cwd="/tmp", mcp_servers=[], agy={"backend": backend, "mode": "allow_all"})).session_id
        await server.conn.prompt(session_id=sid, prompt=[text_block("pick")])
        assert "No one can answer" in json.dumps(state.requests[-1]["messages"])


async def test_run_command_through_the_editors_terminal(start, model: ScriptedModel) -> None:
    run = {"toolCalls": [{"name": "run_in_terminal", "args": {"CommandLine": "echo from-the-terminal"}}]}
    async with start(caps={"terminal": True}) as server:
        backend, state = openai(model, run, {"text": "ran"})
        sid = (await server.conn.new_session(cwd="/tmp", mcp_servers=[], agy={"backend": backend, "mode": "allow_all"})).session_id
        tools = [t["function"]["name"] for t in state.requests[0]["tools"]] if state.requests else []
        await server.conn.prompt(session_id=sid, prompt=[text_block("run")])
        tools = [t["function"]["name"] for t in state.requests[0]["tools"]]
        assert "run_in_terminal" in tools and "run_command" not in tools
        (term,) = server.client.terminals.values()
        assert term["command"] == ["/bin/sh", "-c", "echo from-the-terminal"] and term["released"]
        progress = [
            u for u in server.client.of(sid, s.ToolCallProgress) if u.content and isinstance(u.content[0], s.TerminalToolCallContent)
        ]
        assert progress and progress[0].content[0].terminal_id == "term-1"
        assert "exit code 0" in json.dumps(state.requests[-1]["messages"]) and "from-the-terminal" in json.dumps(
            state.requests[-1]["messages"]
        )


async def test_subagent_work_is_marked_hooks_reach_the_client_and_long_output_is_cut(start, model: ScriptedModel) -> None:
    long = {"toolCalls": [{"name": "run_command", "args": {"CommandLine": "seq 1 30000", "Cwd": "/tmp", "WaitMsBeforeAsync": 10000}}]}
    backend, _ = openai(model, *delegation(long, {"text": "counted"}))
    async with start() as server:
        server.client.hook_answers = lambda params: {"allow": True}
        sid = (
            await server.conn.new_session(
                cwd="/tmp", mcp_servers=[], agy={"backend": backend, "mode": "allow_all", "hooks": ["stop", "postTurn"]}
            )
        ).session_id
        await server.conn.prompt(session_id=sid, prompt=[text_block("delegate")])
        marked = [u for u in server.client.of(sid, s.AgentMessageChunk) if u.field_meta]
        assert "".join(u.content.text for u in marked) == "sub says hi", [
            (u.content.text, u.field_meta) for u in server.client.of(sid, s.AgentMessageChunk)
        ]
        assert all(u.field_meta["agy"]["depth"] == 1 and u.field_meta["agy"]["parentTrajectoryId"] for u in marked)
        points = [p["point"] for m, p in server.client.extensions if m == "agy/hook"]
        assert "stop" in points and "postTurn" in points

        await server.conn.prompt(session_id=sid, prompt=[text_block("count")])
        done = [u for u in server.client.of(sid, s.ToolCallProgress) if u.status == "completed" and u.content]
        text = done[-1].content[0].content.text
        assert len(text) < 21_000 and text.rstrip().endswith("30000"), text[:200]


def run(command: str) -> dict[str, Any]:
    return {"toolCalls": [{"name": "run_command", "args": {"CommandLine": command, "Cwd": "/tmp"}}]}


async def test_budgets_end_turns_with_acp_stop_reasons_and_custom_instructions_reach_the_model(start, model: ScriptedModel) -> None:
    calls, calls_state = openai(model, run("echo one"), {"text": "never"})
    tokens, _ = openai(model, {"text": "many words", "completionTokens": 500}, {"text": "later"})
    async with start() as server:
        conn = server.conn
        meta = {
            "backend": calls,
            "mode": "allow_all",
            "budget": {"maxModelCalls": 1},
            "systemInstructions": {"custom": "You are a CUSTOM assistant."},
        }
        sid = (await conn.new_session(cwd="/tmp", mcp_servers=[], agy=meta)).session_id
        answer = await conn.prompt(session_id=sid, prompt=[text_block("go")])
        assert answer.stop_reason == "max_turn_requests" and len(calls_state.requests) == 1
        system = "".join(str(m.get("content")) for m in calls_state.requests[0]["messages"] if m.get("role") == "system")
        assert "You are a CUSTOM assistant." in system and "You are Antigravity" not in system

        sid = (await conn.new_session(cwd="/tmp", mcp_servers=[], agy={"backend": tokens, "budget": {"maxOutputTokens": 100}})).session_id
        answer = await conn.prompt(session_id=sid, prompt=[text_block("spend")])
        assert answer.stop_reason == "max_tokens"

        with pytest.raises(RequestError) as bad:
            await conn.new_session(cwd="/tmp", mcp_servers=[], agy={"backend": tokens, "budget": {"maxModelCalls": -1}})
        assert bad.value.code == -32602 and bad.value.data["field"] == "budget", bad.value.data


async def test_a_compaction_is_a_marked_message_chunk_live_and_in_replay(start, model: ScriptedModel) -> None:
    """The harness summarises once the history passes tokenThreshold (its own estimate;
    an ACP session's tools and instructions alone are ~17,500 tokens)."""
    talk = {"text": "word " * 7000, "chunks": 4}
    backend, state = openai(model, talk, talk, {"text": "the summary"}, {"text": "after"})
    async with start() as server:
        conn, client = server.conn, server.client
        meta = {"backend": backend, "compaction": {"tokenThreshold": 30000}}
        sid = (await conn.new_session(cwd="/tmp", mcp_servers=[], agy=meta)).session_id
        for prompt in ("one", "two", "three"):
            await conn.prompt(session_id=sid, prompt=[text_block(prompt)])
        assert client.text(sid).endswith("after")
        compactions = [u for u in client.of(sid, s.AgentMessageChunk) if (u.field_meta or {}).get("agy", {}).get("compaction")]
        assert len(compactions) == 1 and compactions[0].content.text, [u.field_meta for u in client.of(sid, s.AgentMessageChunk)]
        assert any("summary" in str(m.get("content")).lower() for m in state.requests[2]["messages"]), "the model was asked to summarise"

        live = compactions[0].content.text
        client.updates[sid].clear()
        await conn.load_session(cwd="/tmp", session_id=sid, mcp_servers=[])
        replayed = [u for u in client.of(sid, s.AgentMessageChunk) if (u.field_meta or {}).get("agy", {}).get("compaction")]
        assert [u.content.text for u in replayed] == [live]
