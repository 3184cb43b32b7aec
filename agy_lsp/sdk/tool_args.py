"""Bounds on a tool call's arguments, and a depth cut for the harness's records.

The harness records the model's call (arguments included) before any hook, policy or
tool body of ours runs, and the SDK parses every message of the harness (each step,
and the whole stored history a resume gets) with protobuf's `json_format`, whose
recursion limit is 100 messages. The arguments travel as a `genai.Struct`, three
messages per JSON object level (Struct, Field, Value) and two per array level, so
arguments of objects nested 33 deep make the record unreadable (32 on resume; arrays
48): the live agent dies, and so does every later resume of the conversation
(docs/reliability.md, "Poisoned conversations"). Two defences:

- `violation`: arguments deeper than `MAX_DEPTH` or larger than `MAX_BYTES` are
  refused, for any tool (sdk/callbacks.py: the pre-tool hook, an editor tool's body);
  the model gets the reason as the tool's error, and the call is not run.
- `cut_deep`: the text of a harness message whose parse failed, with each `genai.Value`
  that opens deeper than `CUT_LEVEL` replaced by the string `CUT`, so the rest of the
  record (the turns before, the call's name and its shallow arguments) stays
  readable. `violation` refuses a call whose arguments hold `CUT`.

Pure Python, no SDK import; never raises on any input.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 20  # JSON nesting of a call's arguments (`{}` is 1); the SDK reads 31
MAX_BYTES = 4 * 1024 * 1024  # the arguments' compact JSON, in bytes
# The JSON nesting of a harness message beyond which a Value is cut. What is left of a
# cut Value's Struct adds at most 4 levels, and each level is at most one protobuf
# message: the parse stays under its 100.
CUT_LEVEL = 90
CUT = "<agy-lsp: nested too deep, cut>"
_VALUE_KEYS = ('"structValue"', '"listValue"')

_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def depth(value: Any, stop: int = MAX_DEPTH + 1) -> int:
    """The nesting of a JSON value (a scalar is 0, `{}` is 1), counted without
    recursion and no further than `stop`."""
    deepest = 0
    level: list[tuple[Any, int]] = [(value, 1)]
    while level:
        item, at = level.pop()
        if isinstance(item, dict):
            children: Any = item.values()  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        deepest = max(deepest, at)
        if deepest >= stop:
            return deepest
        level.extend((child, at + 1) for child in children)  # pyright: ignore[reportUnknownVariableType]
    return deepest


def _holds_cut(value: Any) -> bool:
    """Whether `cut_deep` cut part of these arguments (they were too deep then)."""
    level: list[Any] = [value]
    while level:
        item = level.pop()
        if isinstance(item, str) and item == CUT:
            return True
        if isinstance(item, dict):
            level.extend(item.values())  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        elif isinstance(item, (list, tuple)):
            level.extend(item)  # pyright: ignore[reportUnknownArgumentType]
    return False


def size(value: Any, stop: int = MAX_BYTES + 1) -> int:
    """The compact JSON size of a value in bytes (`stop` when it cannot be encoded or
    is too deep to encode: it is refused either way)."""
    try:
        return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8", "surrogatepass"))
    except (ValueError, TypeError, RecursionError):
        return stop


def violation(args: Any) -> str | None:
    """Why these arguments are refused, for the model; None when they are fine."""
    if depth(args) > MAX_DEPTH or _holds_cut(args):
        return f"arguments nested too deep (max {MAX_DEPTH}); the call was not run"
    if (n := size(args)) > MAX_BYTES:
        return f"arguments too large ({n} bytes, max {MAX_BYTES}); the call was not run"
    return None


def cut_deep(text: str | bytes, limit: int = CUT_LEVEL) -> str:
    """`text`, a harness message (protobuf JSON), with each `"structValue": {...}` or
    `"listValue": {...}` that opens deeper than `limit` replaced by `"stringValue":
    CUT`. Tokens are strings and brackets; all else is copied. Text that does not
    balance comes back as it was (its parse fails as before)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    out: list[str] = []
    level, copied, cut_at = 0, 0, -1
    key, key_start, prev_end = "", 0, 0  # the last token when it is a string, and where it began
    for match in _TOKEN.finditer(text):
        token, start = match.group(), match.start()
        if token[0] == '"':
            key, key_start, prev_end = token, start, match.end()
            continue
        if token in "[{":
            level += 1
            if cut_at < 0 and level > limit and token == "{" and key in _VALUE_KEYS and text[prev_end:start].strip() == ":":
                out.append(text[copied:key_start])
                out.append('"stringValue":' + json.dumps(CUT))
                cut_at = level
        else:
            if cut_at == level:
                copied, cut_at = match.end(), -1
            level -= 1
        key, prev_end = "", match.end()
    if cut_at >= 0 or level != 0:
        return text
    out.append(text[copied:])
    return "".join(out)
