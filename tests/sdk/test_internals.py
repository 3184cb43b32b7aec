"""Every private read of agy_lsp/sdk/internals.py, pinned against the installed SDK.

An SDK upgrade that moves one of them fails here, loudly, instead of agy-lsp
quietly degrading (matching tool calls by name only, no stop reason, a harness it
cannot kill, a tool's summary shown as its output)."""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import subprocess
import tempfile
from typing import Any

import pytest
from google.antigravity import Agent, CapabilitiesConfig, LocalOpenAIAgentConfig
from google.antigravity import types as sdk
from google.antigravity.connections.local import event_processor, local_connection
from google.antigravity.connections.local.event_processor import LocalHarnessEventProcessor
from google.antigravity.hooks import hooks as h
from google.antigravity.hooks import policy
from google.antigravity.proto import localharness_pb2 as pb
from google.antigravity.tools.tool_runner import ToolRunner, ToolWithSchema
from google.protobuf import json_format

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from agy_lsp.sdk import internals, to_wire, tool_args


async def test_the_ask_user_handler_sees_the_pending_request_ids() -> None:
    """The SDK drops the call and step ids before our ask_user handler runs."""
    seen: list[tuple[str, str]] = []

    async def ask(call: sdk.ToolCall, reason: str | None = "") -> bool:
        assert not call.id and not call.step_id, "the SDK now passes the ids: read them from the call instead"
        seen.append(internals.pending_policy_ids())
        return True

    async def send(event: Any) -> None:
        pass

    processor = LocalHarnessEventProcessor(send_input_event_fn=send, dynamic_policy_map={"r": policy.ask_user("*", handler=ask)})
    args = pb.PreToolArgs(
        tool_name="run_command", arguments_json='{"CommandLine": "ls"}', call_id="second", trajectory_id="traj", step_index=3
    )
    request = pb.PolicyDecisionRequest(request_id="1", rule_id="r", tool_args=args)
    await processor.process_event(pb.OutputEvent(policy_decision_request=request))
    async with asyncio.timeout(5):
        while not seen:
            await asyncio.sleep(0.01)
    assert seen == [("second", "traj:3")]


async def test_an_editor_tool_body_sees_the_call_it_runs_for() -> None:
    seen: list[str] = []

    async def word_count(**args: Any) -> str:
        call = internals.running_tool_call()
        seen.append(call.id if call is not None else "")
        return "2"

    runner = ToolRunner([ToolWithSchema(word_count, input_schema={"type": "object", "properties": {"text": {"type": "string"}}})])
    same = {"text": "a b"}
    await runner.process_tool_calls([sdk.ToolCall(name="word_count", args=same, id=i) for i in ("first", "second")])
    assert sorted(seen) == ["first", "second"]


def test_step_fields_and_enum_values_are_what_attribute_access_gives() -> None:
    step = sdk.Step(
        id="t:1",
        step_index=1,
        type=sdk.StepType.TOOL_CALL,
        source=sdk.StepSource.MODEL,
        target=sdk.StepTarget.USER,
        status=sdk.StepStatus.DONE,
        content="hi",
        tool_calls=[sdk.ToolCall(name="run_command", args={"a": 1}, id="c1", step_id="t:1")],
    )
    fields = internals.step_fields(step)
    for name in ("id", "step_index", "type", "source", "target", "status", "content", "thinking", "tool_calls", "error"):
        assert fields[name] == getattr(step, name), name
    assert "usage_metadata" in fields and "structured_output" in fields and "is_complete_response" in fields
    assert internals.enum_value(step.status) == step.status.value == "DONE"
    wire = to_wire.step(step)
    assert (wire.id, wire.type, wire.source, wire.status, wire.tool_calls[0].id) == ("t:1", "TOOL_CALL", "MODEL", "DONE", "c1")


async def test_a_started_agent_shows_its_harness_and_stop_reason() -> None:
    model = ScriptedModel()
    try:
        url, _ = model.register(parse_script([{"text": "hello"}]))
        state = tempfile.mkdtemp(prefix="agy-internals-")
        dirs = {"save_dir": os.path.join(state, "c"), "app_data_dir": os.path.join(state, "a")}
        config = LocalOpenAIAgentConfig(model="scripted", base_url=url, **dirs)
        async with Agent(config) as agent:
            process = internals.harness_process(agent)
            assert isinstance(process, subprocess.Popen) and process.poll() is None
            assert os.path.basename(os.readlink(f"/proc/{process.pid}/exe")) == "localharness"
            response = await agent.chat("hi")
            assert await response.text() == "hello"
            assert internals.last_stop_reason(agent.conversation) == "end_turn"
        assert process.poll() is not None
    finally:
        model.close()


