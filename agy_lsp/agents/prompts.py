"""Wire prompts (a string, or text / image / document parts): checked before a turn."""

from __future__ import annotations

import base64
import binascii

from agy_lsp.protocol.errors import invalid_params
from agy_lsp.protocol.types import ContentPart, Prompt


def check(prompt: Prompt) -> None:
    if isinstance(prompt, str):
        if not prompt.strip():
            raise invalid_params("prompt is empty", field="prompt")
        return
    if not prompt:
        raise invalid_params("prompt has no parts", field="prompt")
    for part in prompt:
        if part.type == "text":
            if not part.text:
                raise invalid_params("a text part needs `text`", field="prompt")
        elif part.type == "command":
            if part.text not in COMMANDS:
                raise invalid_params(f"unknown command {part.text!r}; known: {', '.join(COMMANDS)}", field="prompt")
        elif not part.data or not part.mime_type:
            raise invalid_params(f"an {part.type} part needs `data` (base64) and `mimeType`", field="prompt")
        else:
            try:
                base64.b64decode(part.data, validate=True)
            except (binascii.Error, ValueError) as e:
                raise invalid_params("prompt part data is not valid base64", field="prompt") from e


COMMANDS = ("plan",)  # the SDK's slash commands


def with_commands(prompt: Prompt) -> Prompt:
    """A text prompt that starts with a known `/command` becomes the command part and
    the rest of the text (`/plan build a parser`)."""
    text = prompt if isinstance(prompt, str) else None
    if text is None or not text.startswith("/"):
        return prompt
    name, _, rest = text[1:].partition(" ")
    if name not in COMMANDS:
        return prompt
    parts = [ContentPart(type="command", text=name)]
    return [*parts, ContentPart(type="text", text=rest)] if rest.strip() else parts


def first_text(prompt: Prompt | None) -> str:
    """The prompt's text, for a session title (a command part is the command's name, not text)."""
    if isinstance(prompt, str):
        return prompt
    return next((p.text for p in prompt or [] if p.text and p.type != "command"), "")
