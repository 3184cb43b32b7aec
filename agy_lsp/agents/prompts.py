"""Wire prompts (a string, or text / image / document parts) -> SDK prompt content."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from agy_lsp.agents.errors import invalid_params
from agy_lsp.protocol.types import ContentPart, Prompt


def to_sdk(prompt: Prompt) -> Any:
    if isinstance(prompt, str):
        if not prompt.strip():
            raise invalid_params("prompt is empty", field="prompt")
        return prompt
    if not prompt:
        raise invalid_params("prompt has no parts", field="prompt")
    return [_part(part) for part in prompt]


def _part(part: ContentPart) -> Any:
    from google.antigravity import types as sdk

    if part.type == "text":
        if not part.text:
            raise invalid_params("a text part needs `text`", field="prompt")
        return part.text
    if not part.data or not part.mime_type:
        raise invalid_params(f"an {part.type} part needs `data` (base64) and `mimeType`", field="prompt")
    try:
        raw = base64.b64decode(part.data, validate=True)
    except (binascii.Error, ValueError) as e:
        raise invalid_params("prompt part data is not valid base64", field="prompt") from e
    return sdk.from_bytes(raw, mime_type=part.mime_type)


def first_text(prompt: Prompt | None) -> str:
    """The prompt's text, for a session title."""
    if isinstance(prompt, str):
        return prompt
    return next((p.text for p in prompt or [] if p.text), "")
