"""One id per tool call: the turn's records, matched from the SDK's sightings.

The SDK shows one call up to six times, under different ids (measured on SDK
0.1.22; the table is in docs/protocol.md#tool-call-ids): the hooks carry the
model's call id and a step id in the harness's internal numbering; ask_user gets
the ids only through the adapter's read of the SDK's pending request; a built-in
tool's streamed step has only a step id in another numbering; a custom tool's own
step has only the model's call id; the custom tool's body gets the id only through
the adapter's read of the SDK's tool runner. No SDK id is in all of them, so a
call's one id is the model's call id (made unique in the agent), and each sighting
is matched to the record the pre-tool hook opened:

- the pre-tool hook (always registered) opens the record: call id + hook step id;
- a confirmation: by hook step id, then call id, then the first unasked record of
  that name and arguments;
- a built-in or MCP tool's streamed step: the harness decides calls one at a time,
  in order, and starts each call's step right after its decision, so it is the
  first record not yet placed nor denied whose tool streams under that step's name
  (the SDK's: a `write_to_file` call streams as an `edit_file` step). A denied call
  leaves a "denied" step instead, which places the oldest unplaced record;
  `ask_question`'s step carries no call: the adapter names it by its hook's call id;
- a custom tool's own step carries the model's call id; the harness's step for it
  (without its call) places the first unplaced custom record;
- an editor tool's body: by call id, then name and arguments;
- the post-tool hook and onToolError: by hook step id, then call id; a call no
  post-tool hook ends (`finish`) is ended by the adapter, by its hook step id.

A call the harness runs without any hook (`define_subagent`, `manage_task`, ...) or
refuses as invalid has no model call id anywhere: the adapter reports it once the
transcript explains its step (`hookless`), and its id is that step's id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from agy_lsp.protocol.types import ToolCall, ToolResult
from agy_lsp.sdk.port import StepEvent, ToolEnd, ToolSighting

Outcome = Literal["completed", "failed", "denied", "cancelled"]

# The built-in tools that create or edit a file (as the model calls them), and the
# argument that names it (as the model writes it).
FILE_WRITERS = {"write_to_file": "TargetFile", "replace_file_content": "TargetFile"}
# The harness streams the step of a file the model creates as an edit_file step
# (google-antigravity 0.1.22); every other tool's step carries its (SDK) name.
_STREAMED_AS = {"create_file": "edit_file"}


@dataclass
class CallRecord:
    id: str
    name: str  # as the model called it
    args: dict[str, Any]
    call_id: str = ""  # the model's
    hook_step: str = ""  # the hooks' step id (the harness's internal numbering)
    stream_step: str = ""  # the streamed step's id
    sdk_name: str = ""  # the SDK's name of the tool, when it has another
    key: Any = None  # the adapter's label key of its step, for history
    asked: bool = False
    placed: bool = False  # its step, or its denial, went by in the stream
    announced: bool = False  # its toolCall chunk went out
    ran: bool = False  # its editor tool body ran
    outcome: Outcome | None = None  # set once it ended
    reason: str = ""  # why it was denied or cancelled, for the person
    reported: ToolResult | None = None  # its toolResult, once sent

    @property
    def refused(self) -> bool:
        return self.outcome in ("denied", "cancelled")

    def written_file(self) -> str | None:
        """The file this call created or edited, if it is a file write that ran."""
        path = self.args.get(FILE_WRITERS.get(self.name, ""))
        return path if self.outcome == "completed" and isinstance(path, str) and path else None

    def wire(self, args: dict[str, Any] | None = None, outcome: Outcome | None = None) -> ToolCall:
        return ToolCall(
            id=self.id,
            name=self.name,
            args=self.args if args is None else args,
            call_id=self.call_id if self.call_id and self.call_id != self.id else None,
            outcome=outcome,
        )

    def result(self, result: Any = None, error: str | None = None) -> ToolResult:
        return ToolResult(
            id=self.id,
            name=self.name,
            result=result,
            error=error,
            call_id=self.call_id if self.call_id and self.call_id != self.id else None,
            outcome=self.outcome,
        )


@dataclass
class IdBook:
    """The ids an agent gave out over its life: a model that repeats call ids (some
    number them per reply) still gets one id per call."""

    used: set[str] = field(default_factory=set[str])
    minted: int = 1

    def mint(self, call_id: str, name: str, preferred: str = "") -> str:
        ident = call_id or preferred
        while not ident or ident in self.used:
            self.minted += 1
            ident = f"{call_id or preferred or name}-{self.minted}"
        self.used.add(ident)
        return ident


class ToolCalls:
    """The running turn's tool calls, in the order the pre-tool hook saw them."""

    def __init__(self, book: IdBook, custom: frozenset[str], label: Callable[[Any, ToolCall], None]) -> None:
        self._book = book
        self._custom = custom  # the editor tools' names
        self._label = label  # tells the adapter, so history shows the same id
        self.records: list[CallRecord] = []

    # ------------------------------------------------------------------ callbacks

    def before(self, s: ToolSighting) -> CallRecord:
        """The pre-tool hook's sighting: every call's first."""
        step = s.step_id
        rec = self._pick(lambda c: bool(step) and c.hook_step == step) or self._new(s.name, s.args, s.call_id, step)
        rec.sdk_name = rec.sdk_name or s.sdk_name
        return rec

    def asking(self, s: ToolSighting) -> CallRecord:
        rec = self._pick(
            lambda c: bool(s.step_id) and c.hook_step == s.step_id,
            lambda c: bool(s.call_id) and c.call_id == s.call_id and not c.asked,
            lambda c: not c.asked and not c.placed and c.name == s.name and c.args == s.args,
            lambda c: not c.asked and not c.placed and c.name == s.name,
        ) or self._new(s.name, s.args, s.call_id, s.step_id)
        rec.asked = True
        return rec

    def running(self, s: ToolSighting) -> CallRecord:
        rec = self._pick(
            lambda c: bool(s.call_id) and c.call_id == s.call_id and not c.ran,
            lambda c: not c.ran and c.outcome is None and c.name == s.name and c.args == s.args,
            lambda c: not c.ran and c.outcome is None and c.name == s.name,
        ) or self._new(s.name, s.args, s.call_id)
        rec.ran = True
        return rec

    def finished(self, o: ToolEnd) -> CallRecord:
        s = o.sighting
        if s.hookless:  # by its step (the stream's numbering, not the hooks')
            rec = self._pick(lambda c: c.stream_step == s.step_id) or self._new(s.name, s.args, "", preferred=s.step_id)
        else:
            rec = self._pick(
                lambda c: bool(s.step_id) and c.hook_step == s.step_id,
                lambda c: bool(s.call_id) and c.call_id == s.call_id and c.outcome is None,
                lambda c: c.name == s.name and c.outcome is None,
            ) or self._new(s.name, {}, s.call_id, s.step_id)
        if rec.outcome is None:
            rec.outcome = "failed" if o.error else "completed"
            if rec.key is not None:  # history shows how it ended
                self._label(rec.key, rec.wire(outcome=rec.outcome))
        return rec

    def failing(self, s: ToolSighting) -> CallRecord | None:
        return self._pick(
            lambda c: bool(s.step_id) and c.hook_step == s.step_id,
            lambda c: bool(s.call_id) and c.call_id == s.call_id,
        )

    def by_id(self, ident: str) -> CallRecord | None:
        return self._pick(lambda c: c.id == ident)

    # ------------------------------------------------------------------ the stream

    def streamed(self, event: StepEvent) -> tuple[list[tuple[CallRecord, dict[str, Any]]], CallRecord | None]:
        """(the records this step shows, with the arguments as it spells them; the
        record a "denied" step stands for)."""
        fresh: list[tuple[CallRecord, dict[str, Any]]] = []
        for s in event.calls:
            rec = self._placed_by(s)
            if not rec.announced:
                fresh.append((rec, s.args or rec.args))
        if event.first and not event.calls:
            if event.kind == "custom_tool":
                if (rec := self._pick(lambda c: not c.placed and c.name in self._custom)) is not None:
                    rec.placed, rec.stream_step = True, event.step_id
                    self._label(event.step_id, rec.wire())
            elif event.kind == "denied" and (rec := self._pick(lambda c: not c.placed)) is not None:
                rec.placed = True
                if rec.outcome is None:
                    rec.outcome, rec.reason = "denied", rec.reason or event.error or "denied by a policy"
                return fresh, rec
        return fresh, None

    def _placed_by(self, s: ToolSighting) -> CallRecord:
        if s.hookless:  # no hook saw it: its step is all there is, and names it
            rec = self._pick(lambda c: c.stream_step == s.step_id) or self._new(s.name, s.args, "", preferred=s.step_id)
            self._place(rec, s)
            return rec
        if s.step_id:  # a built-in or MCP tool: its step id, no call id (but ask_question's)
            streams_as = s.sdk_name or s.name
            rec = self._pick(
                lambda c: c.stream_step == s.step_id,
                lambda c: bool(s.call_id) and c.call_id == s.call_id and not c.placed,
                lambda c: not c.placed and not c.refused and _streams_as(c) == streams_as,
            ) or self._new(s.name, s.args, s.call_id)
            if not rec.placed:
                self._place(rec, s)
            return rec
        rec = self._pick(  # a custom tool's own step: the model's call id, no step id
            lambda c: c.call_id == s.call_id and not c.announced,
            lambda c: c.call_id == s.call_id,
        ) or self._new(s.name, s.args, s.call_id)
        rec.key = s.key
        self._label(s.key, rec.wire(outcome=rec.outcome))
        return rec

    def _place(self, rec: CallRecord, s: ToolSighting) -> None:
        rec.placed, rec.stream_step, rec.key = True, s.step_id, s.key
        self._label(s.key, rec.wire(outcome=rec.outcome))  # it may have ended first (a hook races the stream)

    # ------------------------------------------------------------------ records

    def _pick(self, *tests: Callable[[CallRecord], bool]) -> CallRecord | None:
        """The first record passing the first test that any record passes."""
        for test in tests:
            for rec in self.records:
                if test(rec):
                    return rec
        return None

    def _new(self, name: str, args: dict[str, Any], call_id: str, hook_step: str = "", preferred: str = "") -> CallRecord:
        rec = CallRecord(self._book.mint(call_id, name, preferred), name, args, call_id, hook_step)
        self.records.append(rec)
        return rec


def _streams_as(rec: CallRecord) -> str:
    """The name of the step the harness streams for this call (the SDK's names)."""
    name = rec.sdk_name or rec.name
    return _STREAMED_AS.get(name, name)
