"""The one rule for a session or conversation id, checked where an id enters.

A stored session is files named by its id (`conversations/<id>.db`,
`sessions/<id>.json`, `app/brain/<id>/`), so an id is a file name and nothing else:
an ASCII letter or digit, then letters, digits, `_` and `-`, at most 128 in all. No
`/`, `\\`, `..`, NUL, control or glob character, no leading `.`. Every id minted
passes: the SDK's conversation ids (32 hex digits, or a uuid with dashes: it checks
`[a-zA-Z0-9-]{32,}`), ACP and MCP session ids (`uuid4().hex`), and the ACP ids
agy-lsp 0.1 kept in `acp/sessions.json` (also `uuid4().hex`).

`SessionId` is the wire type (msgspec refuses a bad id at decode time: InvalidParams
naming the field); `parse_session_id` does the same for wire types that are not ours
(ACP's pydantic models). A bad id is never echoed whole: its message names the field
and the rule, not the value.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec

from agy_lsp.protocol.errors import AgyError, invalid_params

MAX_LENGTH = 128
# `(?!\n)$`: Python's `$` also matches before a final newline; this does not.
PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}(?!\n)$"
_RE = re.compile(PATTERN)
RULE = f"1 to {MAX_LENGTH} characters: an ASCII letter or digit, then letters, digits, '_' or '-'"

SessionId = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=MAX_LENGTH, pattern=PATTERN, description="A session or conversation id: " + RULE + "."),
]


def is_session_id(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_LENGTH and _RE.search(value) is not None


def parse_session_id(value: Any, field: str) -> str:
    """`value` when it is a valid id, else InvalidParams naming `field` (never the
    whole value: it may be 5000 characters or a path)."""
    if not is_session_id(value):
        raise bad_id(value, field)
    return value


def bad_id(value: Any, field: str) -> AgyError:
    length = len(value) if isinstance(value, str) else None
    return invalid_params(f"invalid {field}: a session id is {RULE}", field=field, rule=PATTERN, length=length)
