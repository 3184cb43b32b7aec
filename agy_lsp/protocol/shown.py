"""What a confirmation shows: the whole tool call, every byte of it, nothing cut.

Every front-end asks the person with this text (or a diff of the same bytes), so a
dangerous tail (`…; touch /tmp/x`) can never hide behind a cut. Control characters,
bidirectional overrides and invisible format characters are written as escapes
(`\\x1b`, `\\r`, `\\u202e`): in a terminal they could otherwise rewrite or hide what
was shown, and elsewhere they hide in plain sight. Summaries (a `⚙` line) may be
short; the question may not.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from agy_lsp.protocol.calls import ToolCall

_NAMED = {"\r": "\\r", "\x1b": "\\x1b", "\0": "\\x00"}
_HIDDEN = ("Cc", "Cf", "Cs", "Zl", "Zp")  # controls, format (bidi, zero-width), surrogates, separators


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: str, *, newlines: bool = True) -> str:
    """`text` with every character that could hide or rewrite text escaped. Newlines
    stay line breaks when `newlines` (else `\\n`); tabs stay."""
    if text.isprintable():
        return text
    kept = "\n\t" if newlines else "\t"
    return "".join(ch if ch in kept or unicodedata.category(ch) not in _HIDDEN else _escape(ch) for ch in text)


def value_text(value: Any) -> str:
    """An argument's value as text: a string as it is, anything else as (indented) JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def action_lines(call: ToolCall, *, skip: tuple[str, ...] = ()) -> list[str]:
    """The whole call, one argument after another, each line of a multi-line value
    indented under its name. `skip`: arguments shown in full elsewhere (a diff),
    named with a note instead."""
    lines = [visible(call.name or "?", newlines=False)]
    for key, value in call.args.items():
        name = visible(str(key), newlines=False)
        if key in skip:
            lines.append(f"  {name}: (shown in full in the diff)")
            continue
        text = visible(value_text(value))
        parts = text.split("\n")
        if len(parts) == 1:
            lines.append(f"  {name}: {text}" if text else f'  {name}: ""')
        else:
            lines.append(f"  {name}: ({len(parts)} lines)")
            lines.extend(f"    {part}" for part in parts)
    if not call.args:
        lines.append("  (no arguments)")
    return lines


def action_text(call: ToolCall, *, skip: tuple[str, ...] = ()) -> str:
    return "\n".join(action_lines(call, skip=skip))


def fence(text: str) -> str:
    """`text` as a Markdown code block whose fence no line of it can close."""
    longest, run = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}\n{text}\n{ticks}"