async def test_the_transcript_has_each_calls_real_output_before_its_post_tool_hook() -> None:
    """What `transcript.py` relies on: the hooks' step index is the transcript's; the
    entry is written before the post-tool hook runs, with what the model got back
    (the SDK's own `result` is the call's toolSummary); the model's reply lists its
    calls (name, args) in the order they run; a call run without hooks (define_subagent)
    is a GENERIC entry; and the model's names differ from the hooks' (create_file)."""
    ws = tempfile.mkdtemp(prefix="agy-transcript-")
    with open(os.path.join(ws, "a.txt"), "w") as f:
        f.write("alpha\n")
    summary = {"toolSummary": "Just a summary", "toolAction": "Acting"}
    write = {"Overwrite": False, "Description": "d"}
    calls = [
        {"name": "view_file", "id": "v1", "args": {"AbsolutePath": os.path.join(ws, "a.txt"), **summary}},
        {"name": "define_subagent", "id": "d1", "args": {"name": "h", "description": "d", "system_prompt": "p", **summary}},
        {"name": "write_to_file", "id": "w1", "args": {"TargetFile": os.path.join(ws, "b.txt"), "CodeContent": "b", **write, **summary}},
    ]
    model = ScriptedModel()
    seen: list[tuple[str, str, str, Any, dict[int, dict[str, Any]]]] = []
    try:
        url, _ = model.register(parse_script({"replies": [{"toolCalls": calls}], "fallback": "done"}))
        state = tempfile.mkdtemp(prefix="agy-internals-")
        app = os.path.join(state, "a")

        class Pre(h.PreToolCallDecideHook):
            async def run(self, context: Any, data: Any) -> Any:
                seen.append(("pre", str(data.name), data.id, data.step_id, {}))
                return sdk.HookResult(allow=True)

        class Post(h.PostToolCallHook):
            async def run(self, context: Any, data: Any) -> None:
                trajectory, _, index = str(data.step_id).rpartition(":")
                seen.append(("post", str(data.name), data.id, data.result, internals.transcript(app, trajectory, int(index))))

        config = LocalOpenAIAgentConfig(
            model="scripted", base_url=url, save_dir=os.path.join(state, "c"), app_data_dir=app, workspaces=[ws],
            policies=[policy.allow_all()], hooks=[Pre(), Post()], capabilities=CapabilitiesConfig(),
        )  # fmt: skip
        async with Agent(config) as agent:
            assert internals.app_data_dir(agent) == app
            response = await agent.chat("go")
            assert await response.text() == "done"
            trajectory = agent.conversation.conversation_id
    finally:
        model.close()
    pre = {name: (ident, step) for kind, name, ident, step, _ in seen if kind == "pre"}
    assert set(pre) == {"view_file", "create_file"}  # no hook for define_subagent; write_to_file's is create_file
    assert pre["view_file"][0] == "v1" and pre["create_file"][0] == "w1"
    post = {name: (result, entries) for kind, name, _, result, entries in seen if kind == "post"}
    view_index = int(pre["view_file"][1].rpartition(":")[2])
    result, entries = post["view_file"]
    assert result == "Just a summary"  # the SDK's result: the toolSummary argument
    assert entries[view_index]["type"] == "VIEW_FILE" and "1: alpha" in entries[view_index]["content"]
    final = internals.transcript(app, trajectory)
    reply = final[view_index - 1]
    assert reply["type"] == "PLANNER_RESPONSE" and [c["name"] for c in reply["tool_calls"]] == [c["name"] for c in calls]
    assert reply["tool_calls"][1]["args"]["name"] == "h"
    assert final[view_index + 1]["type"] == "GENERIC" and 'Subagent "h" defined' in final[view_index + 1]["content"]
    assert final[view_index + 2]["type"] == "CODE_ACTION" and int(pre["create_file"][1].rpartition(":")[2]) == view_index + 2


def _deep_call_event(depth: int) -> str:
    """A harness message (as localharness sends it) with a custom tool's call whose
    arguments nest `depth` objects deep."""
    opening = '{"structValue": {"fields": [{"name": "a", "value": '  # built as text: json.dumps would recurse
    value = opening * (depth - 1) + '{"stringValue": "x"}' + "}]}}" * (depth - 1)
    arguments = '{"fields": [{"name": "path", "value": {"stringValue": "/x"}}, {"name": "note", "value": ' + value + "}]}"
    step = '{"trajectoryId": "t", "stepIndex": 3, "customTool": {"toolCall": {"id": "c", "name": "note", "arguments": ' + arguments
    before = json.dumps({"trajectoryId": "t", "stepIndex": 1, "text": "before"})
    return '{"initializeConversationResponse": {"history": [' + before + ", " + step + "}}}]}}"


def test_the_sdk_parses_harness_messages_with_its_module_json_format() -> None:
    """`read_deep_records` replaces the `json_format` global of the SDK's
    local_connection: both parses of a harness message (the live steps and the
    resume handshake) must still go through it, and protobuf must still refuse a
    record nested deeper than its recursion limit."""
    source = inspect.getsource(local_connection)
    assert "json_format.Parse(raw_msg, event)" in source
    assert "json_format.Parse(raw_init_resp, init_resp_event)" in source
    assert local_connection.json_format is json_format or isinstance(local_connection.json_format, internals._TolerantJsonFormat)
    with pytest.raises(json_format.ParseError, match="too deep"):
        json_format.Parse(_deep_call_event(40), pb.OutputEvent())
    json_format.Parse(_deep_call_event(30), pb.OutputEvent())  # what MAX_DEPTH's margin is measured against


def test_a_record_too_deep_for_the_sdk_is_read_with_its_deep_part_cut() -> None:
    internals.read_deep_records()
    internals.read_deep_records()  # idempotent
    tolerant = local_connection.json_format
    assert isinstance(tolerant, internals._TolerantJsonFormat)
    assert tolerant.MessageToJson is json_format.MessageToJson
    for depth in (40, 500, 5000):
        event = pb.OutputEvent()
        tolerant.Parse(_deep_call_event(depth), event)
        history = event_processor.parse_initialize_response(event.initialize_conversation_response).history
        assert [s.content for s in history][:1] == ["before"]
        call = history[1].tool_calls[0]
        assert call.args["path"] == "/x" and tool_args.violation(call.args) is not None
    with pytest.raises(json_format.ParseError):  # anything else still fails as before
        tolerant.Parse('{"stepUpdate": {"stepIndex": "many"}}', pb.OutputEvent())
