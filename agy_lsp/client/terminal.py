"""Terminal helpers for `agy-lsp chat` and the demo: rendering chunks, reading lines.

`Renderer` writes streamed text as it comes, thoughts dimmed, tool calls and
results on one compact line each, and usage after the turn. `LineReader` reads
lines from a file descriptor in a worker thread that can be abandoned at once
(Ctrl-C during a confirmation prompt), without losing input.
"""

from __future__ import annotations

import os
import select
import threading
from typing import Any, TextIO

import anyio
import msgspec

from agy_lsp.protocol.shown import action_lines, visible
from agy_lsp.protocol.types import ChatChunk, ConfirmToolCallParams, ToolCall, ToolResult, Usage

DIM, CYAN, GREEN, RED, YELLOW, BOLD, RESET = "\x1b[2m", "\x1b[36m", "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[0m"


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
    text = visible(" ".join(text.split()), newlines=False)  # an escape sequence cannot restyle the line
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_call(call: ToolCall, limit: int = 100) -> str:
    """`run_command(command_line="ls")`, shortened to `limit` characters: a summary
    (the `⚙` line, `--yes`), never a question; `describe_confirmation` is that."""
    args = ", ".join(f'{k}="{_short(v, 40)}"' if isinstance(v, str) else f"{k}={_short(v, 40)}" for k, v in call.args.items() if v != "")
    text = f"{visible(call.name, newlines=False)}({args})"  # a name is the model's text too
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_confirmation(params: ConfirmToolCallParams) -> list[str]:
    """The lines shown before asking: the whole call, every argument in full, with
    control characters escaped (a `\r` or an escape sequence cannot rewrite them)."""
    lines = [f"? the agent wants to run {visible(params.tool_call.name, newlines=False)}:"]
    lines += [f"  {line}" for line in action_lines(params.tool_call)[1:]]
    if params.reason:
        lines += [f"  why: {line}" for line in visible(params.reason).split("\n")]
    return lines


def describe_result(result: ToolResult, limit: int = 80) -> str:
    if result.error:
        return f"error: {_short(result.error, limit)}"
    value = result.result
    if isinstance(value, dict) and len(value) == 1:  # pyright: ignore[reportUnknownArgumentType]
        value = next(iter(value.values()))  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
    return _short(value if value is not None else "ok", limit)


def describe_usage(usage: Usage | None) -> str:
    if usage is None:
        return "usage: n/a"
    return f"tokens: {usage.prompt_tokens} in · {usage.candidates_tokens} out · {usage.total_tokens} total"


class Renderer:
    """Writes a turn to a terminal. `text_out` gets the answer; `side_out` gets
    thoughts, tool lines and usage (the same stream in interactive mode; stderr
    in one-shot mode so stdout can be piped)."""

    def __init__(self, text_out: TextIO, side_out: TextIO | None = None, *, color: bool = False) -> None:
        self.text_out = text_out
        self.side_out = side_out or text_out
        self.color = color
        self._mid_line: dict[int, bool] = {}
        self._in_thought = False

    def _paint(self, style: str, text: str) -> str:
        return f"{style}{text}{RESET}" if self.color else text

    def _write(self, out: TextIO, text: str) -> None:
        out.write(text)
        out.flush()
        if text:
            self._mid_line[id(out)] = not text.endswith("\n")

    def newline(self, out: TextIO | None = None) -> None:
        """Ends the current line of `out` (and of the other stream) if needed."""
        for stream in {id(s): s for s in (out or self.text_out, self.side_out, self.text_out)}.values():
            if self._mid_line.get(id(stream)):
                self._write(stream, "\n")

    def chunk(self, chunk: ChatChunk) -> None:
        if chunk.kind == "text" and chunk.text:
            if self._in_thought:
                self._in_thought = False
                self.newline()
            self._write(self.text_out, chunk.text)
        elif chunk.kind == "thought" and chunk.text:
            if not self._in_thought:
                self.newline()
                self._in_thought = True
            self._write(self.side_out, self._paint(DIM, chunk.text))
        elif chunk.kind == "retry" and chunk.text:
            self.note(f"{chunk.text}…")
        elif chunk.kind == "toolCall" and chunk.tool_call is not None:
            self.line(self._paint(CYAN, f"⚙ {describe_call(chunk.tool_call)}"))
        elif chunk.kind == "toolResult" and chunk.tool_result is not None:
            result = chunk.tool_result
            style = RED if result.error else DIM
            self.line(self._paint(style, f"  ↳ {describe_result(result)}"))

    def line(self, text: str) -> None:
        """A whole line on the side stream, after ending any open line."""
        self._in_thought = False
        self.newline()
        self._write(self.side_out, text + "\n")

    def note(self, text: str) -> None:
        self.line(self._paint(DIM, text))

    def error(self, text: str) -> None:
        self.line(self._paint(RED, text))

    def usage(self, usage: Usage | None) -> None:
        self.note(f"[{describe_usage(usage)}]")

    def prompt(self, text: str) -> None:
        """A question without a newline (the person types the answer after it)."""
        self.newline()
        self._write(self.side_out, self._paint(YELLOW, text))
        self._mid_line[id(self.side_out)] = False  # the person's Enter ends the line


class LineReader:
    """Reads lines from a file descriptor (a tty, a pipe) without blocking the event
    loop. A cancelled `readline()` stops its thread within 50 ms; input read by
    then stays buffered for the next call."""

    def __init__(self, fd: int = 0) -> None:
        self.fd = fd
        self._buf = bytearray()
        self._eof = False
        self._lock = threading.Lock()

    def _take_line(self) -> bytes | None:
        with self._lock:
            i = self._buf.find(b"\n")
            if i >= 0:
                line = bytes(self._buf[: i + 1])
                del self._buf[: i + 1]
                return line
            if self._eof and self._buf:
                line = bytes(self._buf)
                self._buf.clear()
                return line
        return None

    def _read_blocking(self, abort: threading.Event) -> bytes | None:
        while True:
            line = self._take_line()
            if line is not None:
                return line
            if self._eof or abort.is_set():
                return None
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    data = b""
                with self._lock:
                    if data:
                        self._buf += data
                    else:
                        self._eof = True

    @property
    def eof(self) -> bool:
        return self._eof and not self._buf

    async def readline(self) -> str | None:
        """The next line without its newline; None at end of input."""
        abort = threading.Event()
        try:
            line = await anyio.to_thread.run_sync(self._read_blocking, abort, abandon_on_cancel=True)
        finally:
            abort.set()
        return None if line is None else line.decode(errors="replace").rstrip("\r\n")
