"""Asking before a tool runs: the whole action, then yes / no / always.

The question shows every argument in full with control characters escaped
(`describe_confirmation`, protocol/shown.py): nothing of the call is cut, and no
byte of it can move the cursor or restyle what was shown. A file write is shown as a
coloured diff that holds the new content whole (every line, not three lines of
context), so the content arguments are named, not repeated. When the action is
taller than the terminal, `v` opens it in a pager ($PAGER, else `less`).
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from agy_lsp.chat.render import View
from agy_lsp.client.terminal import describe_call, describe_confirmation
from agy_lsp.protocol.shown import action_lines, visible
from agy_lsp.protocol.types import ConfirmToolCallParams, ToolCall

_WRITES = {"write_to_file": ("TargetFile", "CodeContent"), "create_file": ("TargetFile", "CodeContent"), "write_file": ("path", "content")}
_EDITS = ("replace_file_content", "edit_file")
_EDIT_KEYS = ("ReplacementChunks", "TargetContent", "ReplacementContent")
CANCEL = "\x03"  # what `ask` returns for Ctrl-C


def _diff(old: str, new: str, path: str) -> list[str]:
    a, b = old.split("\n") if old else [], new.split("\n")
    whole = len(a) + len(b) + 1  # context enough that every line shows
    return [visible(line, newlines=False) for line in difflib.unified_diff(a, b, f"a/{path}", f"b/{path}", n=whole, lineterm="")]


def write_diff(call: ToolCall, cwd: str) -> tuple[list[str], tuple[str, ...]] | None:
    """The diff a file write or edit would make, and the arguments it holds whole."""
    args = call.args
    if call.name in _WRITES:
        path_key, content_key = _WRITES[call.name]
        path, new = args.get(path_key), args.get(content_key)
        if not isinstance(path, str) or not isinstance(new, str):
            return None
        old = ""
        full = os.path.join(cwd, path)
        if os.path.isfile(full):
            try:
                with open(full, encoding="utf-8", errors="replace") as f:
                    old = f.read(2_000_000)
            except OSError:
                old = ""
        if args.get("Append"):
            new = old + new
        return _diff(old, new, path), (content_key,)
    if call.name in _EDITS:
        path = args.get("TargetFile")
        raw: Any = args.get("ReplacementChunks") or [args]
        chunks: list[Any] = raw if isinstance(raw, list) else []  # pyright: ignore[reportUnknownVariableType]
        lines: list[str] = []
        for chunk in chunks:
            if not isinstance(chunk, dict) or not isinstance(chunk.get("ReplacementContent"), str):  # pyright: ignore[reportUnknownMemberType]
                return None
            target: Any = chunk.get("TargetContent", "")  # pyright: ignore[reportUnknownMemberType]
            lines += _diff(str(target), str(chunk["ReplacementContent"]), str(path))
        return lines, _EDIT_KEYS
    return None


def confirmation_lines(params: ConfirmToolCallParams, cwd: str) -> list[str]:
    """What the person sees before the question: the whole action (a diff for writes)."""
    diff = write_diff(params.tool_call, cwd)
    if diff is None:
        return describe_confirmation(params)
    lines, skip = diff
    shown = [f"? the agent wants to run {visible(params.tool_call.name, newlines=False)}:"]
    shown += [f"  {line}" for line in action_lines(params.tool_call, skip=skip)[1:]]
    shown += [f"  {line}" for line in lines]
    if params.reason:
        shown += [f"  why: {line}" for line in visible(params.reason).split("\n")]
    return shown


def _style(line: str) -> str:
    body = line[2:]
    if body.startswith(("+++", "---")):
        return "bold"
    if body.startswith("+"):
        return "green"
    if body.startswith("-"):
        return "red"
    if body.startswith("@@"):
        return "cyan"
    return ""


def _page(text: str) -> None:
    pager = os.environ.get("PAGER") or "less"
    argv = pager.split()
    if not argv or shutil.which(argv[0]) is None:
        print(text)
        return
    subprocess.run(argv, input=text.encode(), check=False)


class Confirmer:
    """The chat's `on_confirm`: asks the person (or answers for them with --yes, or
    refuses when there is no one to ask)."""

    def __init__(
        self,
        view: View,
        ask: Callable[[str], Awaitable[str | None]],
        *,
        yes: bool,
        can_ask: bool,
        height: Callable[[], int],
        on_cancel: Callable[[], Awaitable[None]],
    ) -> None:
        self.view = view
        self.ask = ask
        self.yes = yes
        self.can_ask = can_ask
        self.height = height
        self.on_cancel = on_cancel
        self.cwd = os.getcwd()

    async def __call__(self, params: ConfirmToolCallParams) -> str:
        call = describe_call(params.tool_call)
        if self.yes:
            self.view.note(f"? {call}: allowed (--yes)")
            return "allow_once"
        if not self.can_ask:
            self.view.note(f"? {call}: denied (no terminal to ask; pass --yes to allow tool calls)")
            return "reject_once"
        self.view.pause()
        try:
            return await self._ask(params)
        finally:
            self.view.resume()

    async def _ask(self, params: ConfirmToolCallParams) -> str:
        lines = confirmation_lines(params, self.cwd)
        for line in lines:
            self.view.line(line, _style(line))
        long = len(lines) + 2 > self.height()
        name = visible(params.tool_call.name, newlines=False)
        view = " / [v]iew in a pager" if long else ""
        where = f"the whole call is above: {len(lines)} lines" if long else "the whole call is above"
        question = f"? allow {name} ({where})? [y]es / [n]o / [a]lways for {name}{view}: "
        while True:
            answer = await self.ask(question)
            if answer is None:
                return "reject_once"
            if answer == CANCEL:  # the cancel goes out first, so the turn ends cancelled, not answered
                await self.on_cancel()
                return "cancelled"
            choice = answer.strip().lower()
            if choice in ("y", "yes"):
                return "allow_once"
            if choice in ("a", "always"):
                return "allow_always"
            if choice in ("n", "no"):
                return "reject_once"
            if choice in ("v", "view"):
                await anyio.to_thread.run_sync(_page, "\n".join(lines))
