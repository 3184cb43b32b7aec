"""The scripted model's script: the replies it gives, in order (see docs/protocol.md,
"Scripted model script"). Shared by both dialects of `scripted.py`."""

from __future__ import annotations

import re
from typing import Any

import msgspec


class ToolCallSpec(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    name: str
    args: dict[str, Any] = {}
    id: str | None = None
    # The arguments as the model sends them, a JSON text used verbatim instead of `args`:
    # for arguments nested deeper than a wire lets a script through (hostile-output tests).
    args_json: str | None = None

    def arguments(self) -> dict[str, Any]:
        return msgspec.json.decode(self.args_json) if self.args_json is not None else self.args

    def arguments_json(self) -> str:
        return self.args_json if self.args_json is not None else msgspec.json.encode(self.args).decode()


class Reply(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """One model response; each request consumes the next one it is eligible for."""

    text: str = ""
    thought: str = ""
    tool_calls: list[ToolCallSpec] = []
    chunks: int = 0  # split `text` into this many deltas (0: one delta per word)
    delay_ms: int = 0  # before the first byte
    chunk_delay_ms: int = 0  # between deltas
    status: int = 200  # an HTTP error status instead of a reply
    retry_after: float | None = None  # seconds, sent as Retry-After with `status`
    error_body: str = ""
    cut_after: int | None = None  # close the connection after this many deltas
    hang: bool = False  # accept the request and never answer
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # A regular expression: this reply answers only a request whose last message
    # matches it (e.g. a subagent's prompt), so concurrent trajectories get theirs.
    match: str | None = None


class Script(msgspec.Struct, forbid_unknown_fields=True):
    """Replies in order. When they run out, `fallback` answers: "echo" repeats the
    last user message as "You said: ..."; anything else is sent as literal text."""

    replies: list[Reply] = []
    fallback: str = "echo"


_script_decoder = msgspec.json.Decoder(Script | list[Reply])


def parse_script(raw: object) -> Script:
    """A script from JSON text, a list of replies, or a dict. Raises ValueError."""
    try:
        if isinstance(raw, str):  # a file's or a flag's text: either form, as in docs/protocol.md
            decoded = _script_decoder.decode(raw)
            script = decoded if isinstance(decoded, Script) else Script(replies=decoded)
        elif isinstance(raw, list):
            script = msgspec.convert({"replies": raw}, Script)
        else:
            script = msgspec.convert(raw, Script)
        for reply in script.replies:
            if reply.match is not None:
                re.compile(reply.match)
        return script
    except re.error as e:
        raise ValueError(f"invalid script: bad `match` regular expression: {e}") from e
    except msgspec.ValidationError as e:
        raise ValueError(f"invalid script: {e}") from e
    except msgspec.DecodeError as e:
        raise ValueError(f"invalid script JSON: {e}") from e
