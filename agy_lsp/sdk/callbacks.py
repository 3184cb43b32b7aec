"""The SDK's callbacks (hooks, the ask_user handler, custom tools) as calls of the
core's `HarnessCallbacks`.

- The pre-tool, post-tool and tool-error hooks are always registered: every call's
  first sighting carries the model's call id, and the other two end the call. The
  call's output is what the harness's transcript says the model got back
  (`transcript.output`): the SDK's `result` is the call's `toolSummary` argument for
  most built-ins. An editor tool's output is what the editor returned.
- Other hook points are registered only when subscribed, so they cost nothing.
- An editor tool becomes an SDK custom tool (`ToolWithSchema`) whose body asks the
  core to run it; an `EditorToolError` becomes the tool's error for the model.
- Arguments too deep or too large (`tool_args.violation`) are refused by the pre-tool
  hook, for every tool, and by an editor tool's body: the call does not run and the
  model is told why (the harness has recorded the call by then: see tool_args).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from typing import Any

import anyio
from google.antigravity import types as sdk
from google.antigravity.hooks import hooks as h
from google.antigravity.tools.tool_runner import ToolWithSchema

from agy_lsp.protocol.mcp_names import qualified_name
from agy_lsp.protocol.types import EditorTool, HookPoint, HookResult
from agy_lsp.sdk import internals, tool_args, transcript
from agy_lsp.sdk.commands import RUN_COMMAND, Commands
from agy_lsp.sdk.port import EditorToolError, HarnessCallbacks, HookTurn, ToolEnd, ToolSighting
from agy_lsp.sdk.to_wire import call_args, jsonable, model_name, sdk_name, step_tool_name, tool_name

log = logging.getLogger(__name__)

_BUILTINS = frozenset(t.value for t in sdk.BuiltinTools)

_INSPECT: dict[HookPoint, Any] = {
    "postTurn": h.PostTurnHook,
    "onCompaction": h.OnCompactionHook,
    "onSessionStart": h.OnSessionStartHook,
    "onSessionEnd": h.OnSessionEndHook,
}


def sighting(call: sdk.ToolCall | sdk.ToolResult, key: Any = None, *, streamed: bool = False) -> ToolSighting:
    """A hook's, the ask_user handler's or (`streamed`) a step's view of a call."""
    args = dict(call.args) if isinstance(call, sdk.ToolCall) else {}
    return ToolSighting(
        name=step_tool_name(call) if streamed and isinstance(call, sdk.ToolCall) else tool_name(call),
        args=call_args(args, call.server_name),
        call_id=call.id or "",
        step_id=call.step_id or "",
        key=key,
        sdk_name=sdk_name(call),
    )


def ask_handler(core: HarnessCallbacks) -> Any:
    """The ask_user handler. A plain function, not a bound method: the SDK deep-copies
    its config, and a bound method would drag the core's objects into the copy."""

    async def ask(call: sdk.ToolCall, reason: str | None = "") -> bool:
        seen = sighting(call)
        if not (seen.call_id or seen.step_id):  # the SDK dropped them; the harness sent them
            seen.call_id, seen.step_id = internals.pending_policy_ids()
        try:
            return await core.confirm_tool(seen, reason or None)
        except Exception as e:  # fail closed
            log.info("confirmation failed: %s", e)
            return False

    return ask


def editor_tools(tools: list[EditorTool], core: HarnessCallbacks) -> list[Any]:
    return [ToolWithSchema(_tool_body(t, core), input_schema=_schema(t)) for t in tools]


def _tool_body(tool: EditorTool, core: HarnessCallbacks) -> Any:
    async def run(**args: Any) -> Any:
        running = internals.running_tool_call()
        call_id = str(running.id or "") if running is not None else ""
        if (refused := tool_args.violation(args)) is not None:  # never sent to the editor
            raise EditorToolError(refused)
        return await core.run_editor_tool(ToolSighting(name=tool.name, args=args, call_id=call_id))

    run.__name__ = tool.name
    run.__doc__ = tool.description or f"Editor tool {tool.name}"
    return run


def _schema(tool: EditorTool) -> dict[str, Any]:
    schema = dict(tool.parameters) if tool.parameters else {}
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    return schema


