"""The running turn's stream to the editor: SDK steps -> numbered `agy/chatChunk`s,
and one id per tool call (`ToolIds`).

Tool call ids. The SDK shows one call up to six times, under different ids
(measured on SDK 0.1.22; the table is in docs/protocol.md#tool-call-ids): the
hooks carry the model's call id and a step id in the harness's internal numbering;
the policy's ask_user gets no id at all; a built-in tool's streamed step has only a
step id in another numbering (the hook's `t:2` can be the stream's `t:2` of another
call); a custom tool's step has only the model's call id; the custom tool's Python
function gets only its arguments. No SDK id is in all of them, so a call's one id
is the model's call id (made unique in the session), and each view is matched to
the record the pre-tool hook opened for it:

- the pre-tool hook (always registered) opens the record: call id + hook step id;
- ask_user: the ids of the SDK's pending policy request (read from the task's
  coroutine, which the SDK does not pass on), else the first unasked record of that
  name and arguments;
- a built-in or MCP tool's streamed step: the harness decides calls one at a time,
  in order, and starts each call's step right after its decision, so it is the
  first record of that name not yet placed nor denied. A denied call leaves an
  ERROR step "denied by pre-tool hook" instead, which places the oldest unplaced
  record;
- a custom tool: its own step carries the model's call id; the harness's step for
  it (the SDK strips its call) places the first unplaced custom record, so history
  read back after a wake-up shows the same id;
- `agy/runTool`: the SDK ToolCall being run (the runner task's coroutine), else the
  first unrun record of that name and arguments;
- the post-tool hook and onToolError: the hook step id, else the call id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agy_lsp.agents import convert
from agy_lsp.agents.editor import Editor
from agy_lsp.protocol.types import ChatChunk, ChunkKind, ToolCall, ToolResult

_DENIED = "denied by pre-tool hook"  # the harness's error on a step that stands for a denied call
_BLANK: convert.Ident = ("", None)


class TurnChunks:
    def __init__(self, agent_id: str, editor: Editor) -> None:
        self.agent_id = agent_id
        self.editor = editor
        self.turn_id: str | None = None
        self.ids = ToolIds()
        self._seq = 0

    def begin(self, turn_id: str) -> None:
        self.turn_id, self._seq = turn_id, 0
        self.ids.reset()

    def end(self) -> None:
        self.turn_id = None
        self.ids.reset()

    def emit(
        self, kind: ChunkKind, *, text: str | None = None, tool_call: ToolCall | None = None, tool_result: ToolResult | None = None
    ) -> None:
        """One chunk, numbered from 1 within the turn; nothing when no turn runs."""
        if self.turn_id is None:
            return
        self._seq += 1
        self.editor.chunk(
            ChatChunk(
                agent_id=self.agent_id,
                turn_id=self.turn_id,
                seq=self._seq,
                kind=kind,
                text=text,
                tool_call=tool_call,
                tool_result=tool_result,
            )
        )

    async def pump(self, conv: Any, text: list[str]) -> None:
        """Forwards the turn's steps until it ends; the answer's text is collected in `text`."""
        from google.antigravity import types as sdk

        model, user, error = sdk.StepSource.MODEL, sdk.StepTarget.USER, sdk.StepStatus.ERROR
        async for step in conv.receive_steps():
            if step.source == model and step.target == user and step.status != error:
                if step.thinking_delta:
                    self.emit("thought", text=step.thinking_delta)
                if step.content_delta:
                    text.append(step.content_delta)
                    self.emit("text", text=step.content_delta)
            for call in self.ids.stream(step):  # the SDK streams a step again as it grows
                self.emit("toolCall", tool_call=call)


@dataclass
class _Call:
    id: str
    name: str
    args: dict[str, Any]
    call_id: str = ""  # the model's
    hook_step: str = ""  # the hooks' step id (the harness's internal numbering)
    stream_step: str = ""  # the streamed step's id
    asked: bool = False
    placed: bool = False  # its step, or its denial, went by in the stream
    announced: bool = False  # its toolCall chunk went out
    ran: bool = False  # agy/runTool went out
    denied: bool = False
    done: bool = False  # its result came

    @property
    def ident(self) -> convert.Ident:
        return self.id, self.call_id if self.call_id and self.call_id != self.id else None


class ToolIds:
    """The running turn's tool calls, in the order the pre-tool hook saw them."""

    def __init__(self) -> None:
        self.custom: frozenset[str] = frozenset()  # the editor tools' names (set by Callbacks)
        self._calls: list[_Call] = []
        self._used: set[str] = set()  # ids given out in this session
        self._steps: set[str] = set()  # step ids seen this turn
        self._minted = 1

    def reset(self) -> None:
        self._calls.clear()
        self._steps.clear()

    # ------------------------------------------------------------------ hook side

    def before(self, call: Any) -> ToolCall:
        """The pre-tool hook's call (an SDK ToolCall): every call's first sighting."""
        wire = convert.tool_call(call, _BLANK)
        hook_step = call.step_id or ""
        rec = self._pick(lambda c: bool(hook_step) and c.hook_step == hook_step)
        return _with(wire, rec or self._new(wire.name, wire.args, call.id or "", hook_step))

    def asking(self, call: Any) -> ToolCall:
        """The call an ask_user policy hands over (the SDK gives it no ids)."""
        wire = convert.tool_call(call, _BLANK)
        call_id, hook_step = call.id or "", call.step_id or ""
        if not (call_id or hook_step):
            call_id, hook_step = _pending_policy_ids()
        rec = self._pick(
            lambda c: bool(hook_step) and c.hook_step == hook_step,
            lambda c: bool(call_id) and c.call_id == call_id and not c.asked,
            lambda c: not c.asked and not c.placed and c.name == wire.name and c.args == wire.args,
            lambda c: not c.asked and not c.placed and c.name == wire.name,
        ) or self._new(wire.name, wire.args, call_id, hook_step)
        rec.asked = True
        return _with(wire, rec)

    def modified(self, call_id: str, args: dict[str, Any]) -> None:
        """A preToolCall hook changed the arguments the tool will get."""
        if (rec := self._pick(lambda c: c.id == call_id)) is not None:
            rec.args = {**rec.args, **args}

    def deny(self, call_id: str) -> None:
        if (rec := self._pick(lambda c: c.id == call_id)) is not None:
            rec.denied = True

    def running(self, name: str, args: dict[str, Any]) -> ToolCall:
        """The call an editor tool's function runs for (it gets only the arguments)."""
        sdk_call = _running_sdk_call()
        call_id = str(getattr(sdk_call, "id", "") or "")
        rec = self._pick(
            lambda c: bool(call_id) and c.call_id == call_id and not c.ran,
            lambda c: not c.ran and not c.denied and c.name == name and c.args == args,
            lambda c: not c.ran and not c.denied and c.name == name,
        ) or self._new(name, args, call_id)
        rec.ran = True
        return _with(ToolCall(name=name, args=args), rec)

    def result(self, result: Any) -> ToolResult:
        """The post-tool hook's result (an SDK ToolResult)."""
        wire = convert.tool_result(result, _BLANK)
        call_id, hook_step = result.id or "", result.step_id or ""
        rec = self._pick(
            lambda c: bool(hook_step) and c.hook_step == hook_step,
            lambda c: bool(call_id) and c.call_id == call_id and not c.done,
            lambda c: c.name == wire.name and not c.done and not c.denied,
        ) or self._new(wire.name, {}, call_id, hook_step)
        rec.done = True
        wire.id, wire.call_id = rec.ident
        return wire

    def id_of_error(self, error: Any) -> str | None:
        """The id of the call an onToolError hook is about (SDK ToolExecutionError)."""
        call_id, hook_step = getattr(error, "call_id", None) or "", getattr(error, "step_id", None) or ""
        rec = self._pick(
            lambda c: bool(hook_step) and c.hook_step == hook_step,
            lambda c: bool(call_id) and c.call_id == call_id,
        )
        return rec.id if rec is not None else None

    # ------------------------------------------------------------------ stream side

    def stream(self, step: Any) -> list[ToolCall]:
        """The calls of a streamed SDK step not announced yet."""
        first = step.id not in self._steps
        self._steps.add(step.id)
        out: list[ToolCall] = []
        for call in step.tool_calls:
            wire = convert.tool_call(call, _BLANK)
            rec = self._streamed(call, wire)
            if not rec.announced:
                rec.announced = True
                out.append(_with(wire, rec))
        if first and not step.tool_calls:
            self._place(step)
        return out

    def _streamed(self, call: Any, wire: ToolCall) -> _Call:
        step_id: str = call.step_id or ""
        if step_id:  # a built-in or MCP tool: its step id, no call id
            rec = self._pick(
                lambda c: c.stream_step == step_id,
                lambda c: not c.placed and not c.denied and c.name == wire.name,
            ) or self._new(wire.name, wire.args, call.id or "")
            if not rec.placed:
                rec.placed, rec.stream_step = True, step_id
                convert.known_ids.remember_step(step_id, rec.ident)
            return rec
        call_id: str = call.id or ""  # a custom tool's own step: the model's call id, no step id
        rec = self._pick(
            lambda c: c.call_id == call_id and not c.announced,
            lambda c: c.call_id == call_id,
        ) or self._new(wire.name, wire.args, call_id)
        convert.known_ids.remember_call(call, rec.ident)
        return rec

    def _place(self, step: Any) -> None:
        """A step without calls that stands for one: a custom tool's (the SDK strips
        its call), or a denied call's error."""
        from google.antigravity import types as sdk

        if step.type == sdk.StepType.TOOL_CALL:
            if (rec := self._pick(lambda c: not c.placed and c.name in self.custom)) is not None:
                rec.placed, rec.stream_step = True, step.id
                convert.known_ids.remember_step(step.id, rec.ident)
        elif step.status == sdk.StepStatus.ERROR and _DENIED in (step.error or ""):
            if (rec := self._pick(lambda c: not c.placed)) is not None:
                rec.placed = rec.denied = True

    # ------------------------------------------------------------------ records

    def _pick(self, *tests: Callable[[_Call], bool]) -> _Call | None:
        """The first record passing the first test that any record passes."""
        for test in tests:
            for rec in self._calls:
                if test(rec):
                    return rec
        return None

    def _new(self, name: str, args: dict[str, Any], call_id: str, hook_step: str = "") -> _Call:
        ident = call_id
        while not ident or ident in self._used:  # no id, or a model that repeats them
            self._minted += 1
            ident = f"{call_id or name}-{self._minted}"
        self._used.add(ident)
        rec = _Call(ident, name, args, call_id, hook_step)
        self._calls.append(rec)
        return rec


