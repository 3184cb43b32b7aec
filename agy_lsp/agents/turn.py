"""One turn: its numbered chunks, its tool calls and their one id each, its cancel
scope, the editor requests pending in it, and the text streamed so far.

Every tool call the model makes is shown with its outcome: a `toolCall` chunk when
it is first seen, and a `toolResult` chunk when it ends, also when it never ran
(denied by a policy, the person or a hook, or cancelled with the turn).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Generator
from typing import Any

import anyio

from agy_lsp.agents.editor import Editor
from agy_lsp.agents.report import TurnReport
from agy_lsp.agents.tool_calls import CallRecord, IdBook, Outcome, ToolCalls
from agy_lsp.protocol.types import ChatChunk, ChunkKind, Plan, RetryInfo, ToolCall, ToolResult
from agy_lsp.sdk.port import StepEvent

DELEGATION = "invoke_subagent"  # the tool whose calls start subagents


class Turn:
    def __init__(
        self,
        agent_id: str,
        turn_id: str,
        editor: Editor,
        book: IdBook,
        custom_tools: frozenset[str],
        label: Callable[[Any, ToolCall], None],
        report: TurnReport | None = None,
    ) -> None:
        self.agent_id = agent_id
        self.id = turn_id
        self.editor = editor
        self.report = report or TurnReport()  # what the caller reads (agents/report.py)
        self.report.turn_id = turn_id
        self.calls = ToolCalls(book, custom_tools, label)
        self.text: list[str] = []
        self.cancel_requested = False
        self.ended = anyio.Event()
        self.task: asyncio.Task[Any] | None = None  # the task running the turn (chat.py)
        self._seq = 0
        self._step: StepEvent | None = None  # the streamed step being forwarded
        self.delegated_by: dict[str, str] = {}  # a subagent's trajectory -> the call that started it
        self._delegations: list[tuple[str, CallRecord]] = []  # (trajectory, call) of each invoke_subagent shown
        self._subagents: set[str] = set()  # the subagent trajectories shown
        self._scope: anyio.CancelScope | None = None
        self._pending: set[anyio.CancelScope] = set()
        self.denied_steps: dict[str, CallRecord] = {}  # step id -> the call a "denied" step stands for
        self.last_step = ""  # the agent's own step the stream showed last
        self._ended_unfinished: list[CallRecord] = []  # calls the turn's end cancelled (no "denied" step)

    # ------------------------------------------------------------------ chunks

    def emit(
        self,
        kind: ChunkKind,
        *,
        text: str | None = None,
        tool_call: ToolCall | None = None,
        tool_result: ToolResult | None = None,
        plan: Plan | None = None,
        retry: RetryInfo | None = None,
    ) -> None:
        """One chunk, numbered from 1 within the turn. While a streamed step is being
        forwarded its chunks carry the step's id, and a subagent's step its trajectory."""
        self._seq += 1
        chunk = ChatChunk(agent_id=self.agent_id, turn_id=self.id, seq=self._seq, kind=kind, text=text, plan=plan)
        chunk.tool_call, chunk.tool_result, chunk.retry = tool_call, tool_result, retry
        if (step := self._step) is not None:
            chunk.step_id = step.step_id or None
            if step.depth:
                chunk.trajectory_id, chunk.parent_trajectory_id, chunk.depth = step.trajectory_id, step.parent_trajectory_id, step.depth
                chunk.parent_call_id = self._delegating_call(step)
        self.report.record(chunk)
        self.editor.chunk(chunk)

    def on_step(self, event: StepEvent) -> None:
        """A streamed step: text and thought deltas, calls seen for the first time,
        the call a "denied" step stands for, a compaction. A subagent's text is its
        own (shown, marked), not part of the turn's answer."""
        self._step = event
        if event.first and event.step_id and not event.depth:
            self.last_step = event.step_id
        try:
            self._forward(event)
        finally:
            self._step = None

    def _forward(self, event: StepEvent) -> None:
        if event.kind == "compaction":
            if event.text:
                self.emit("compaction", text=event.text)
            return
        if event.kind == "retry":  # the harness retries the model request: say so, not silence
            if event.first:
                retry = RetryInfo(attempt=event.attempt, reason=event.error)
                self.emit("retry", text=f"model request failed ({retry.reason}), retrying (attempt {retry.attempt})", retry=retry)
            return
        if event.thought:
            self.emit("thought", text=event.thought)
        if event.text:
            if not event.depth:
                self.text.append(event.text)
            self.emit("text", text=event.text)
        fresh, denied = self.calls.streamed(event)
        for rec, args in fresh:
            self.announce(rec, args)  # as the stream spells them (see docs/protocol.md#tool-call-ids)
        if denied is not None:
            self.denied_steps[event.step_id] = denied
            self.finish(denied, error=denied.reason)
        for ended in event.ended:  # calls no post-tool hook ends
            self.finish(self.calls.finished(ended), ended.result, ended.error)

    def announce(self, rec: CallRecord, args: dict[str, Any] | None = None) -> None:
        if not rec.announced:
            rec.announced = True
            if DELEGATION in (rec.name, rec.sdk_name):
                step = self._step
                self._delegations.append((step.trajectory_id if step is not None and step.depth else "", rec))
            self.emit("toolCall", tool_call=rec.wire(args))

    def _delegating_call(self, step: StepEvent) -> str | None:
        """The invoke_subagent call a subagent's step belongs under, from its first
        chunk on. The call's post-tool hook names the subagent, but the subagent's first
        steps can stream before that hook arrives (the adapter waits on the harness's
        transcript for the call's output): until then it is the newest delegation of the
        parent trajectory still running (else the newest), as the stream showed them."""
        self._subagents.add(step.trajectory_id)
        if (known := self.delegated_by.get(step.trajectory_id)) is not None:
            return known
        parent = step.parent_trajectory_id if step.parent_trajectory_id in self._subagents else ""
        calls = [rec for trajectory, rec in reversed(self._delegations) if trajectory == parent]
        rec = next((r for r in calls if r.outcome is None), calls[0] if calls else None)
        if rec is None:
            return None
        self.delegated_by[step.trajectory_id] = rec.id
        return rec.id

    def finish(self, rec: CallRecord, result: Any = None, error: str | None = None) -> ToolResult:
        """The call's `toolResult` chunk (its outcome is set by now), once."""
        if rec.reported is not None:
            return rec.reported
        self.announce(rec)
        rec.reported = wire = rec.result(result, error)
        self.emit("toolResult", tool_result=wire)
        return wire

    def refuse(self, rec: CallRecord, outcome: Outcome, reason: str) -> None:
        """A call that will not run; its toolResult goes out when the harness shows
        its "denied" step, or at the end of the turn."""
        if rec.outcome is None:
            rec.outcome, rec.reason = outcome, reason

    def close_calls(self) -> None:
        """At the end of the turn, every call seen has an outcome and a toolResult."""
        for rec in self.calls.records:
            if rec.outcome is None:
                rec.outcome, rec.reason = "cancelled", "the turn ended before the call did"
                self._ended_unfinished.append(rec)
                self.finish(rec, error=rec.reason)
            elif rec.refused and rec not in self.denied_steps.values():
                self.finish(rec, error=rec.reason)

    def late_denials(self) -> list[CallRecord]:
        """Calls refused as the turn was cancelled (a confirmation cancelled while it
        waited): their "denied" step comes after the turn stopped reading the stream
        (in this process's history it never comes; on disk it does), so they are kept
        with the last step the stream showed (see queries.with_refused)."""
        placed = self.denied_steps.values()
        return [r for r in self.calls.records if r.refused and r not in placed and r not in self._ended_unfinished]

    # ------------------------------------------------------------------ cancel

    @contextlib.contextmanager
    def cancel_scope(self) -> Generator[anyio.CancelScope, None, None]:
        """The scope `cancel` cancels. Nested: the innermost one (the model call,
        inside the turn's waits for quota and a harness) is the one cancelled, so
        the turn can still settle the SDK and answer with the text so far."""
        outer = self._scope
        with anyio.CancelScope() as scope:
            self._scope = scope
            if self.cancel_requested:
                scope.cancel()
            try:
                yield scope
            finally:
                self._scope = outer

    @contextlib.contextmanager
    def pending_request(self) -> Generator[anyio.CancelScope, None, None]:
        """A cancel scope around one request to the editor; cancelling the turn
        cancels every pending one (confirmations resolve as cancelled)."""
        with anyio.CancelScope() as scope:
            self._pending.add(scope)
            if self.cancel_requested:
                scope.cancel()
            try:
                yield scope
            finally:
                self._pending.discard(scope)

    def cancel(self) -> None:
        """agy/cancel: the editor's pending requests resolve as cancelled, and the
        innermost cancel scope ends (the model call, or the wait before it)."""
        self.cancel_requested = True
        self.cancel_pending()
        if self._scope is not None:
            self._scope.cancel()

    def cancel_pending(self) -> None:
        for scope in list(self._pending):
            scope.cancel()
