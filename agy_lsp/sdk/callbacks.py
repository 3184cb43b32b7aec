"""The SDK's callbacks (hooks, the ask_user handler, custom tools) as calls of the
core's `HarnessCallbacks`.

- The pre- and post-tool-call hooks are always registered: every call's first
  sighting carries the model's call id, and the post-tool hook brings its result.
- Other hook points are registered only when subscribed, so they cost nothing.
- An editor tool becomes an SDK custom tool (`ToolWithSchema`) whose body asks the
  core to run it; an `EditorToolError` becomes the tool's error for the model.
"""

from __future__ import annotations

import logging
from typing import Any

from google.antigravity import types as sdk
from google.antigravity.hooks import hooks as h
from google.antigravity.tools.tool_runner import ToolWithSchema

from agy_lsp.protocol.mcp_names import qualified_name
from agy_lsp.protocol.types import EditorTool, HookPoint
from agy_lsp.sdk import internals
from agy_lsp.sdk.port import HarnessCallbacks, ToolOutcome, ToolSighting
from agy_lsp.sdk.to_wire import call_args, jsonable, tool_name

log = logging.getLogger(__name__)

_INSPECT: dict[HookPoint, Any] = {
    "postTurn": h.PostTurnHook,
    "onCompaction": h.OnCompactionHook,
    "onSessionStart": h.OnSessionStartHook,
    "onSessionEnd": h.OnSessionEndHook,
}


def sighting(call: sdk.ToolCall | sdk.ToolResult, key: Any = None) -> ToolSighting:
    args = dict(call.args) if isinstance(call, sdk.ToolCall) else {}
    return ToolSighting(
        name=tool_name(call),
        args=call_args(args, call.server_name),
        call_id=call.id or "",
        step_id=call.step_id or "",
        key=key,
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
        return await core.run_editor_tool(ToolSighting(name=tool.name, args=args, call_id=call_id))

    run.__name__ = tool.name
    run.__doc__ = tool.description or f"Editor tool {tool.name}"
    return run


def _schema(tool: EditorTool) -> dict[str, Any]:
    schema = dict(tool.parameters) if tool.parameters else {}
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    return schema


def hooks(subscribed: list[HookPoint], core: HarnessCallbacks) -> list[Any]:
    class _BeforeTool(h.PreToolCallDecideHook):
        async def run(self, context: Any, data: Any) -> Any:
            try:
                answer = await core.before_tool(sighting(data))
            except Exception as e:  # a decide hook that cannot decide denies
                log.info("pre-tool hook failed: %s", e)
                return sdk.HookResult(allow=False, message="the editor's preToolCall hook did not answer")
            return sdk.HookResult(allow=answer.allow, message=answer.message, modified_args=answer.modified_args)

    class _AfterTool(h.PostToolCallHook):
        async def run(self, context: Any, data: Any) -> None:
            core.after_tool(ToolOutcome(sighting(data), result=jsonable(data.result), error=data.error))

    out: list[Any] = [_BeforeTool(), _AfterTool()]
    for point in subscribed:
        if point in _INSPECT:
            out.append(_inspect(point, _INSPECT[point], core))
        elif point == "preTurn":
            out.append(_pre_turn(core))
        elif point == "onToolError":
            out.append(_tool_error(core))
        elif point == "onInteraction":
            out.append(_interaction(core))
    return out


def _inspect(point: HookPoint, base: Any, core: HarnessCallbacks) -> Any:
    class _Inspect(base):  # type: ignore[misc, valid-type]
        async def run(self, context: Any, data: Any) -> None:
            core.notice(point, jsonable(data))

    return _Inspect()


def _pre_turn(core: HarnessCallbacks) -> Any:
    class _PreTurn(h.PreTurnHook):
        async def run(self, context: Any, data: Any) -> Any:
            answer = await core.decide("preTurn", jsonable(data))
            return sdk.HookResult(allow=True) if answer is None else sdk.HookResult(allow=answer.allow, message=answer.message)

    return _PreTurn()


def _tool_error(core: HarnessCallbacks) -> Any:
    class _ToolError(h.OnToolErrorHook):
        async def run(self, context: Any, data: Any) -> Any:
            seen = ToolSighting(  # an SDK ToolExecutionError
                name=qualified_name(str(getattr(data, "tool_name", "") or ""), getattr(data, "server_name", None)),
                args={},
                call_id=getattr(data, "call_id", None) or "",
                step_id=getattr(data, "step_id", None) or "",
            )
            return await core.tool_failed(ToolOutcome(seen, error=str(data)))

    return _ToolError()


def _interaction(core: HarnessCallbacks) -> Any:
    class _Interaction(h.OnInteractionHook):
        async def run(self, context: Any, data: Any) -> Any:
            answer = await core.decide("onInteraction", jsonable(data))
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
