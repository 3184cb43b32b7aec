"""What `agy-lsp run` writes: the answer (`text`), one result object (`json`), or
one event a line as things happen (`stream-json`); docs/run.md and
docs/run-events.schema.json are the contract.

stdout carries only that. Progress (thoughts, tool lines) goes to stderr when
stderr is a terminal; what a person must see (a refused call, an error) always
does. A reader that went away (`| head -1`) ends the run quietly: the first
failed write sets `broken`, and nothing more is written.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO

import msgspec

from agy_lsp.protocol.types import ChatChunk, ToolCall, ToolResult, Usage

Format = Literal["text", "json", "stream-json"]
FORMATS: tuple[Format, ...] = ("text", "json", "stream-json")

_encode = msgspec.json.Encoder().encode


@dataclass
class CallOutcome:
    """One tool call of the turn, as the result reports it."""

    id: str
    name: str
    args: dict[str, Any]
    outcome: str | None = None
    result: Any = None
    error: str | None = None
    allow_with: list[str] | None = None  # the flags that would have allowed a refused call

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name, "args": self.args, "outcome": self.outcome}
        out["result"], out["error"] = self.result, self.error
        if self.allow_with is not None:
            out["allowWith"] = self.allow_with
        return out


@dataclass
class RunResult:
    """The end of a run: the `json` output, and the last `stream-json` event."""

    exit_code: int = 0
    status: str = "success"
    text: str = ""
    stop_reason: str | None = None
    usage: Usage | None = None
    session_id: str | None = None
    turn_id: str | None = None
    tool_calls: list[CallOutcome] = field(default_factory=list[CallOutcome])
    files_changed: list[str] = field(default_factory=list[str])
    structured_output: Any = None
    warning: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "result",
            "status": self.status,
            "exitCode": self.exit_code,
            "text": self.text,
            "stopReason": self.stop_reason,
            "usage": msgspec.to_builtins(self.usage) if self.usage is not None else None,
            "sessionId": self.session_id,
            "turnId": self.turn_id,
            "toolCalls": [c.to_json() for c in self.tool_calls],
            "filesChanged": self.files_changed,
            "structuredOutput": self.structured_output,
            "warning": self.warning,
            "error": self.error,
            "durationMs": round(self.duration_ms, 1),
        }


def _call_event(call: ToolCall) -> dict[str, Any]:
    return {"type": "tool_call", "id": call.id, "name": call.name, "args": call.args}


def _result_event(result: ToolResult) -> dict[str, Any]:
    return {
        "type": "tool_result",
        "id": result.id,
        "name": result.name,
        "outcome": result.outcome,
        "result": result.result,
        "error": result.error,
    }


def chunk_event(chunk: ChatChunk, refused: dict[str, str]) -> dict[str, Any]:
    """A chunk as a stream-json event. `refused`: call id -> our reason for a call
    refused for want of consent (the core's says "you rejected")."""
    event: dict[str, Any]
    if chunk.kind == "toolCall" and chunk.tool_call is not None:
        event = _call_event(chunk.tool_call)
    elif chunk.kind == "toolResult" and chunk.tool_result is not None:
        event = _result_event(chunk.tool_result)
        if chunk.tool_result.id in refused:
            event["error"] = refused[chunk.tool_result.id]
    elif chunk.kind == "plan" and chunk.plan is not None:
        event = {"type": "plan", "plan": msgspec.to_builtins(chunk.plan)}
    elif chunk.kind == "retry" and chunk.retry is not None:
        event = {"type": "retry", "text": chunk.text or "", "retry": msgspec.to_builtins(chunk.retry)}
    else:
        event = {"type": chunk.kind, "text": chunk.text or ""}
    event["seq"] = chunk.seq
    if chunk.depth:  # a subagent's
        event.update(depth=chunk.depth, trajectoryId=chunk.trajectory_id, parentCallId=chunk.parent_call_id)
    return event


class Output:
    def __init__(self, fmt: Format, stdout: TextIO, stderr: TextIO, on_broken: Callable[[], None]) -> None:
        self.fmt = fmt
        self.stdout = stdout
        self.stderr = stderr
        self.progress = stderr.isatty()
        self.broken = False
        self._on_broken = on_broken
        self._text_ended_line = True

    # ------------------------------------------------------------------ stdout

    def _write(self, data: str) -> None:
        if self.broken:
            return
        try:
            self.stdout.write(data)
            self.stdout.flush()
        except (BrokenPipeError, ValueError):  # ValueError: stdout already closed
            self.broken = True
            _silence_stdout()
            self._on_broken()

    def event(self, event: dict[str, Any]) -> None:
        if self.fmt == "stream-json":
            self._write(_encode(event).decode() + "\n")

    def answer_text(self, text: str) -> None:
        if self.fmt == "text" and text:
            self._write(text)
            self._text_ended_line = text.endswith("\n")

    def finish(self, result: RunResult) -> None:
        if self.fmt == "text":
            if result.text and not self._text_ended_line:
                self._write("\n")
        else:
            self._write(_encode(result.to_json()).decode() + "\n")

    # ------------------------------------------------------------------ stderr

    def note(self, line: str, *, always: bool = False) -> None:
        """A line for the person: progress only on a terminal; `always` regardless."""
        if always or self.progress:
            with contextlib.suppress(OSError, ValueError):
                if self.fmt == "text" and not self._text_ended_line and self.progress:
                    self.stderr.write("\n")
                self.stderr.write(line + "\n")
                self.stderr.flush()


def _silence_stdout() -> None:
    """The reader is gone: later writes (and the flush at exit) go nowhere, quietly."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
