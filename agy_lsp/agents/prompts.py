"""Wire prompts (a string, or text / image / document parts): checked before a turn."""

from __future__ import annotations

import base64
import binascii

from agy_lsp.protocol.errors import invalid_params
from agy_lsp.protocol.types import Prompt


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
        elif not part.data or not part.mime_type:
            raise invalid_params(f"an {part.type} part needs `data` (base64) and `mimeType`", field="prompt")
        else:
            try:
                base64.b64decode(part.data, validate=True)
            except (binascii.Error, ValueError) as e:
                raise invalid_params("prompt part data is not valid base64", field="prompt") from e


def first_text(prompt: Prompt | None) -> str:
    """The prompt's text, for a session title."""
    if isinstance(prompt, str):
        return prompt
    return next((p.text for p in prompt or [] if p.text), "")
