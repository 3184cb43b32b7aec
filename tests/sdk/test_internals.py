"""Every private read of agy_lsp/sdk/internals.py, pinned against the installed SDK.

An SDK upgrade that moves one of them fails here, loudly, instead of agy-lsp
quietly degrading (matching tool calls by name only, no stop reason, a harness it
cannot kill)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
from typing import Any

from google.antigravity import Agent, LocalOpenAIAgentConfig
from google.antigravity import types as sdk
from google.antigravity.connections.local.event_processor import LocalHarnessEventProcessor
from google.antigravity.hooks import policy
from google.antigravity.proto import localharness_pb2 as pb
from google.antigravity.tools.tool_runner import ToolRunner, ToolWithSchema

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from agy_lsp.sdk import internals, to_wire


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