def hooks(subscribed: list[HookPoint], core: HarnessCallbacks, commands: Commands, editor: frozenset[str] = frozenset()) -> list[Any]:
    """The hooks; `editor` names the editor tools; `commands` learns when a shell
    command may start and when it ended."""

    class _BeforeTool(h.PreToolCallDecideHook):
        async def run(self, context: Any, data: Any) -> Any:
            turn = core.hook_arrived(tool=True)
            seen = sighting(data)
            transcript.hooked.add(seen.step_id, seen.sdk_name, seen.call_id)
            if (refused := tool_args.violation(data.args)) is not None:  # not even the editor's hook sees them
                if not data.server_name and seen.sdk_name in editor:
                    return sdk.HookResult(allow=True)  # its body refuses it, so the call shows as failed
                return sdk.HookResult(allow=False, message=refused)
            try:
                answer = await core.before_tool(seen)
            except Exception as e:  # a decide hook that cannot decide denies
                log.info("pre-tool hook failed: %s", e)
                answer = HookResult(allow=False, message="the editor's preToolCall hook did not answer")
            _answer_wanted(turn, "pre-tool")
            if answer.allow and _is_command(data.server_name, sdk_name(data)):
                commands.allowed()
            return sdk.HookResult(allow=answer.allow, message=answer.message, modified_args=answer.modified_args)

    class _AfterTool(h.PostToolCallHook):
        async def run(self, context: Any, data: Any) -> None:
            turn = core.hook_arrived(tool=True)
            seen = sighting(data)
            if _is_command(data.server_name, sdk_name(data)):
                commands.ended()
            result = await _output(seen.step_id, data.result, builtin=not data.server_name and seen.sdk_name in _BUILTINS)
            delegated = _SUBAGENT_ID.findall(result) if seen.sdk_name == "invoke_subagent" and isinstance(result, str) else []
            _answer_wanted(turn, "post-tool")  # a late end: its turn shows the call as cancelled
            core.after_tool(ToolEnd(seen, result=result, error=data.error or None, delegated=delegated))

    out: list[Any] = [_BeforeTool(), _AfterTool(), _tool_error(core, commands, "onToolError" in subscribed)]
    for point in subscribed:
        if point in _INSPECT:
            out.append(_inspect(point, _INSPECT[point], core))
        elif point == "preTurn":
            out.append(_pre_turn(core))
        elif point == "onInteraction":
            out.append(_interaction(core))
        elif point == "stop":
            out.append(_stop(core))
    return out


def _is_command(server: str | None, name: str) -> bool:
    """A call of the built-in `run_command` (an MCP server's tool may share the name)."""
    return not server and name == RUN_COMMAND


def _answer_wanted(turn: Callable[[], HookTurn], hook: str) -> None:
    """A hook of a cancelled or ended turn is answered to no one: the harness dropped
    it when it stopped, and an answer to a dropped hook ends the harness's run. The
    SDK's hook router answers whatever a hook returns or raises as an Exception; a
    CancelledError ends its task without an answer."""
    if turn() != "live":
        log.debug("%s hook of a cancelled turn: not answered", hook)
        raise asyncio.CancelledError


# invoke_subagent's result lists each subagent's conversation, which is its trajectory.
_SUBAGENT_ID = re.compile(r'"conversationId":\s*"([0-9a-f]+)"')


def _stop(core: HarnessCallbacks) -> Any:
    """The agent wants to finish: the editor's `allow: false` (with a reason in
    `message`) makes it go on; no answer lets it stop."""

    class _Stop(h.StopHook):
        async def run(self, context: Any, data: Any) -> Any:
            turn = core.hook_arrived(tool=False)
            answer = await core.decide("stop", jsonable(data))
            _answer_wanted(turn, "stop")
            if answer is None or answer.allow:
                return sdk.StopHookResult(decision=sdk.StopDecision.ALLOW_STOP)
            return sdk.StopHookResult(decision=sdk.StopDecision.CONTINUE, reason=answer.message or "Keep going.")

    return _Stop()


def _inspect(point: HookPoint, base: Any, core: HarnessCallbacks) -> Any:
    class _Inspect(base):  # type: ignore[misc, valid-type]
        async def run(self, context: Any, data: Any) -> None:
            _answer_wanted(core.hook_arrived(tool=False), point)
            core.notice(point, jsonable(data))

    return _Inspect()