def _with(wire: ToolCall, rec: _Call) -> ToolCall:
    wire.id, wire.call_id = rec.ident
    return wire


def _task_locals() -> dict[str, Any]:
    """The local variables of the coroutine the current task runs: the SDK's handler
    of the harness event that led to our callback. {} when there is none."""
    try:
        task = asyncio.current_task()
        frame = task.get_coro().cr_frame if task is not None else None  # pyright: ignore[reportUnknownMemberType, reportAttributeAccessIssue]
        return dict(frame.f_locals) if frame is not None else {}  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    except Exception:
        return {}


def _pending_policy_ids() -> tuple[str, str]:
    """(call id, hook step id) of the PolicyDecisionRequest an ask_user handler runs
    for: the harness sends them, the SDK's ToolCall leaves them out."""
    request = _task_locals().get("request")
    args = getattr(request, "tool_args", None)
    if args is None or type(request).__name__ != "PolicyDecisionRequest":
        return "", ""
    trajectory, index = str(getattr(args, "trajectory_id", "") or ""), getattr(args, "step_index", 0)
    try:
        has_index = bool(args.HasField("step_index"))
    except Exception:
        has_index = False
    hook_step = (f"{trajectory}:{index}" if trajectory else str(index)) if trajectory or has_index else ""  # SDK's make_step_id
    return str(getattr(args, "call_id", "") or ""), hook_step


def _running_sdk_call() -> Any:
    """The SDK ToolCall an editor tool's function is running for, if the SDK's tool
    runner shows it (its per-call task runs `_execute_one(tc)`)."""
    from google.antigravity import types as sdk

    call = _task_locals().get("tc")
    return call if isinstance(call, sdk.ToolCall) else None
