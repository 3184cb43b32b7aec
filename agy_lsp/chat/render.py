"""How a turn looks: rich in a terminal, plain text in a pipe or a dumb terminal.

`RichView` streams the answer as Markdown (the current block re-rendered in a
`rich.live.Live` as chunks arrive, code blocks highlighted), with a spinner line
under it: the elapsed time and the tool in use. Tool calls end as one compact line
each with their outcome, numbered for `/show N`; a subagent's work is indented
under the call that delegated to it; a plan is a checklist; a footer gives the
turn's usage. `PlainView` writes the same as plain text with no escape codes: the
answer as it streams (Markdown as the model wrote it) on `text_out`, the rest on
`side_out` (stderr in a one-shot run, so stdout can be piped).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markdown import Markdown
from rich.padding import Padding
from rich.spinner import Spinner
from rich.text import Text

from agy_lsp.client.terminal import describe_call, describe_result, describe_usage
from agy_lsp.protocol.shown import action_lines, value_text, visible
from agy_lsp.protocol.types import ChatChunk, Plan, ToolCall, ToolResult, Usage

# outcome -> (mark, rich style)
OUTCOMES: dict[str, tuple[str, str]] = {
    "completed": ("✓", "green"),
    "failed": ("✗", "red"),
    "denied": ("⊘", "yellow"),
    "cancelled": ("⏹", "bright_black"),
    "running": ("…", "cyan"),
}
PLAN_MARKS = {"completed": "[x]", "in_progress": "[~]", "pending": "[ ]"}


@dataclass
class ToolRecord:
    """A tool call of this chat, numbered in order (`/tools`, `/show N`)."""

    number: int
    call: ToolCall
    depth: int = 0
    result: ToolResult | None = None
    ended: bool = False  # the turn ended: a call with no result was cancelled

    @property
    def outcome(self) -> str:
        if self.result is None:
            return "cancelled" if self.ended else "running"
        if self.result.outcome is not None:
            return self.result.outcome
        return "failed" if self.result.error else "completed"

    def summary(self) -> str:
        """`✓ #3 run_command(CommandLine="ls") · completed: a.txt`"""
        mark, _ = OUTCOMES.get(self.outcome, ("?", ""))
        tail = f": {describe_result(self.result, 60)}" if self.result is not None else ""
        return f"{'  ' * self.depth}{mark} #{self.number} {describe_call(self.call, 90)} · {self.outcome}{tail}"

    def details(self) -> list[str]:
        """Everything about the call: every argument in full, then the whole result."""
        lines = [f"#{self.number} {self.outcome}", *action_lines(self.call)]
        if self.result is not None:
            if self.result.error:
                lines += ["error:", *(f"  {line}" for line in visible(self.result.error).split("\n"))]
            if self.result.result is not None:
                lines += ["result:", *(f"  {line}" for line in visible(value_text(self.result.result)).split("\n"))]
        return lines


def plan_lines(plan: Plan) -> list[str]:
    lines = [f"plan ({visible(plan.path, newlines=False)}):"]
    lines += [f"  {PLAN_MARKS.get(e.status, '[ ]')} {visible(e.content, newlines=False)}" for e in plan.entries]
    if not plan.entries:
        lines += [f"  {line}" for line in visible(plan.markdown).split("\n")]
    return lines


class View:
    """What both views share: the tool calls of the chat and the turn's clock."""

    def __init__(self) -> None:
        self.tools: list[ToolRecord] = []
        self._by_id: dict[str, ToolRecord] = {}
        self._depth_of_call: dict[str, int] = {}
        self.started = time.monotonic()
        self.turn_tools: list[ToolRecord] = []

    def _record_call(self, chunk: ChatChunk, call: ToolCall) -> ToolRecord:
        depth = chunk.depth or 0
        record = ToolRecord(len(self.tools) + 1, call, depth)
        self.tools.append(record)
        self.turn_tools.append(record)
        if call.id:
            self._by_id[call.id] = record
        return record

    def _record_result(self, result: ToolResult) -> ToolRecord | None:
        record = self._by_id.get(result.id)
        if record is None:  # a result whose call we never saw: show it anyway
            record = ToolRecord(len(self.tools) + 1, ToolCall(id=result.id, name=result.name))
            self.tools.append(record)
        record.result = result
        return record

    def begin_turn(self) -> None:
        self.started = time.monotonic()
        self.turn_tools = []

    def _end_calls(self) -> list[ToolRecord]:
        """Marks calls left without a result as cancelled; returns them."""
        open_calls = [r for r in self.turn_tools if r.result is None]
        for r in self.turn_tools:
            r.ended = True
        return open_calls

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def footer(self, usage: Usage | None, stop_reason: str = "end_turn") -> str:
        calls = f" · {len(self.turn_tools)} tool call{'s' if len(self.turn_tools) != 1 else ''}" if self.turn_tools else ""
        stopped = f" · stopped: {visible(stop_reason, newlines=False)}" if stop_reason != "end_turn" else ""
        return f"[{describe_usage(usage)} · {self.elapsed():.1f}s{calls}{stopped}]"

    # the interface the chat drives
    def chunk(self, chunk: ChatChunk) -> None: ...
    def end_turn(self, usage: Usage | None, stop_reason: str = "end_turn") -> None: ...
    def cancelled(self) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def line(self, text: str, style: str = "") -> None: ...
    def markdown(self, text: str) -> None: ...
    def clear(self) -> None: ...

    def note(self, text: str) -> None:
        self.line(text, "bright_black")

    def error(self, text: str) -> None:
        self.line(text, "red")