def _pre_turn(core: HarnessCallbacks) -> Any:
    class _PreTurn(h.PreTurnHook):
        async def run(self, context: Any, data: Any) -> Any:
            turn = core.hook_arrived(tool=False)
            answer = await core.decide("preTurn", jsonable(data))
            _answer_wanted(turn, "preTurn")
            return sdk.HookResult(allow=True) if answer is None else sdk.HookResult(allow=answer.allow, message=answer.message)

    return _PreTurn()


async def _output(step_id: str, sdk_result: Any, builtin: bool) -> Any:
    """A call's output: the transcript's (bounded), an editor tool's own, else the SDK's,
    but never a built-in's bare string (that is its `toolSummary` argument). The
    harness writes the step before it calls the post-tool hook; a slow disk gets a
    few tries."""
    found = transcript.output(step_id) if step_id else None
    for _ in range(5 if step_id and found is None else 0):
        await anyio.sleep(0.02)
        if (found := transcript.output(step_id)) is not None:
            break
    if found is not None and found.type != "AGENCY_TOOL_CALL":
        return found.text
    if found is None and builtin:
        log.warning("no transcript entry for %s: its output is not known", step_id)
        return None if isinstance(sdk_result, str) else jsonable(sdk_result)
    value = _editor_output(sdk_result)
    return transcript.bounded(value) if isinstance(value, str) else value


def _editor_output(value: Any) -> Any:
    """The SDK sends an editor tool's content to the harness as JSON, a non-object
    content as `{"result": content}`: the editor's content back."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict) and list(value) == ["result"]:  # pyright: ignore[reportUnknownArgumentType]
        return value["result"]  # pyright: ignore[reportUnknownVariableType]
    return jsonable(value)


def _tool_error(core: HarnessCallbacks, commands: Commands, subscribed: bool) -> Any:
    """A call that failed gets no post-tool hook, only this: it ends the call, and asks
    the editor for the message the model sees when the editor subscribed."""

    class _ToolError(h.OnToolErrorHook):
        async def run(self, context: Any, data: Any) -> Any:
            turn = core.hook_arrived(tool=True)
            name = str(getattr(data, "tool_name", "") or "")
            server = getattr(data, "server_name", None)
            seen = ToolSighting(  # an SDK ToolExecutionError
                name=qualified_name(name, server) if server else model_name(name),
                args={},
                call_id=getattr(data, "call_id", None) or "",
                step_id=getattr(data, "step_id", None) or "",
                sdk_name=name,
            )
            if _is_command(server, name):
                commands.ended()
            failed = ToolEnd(seen, error=transcript.bounded(str(data)))
            _answer_wanted(turn, "tool-error")
            core.after_tool(failed)
            message = await core.tool_failed(failed) if subscribed else None
            _answer_wanted(turn, "tool-error")
            return message

    return _ToolError()


def _interaction(core: HarnessCallbacks) -> Any:
    class _Interaction(h.OnInteractionHook):
        async def run(self, context: Any, data: Any) -> Any:
            turn = core.hook_arrived(tool=False)
            answer = await core.decide("onInteraction", jsonable(data))
            _answer_wanted(turn, "onInteraction")
            if answer is None or answer.answer is None:
                return sdk.QuestionHookResult(responses=[], cancelled=True)
            return question_result(answer.answer)

    return _Interaction()


def question_result(answer: Any) -> sdk.QuestionHookResult:
    """The editor's onInteraction answer: a list of {selectedOptionIds?,
    freeformResponse?, skipped?}, one such object, or a plain string."""
    if isinstance(answer, str):
        answer = [{"freeformResponse": answer}]
    if isinstance(answer, dict):
        answer = [answer]
    items: list[Any] = answer if isinstance(answer, list) else []  # pyright: ignore[reportUnknownVariableType]
    responses = [
        sdk.QuestionResponse(
            selected_option_ids=item.get("selectedOptionIds"),
            freeform_response=str(item.get("freeformResponse", "")),
            skipped=bool(item.get("skipped", False)),
        )
        for item in items
        if isinstance(item, dict)
    ]
    return sdk.QuestionHookResult(responses=responses)
