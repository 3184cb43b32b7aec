"""`ToolIds` reads the ids the SDK does not pass on from the SDK's own coroutines
(agents/chunks.py). These pin that against the installed SDK, without a harness:
an SDK upgrade that moves them fails here instead of quietly falling back to
matching by name and arguments (which cannot tell identical parallel calls apart)."""

from __future__ import annotations

import asyncio
from typing import Any

from google.antigravity import types as sdk
from google.antigravity.connections.local.event_processor import LocalHarnessEventProcessor
from google.antigravity.hooks import policy
from google.antigravity.proto import localharness_pb2 as pb
from google.antigravity.tools.tool_runner import ToolRunner, ToolWithSchema

from agy_lsp.agents.chunks import ToolIds


def two_identical_calls(ids: ToolIds, name: str, args: dict[str, Any]) -> None:
    """What the pre-tool hook saw: two calls, same tool, same arguments."""
    ids.before(sdk.ToolCall(name=name, args=dict(args), id="first", step_id="traj:2"))
    ids.before(sdk.ToolCall(name=name, args=dict(args), id="second", step_id="traj:3"))


async def test_an_editor_tool_runs_under_the_id_of_the_call_the_sdk_runs() -> None:
    ids, seen = ToolIds(), []
    two_identical_calls(ids, "word_count", {"text": "a b"})

    async def word_count(**args: Any) -> str:
        seen.append(ids.running("word_count", args).id)
        return "2"

    runner = ToolRunner([ToolWithSchema(word_count, input_schema={"type": "object", "properties": {"text": {"type": "string"}}})])
    await runner.process_tool_calls([sdk.ToolCall(name="word_count", args={"text": "a b"}, id="second")])
    assert seen == ["second"]  # matching by name and arguments alone would say "first"


async def test_a_confirmation_gets_the_id_of_the_policy_request_it_answers() -> None:
    ids, seen = ToolIds(), []
    two_identical_calls(ids, "run_command", {"CommandLine": "ls"})

    async def ask(call: sdk.ToolCall, reason: str | None = "") -> bool:
        seen.append(ids.asking(call).id)
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
    assert seen == ["second"]  # matching by name and arguments alone would say "first"