class PlainView(View):
    """Plain text, no escape codes: a pipe, TERM=dumb, NO_COLOR, --no-color."""

    def __init__(self, text_out: TextIO, side_out: TextIO | None = None) -> None:
        super().__init__()
        self.text_out = text_out
        self.side_out = side_out or text_out
        self._mid_line: dict[int, bool] = {}
        self._in_thought = False

    def _write(self, out: TextIO, text: str) -> None:
        out.write(text)
        out.flush()
        if text:
            self._mid_line[id(out)] = not text.endswith("\n")

    def _newline(self) -> None:
        for stream in {id(s): s for s in (self.text_out, self.side_out)}.values():
            if self._mid_line.get(id(stream)):
                self._write(stream, "\n")

    def chunk(self, chunk: ChatChunk) -> None:
        indent = "  " * (chunk.depth or 0)
        if chunk.kind == "text" and chunk.text:
            if self._in_thought:
                self._in_thought = False
                self._newline()
            self._write(self.text_out, visible(chunk.text))
        elif chunk.kind == "thought" and chunk.text:
            if not self._in_thought:
                self._newline()
                self._in_thought = True
            self._write(self.side_out, visible(chunk.text))
        elif chunk.kind == "toolCall" and chunk.tool_call is not None:
            record = self._record_call(chunk, chunk.tool_call)
            self.line(f"{indent}⚙ #{record.number} {describe_call(chunk.tool_call)}")
        elif chunk.kind == "toolResult" and chunk.tool_result is not None:
            record = self._record_result(chunk.tool_result)
            if record is not None:
                self.line(record.summary())
        elif chunk.kind == "plan" and chunk.plan is not None:
            for text in plan_lines(chunk.plan):
                self.line(indent + text)
        elif chunk.kind == "compaction":
            self.note("(the conversation was compacted to fit the context window)")
        elif chunk.text:  # a kind this view does not know (a retry notice): its text as a note
            self.note(f"{visible(chunk.text, newlines=False)}…")

    def end_turn(self, usage: Usage | None, stop_reason: str = "end_turn") -> None:
        for record in self._end_calls():
            self.line(record.summary())
        self._newline()
        self.line(self.footer(usage, stop_reason))

    def cancelled(self) -> None:
        for record in self._end_calls():
            self.line(record.summary())
        self.line("⏹ turn cancelled")

    def line(self, text: str, style: str = "") -> None:
        self._in_thought = False
        self._newline()
        self._write(self.side_out, text + "\n")

    def markdown(self, text: str) -> None:
        self.line(text)

    def clear(self) -> None:
        pass


class _Live:
    """The live area of a turn: the current block of the answer, then the status line."""

    def __init__(self, view: RichView) -> None:
        self.view = view

    def __rich__(self) -> RenderableType:
        v = self.view
        parts: list[RenderableType] = []
        if v.block:
            parts.append(v.block_renderable())
        if v.working:
            tool = f" · {v.tool_in_use}" if v.tool_in_use else ""
            parts.append(Spinner("dots", Text(f"working {v.elapsed():.1f}s{tool} · Ctrl-C cancels", style="bright_black")))
        return Group(*parts)


