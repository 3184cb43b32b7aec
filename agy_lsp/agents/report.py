"""What one turn did, as the core reports it to a front-end: its text, every tool
call with its outcome, the files it changed, its usage, stop reason and warning.

A front-end passes a `TurnReport` to `AgentManager.chat` and reads it; it does not
rebuild a turn from the chunks it is shown. The report fills in as the turn
streams (text and calls, with `on_change` called after each), and is complete
when `chat` returns or raises: `result` holds the answer, or `error` the failure
(the text and calls so far stay readable), and every call has an outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agy_lsp.protocol.errors import AgyError
from agy_lsp.protocol.types import ChatChunk, ChatResult, ToolOutcome, TurnWarning, Usage

if TYPE_CHECKING:
    from agy_lsp.agents.tool_calls import CallRecord


@dataclass
class CallReport:
    """One tool call of the turn: as first seen, then as it ended."""

    id: str
    name: str
    args: dict[str, Any]
    depth: int = 0  # a subagent's call: its depth (> 0)
    ended: bool = False
    outcome: ToolOutcome | None = None
    result: Any = None
    error: str | None = None  # why it failed or never ran


@dataclass
class TurnReport:
    turn_id: str = ""
    parts: list[str] = field(default_factory=list[str])  # the answer's text as it streamed (not a subagent's)
    calls: dict[str, CallReport] = field(default_factory=dict[str, CallReport])  # by the call's one id, in the order seen
    files_changed: list[str] = field(default_factory=list[str])  # created or edited, in order, once each
    result: ChatResult | None = None  # the turn's answer, once it ended with one
    error: AgyError | None = None  # or why it failed
    retry: str = ""  # the harness retrying the model request (a `retry` chunk's text), until the model speaks again
    on_change: Callable[[], None] | None = None  # after each text, call or retry chunk (progress)

    @property
    def text(self) -> str:
        return self.result.text if self.result is not None else "".join(self.parts)

    @property
    def stop_reason(self) -> str | None:
        if self.result is not None:
            return self.result.stop_reason
        return str(self.error.data["stopReason"]) if self.error is not None and "stopReason" in self.error.data else None

    @property
    def usage(self) -> Usage | None:
        return self.result.usage if self.result is not None else None

    @property
    def warning(self) -> TurnWarning | None:
        """PERSIST_FAILED when the turn ran but its session was not saved."""
        if self.result is not None:
            return self.result.warning
        raw = self.error.data.get("warning") if self.error is not None else None
        return TurnWarning(code=raw["code"], message=raw["message"], data=raw.get("data", {})) if isinstance(raw, dict) else None

    def tool_calls(self, *, subagents: bool = True) -> list[CallReport]:
        return [c for c in self.calls.values() if subagents or not c.depth]

    # ------------------------------------------------------------------ filled in by the core

    def record(self, chunk: ChatChunk) -> None:
        """A chunk of the turn (agents/turn.py): its answer's text, a call seen, a call ended."""
        depth = chunk.depth or 0
        if chunk.kind == "text" and chunk.text:
            self.retry = ""
            if not depth:
                self.parts.append(chunk.text)
        elif chunk.kind == "retry" and chunk.text:
            self.retry = chunk.text
        elif chunk.kind == "toolCall" and (call := chunk.tool_call) is not None:
            self.calls.setdefault(call.id, CallReport(call.id, call.name, dict(call.args), depth))
        elif chunk.kind == "toolResult" and (r := chunk.tool_result) is not None:
            rec = self.calls.setdefault(r.id, CallReport(r.id, r.name, {}, depth))
            rec.outcome, rec.result, rec.error, rec.ended = r.outcome, r.result, r.error, True
        else:
            return
        if self.on_change is not None:
            self.on_change()

    def ended(self, records: Iterable[CallRecord]) -> None:
        """The turn's calls are all closed: the files they wrote."""
        for rec in records:
            path = rec.written_file()
            if path is not None and path not in self.files_changed:
                self.files_changed.append(path)