class RichView(View):
    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console
        self.block = ""
        self.block_kind = "text"
        self.block_depth = 0
        self.working = False
        self.tool_in_use = ""
        self._live: Live | None = None

    def block_renderable(self, text: str | None = None) -> RenderableType:
        text = self.block if text is None else text
        body: RenderableType
        if self.block_kind == "thought":
            body = Text(text, style="italic bright_black")
        else:
            body = Markdown(text, code_theme="monokai")
        return Padding(body, (0, 0, 0, 2 * self.block_depth)) if self.block_depth else body

    def _print(self, renderable: RenderableType) -> None:
        self.console.print(renderable)

    def _commit(self) -> None:
        """The current block is final: print it above the live area."""
        if self.block.strip():
            renderable = self.block_renderable()
            self.block = ""
            self._print(renderable)
        self.block = ""
        self._refresh()

    def _spill(self) -> None:
        """A block taller than the screen cannot be redrawn in place: print its finished
        paragraphs (up to a blank line outside a code block) and keep the rest live."""
        if self.block.count("\n") < max(self.console.height - 6, 4):
            return
        cut = self.block.rfind("\n\n")
        while cut > 0 and self.block[:cut].count("```") % 2:
            cut = self.block.rfind("\n\n", 0, cut)
        if cut > 0:
            done, self.block = self.block[:cut], self.block[cut + 2 :]
            self._print(self.block_renderable(done))

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.refresh()

    def begin_turn(self) -> None:
        super().begin_turn()
        self.working = True
        self.tool_in_use = ""
        self.resume()

    def resume(self) -> None:
        if self._live is None:
            self._live = Live(
                _Live(self),
                console=self.console,
                refresh_per_second=8,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
                vertical_overflow="visible",
            )
            self._live.start()

    def pause(self) -> None:
        """Stops the live area (a question is asked); the block so far is printed."""
        self._commit()
        if self._live is not None:
            self._live.stop()
            self._live = None

    def chunk(self, chunk: ChatChunk) -> None:
        depth = chunk.depth or 0
        if chunk.kind in ("text", "thought") and chunk.text:
            if chunk.kind != self.block_kind or depth != self.block_depth:
                self._commit()
                self.block_kind, self.block_depth = chunk.kind, depth
            self.block += visible(chunk.text)
            self._spill()
            self._refresh()
        elif chunk.kind == "toolCall" and chunk.tool_call is not None:
            self._commit()
            record = self._record_call(chunk, chunk.tool_call)
            self.tool_in_use = f"#{record.number} {visible(chunk.tool_call.name, newlines=False)}"
            self._refresh()
        elif chunk.kind == "toolResult" and chunk.tool_result is not None:
            self._commit()
            record = self._record_result(chunk.tool_result)
            if record is not None:
                self._tool_line(record)
            self.tool_in_use = ""
            self._refresh()
        elif chunk.kind == "plan" and chunk.plan is not None:
            self._commit()
            pad = "  " * depth
            for text in plan_lines(chunk.plan):
                style = "green" if text.lstrip().startswith("[x]") else "yellow" if text.lstrip().startswith("[~]") else ""
                self._print(Text(pad + text, style=style or "bold" if text.startswith("plan") else style))
        elif chunk.kind == "compaction":
            self._commit()
            self.note("(the conversation was compacted to fit the context window)")
        elif chunk.text:  # a kind this view does not know (a retry notice): its text as a note
            self.note(f"{visible(chunk.text, newlines=False)}…")

    def _tool_line(self, record: ToolRecord) -> None:
        _, style = OUTCOMES.get(record.outcome, ("?", ""))
        self._print(Text(record.summary(), style=style))

    def _stop(self) -> None:
        self._commit()
        self.working = False
        if self._live is not None:
            self._live.stop()
            self._live = None

    def end_turn(self, usage: Usage | None, stop_reason: str = "end_turn") -> None:
        self._stop()
        for record in self._end_calls():
            self._tool_line(record)
        self.console.print(Text(self.footer(usage, stop_reason), style="bright_black"))

    def cancelled(self) -> None:
        self._stop()
        for record in self._end_calls():
            self._tool_line(record)
        self.console.print(Text("⏹ turn cancelled", style="yellow"))

    def line(self, text: str, style: str = "") -> None:
        self._commit()
        self._print(Text(text, style=style))

    def markdown(self, text: str) -> None:
        self._commit()
        self._print(Markdown(text, code_theme="monokai"))

    def clear(self) -> None:
        self.console.clear()


def make_view(out: TextIO, *, plain: bool, side_out: TextIO | None = None) -> View:
    if plain:
        return PlainView(out, side_out)
    console: Any = Console(file=out, highlight=False, soft_wrap=False)
    return RichView(console)
