"""ACP input -> core input: prompts, `_meta` overrides, and AgyError -> JSON-RPC errors."""

from __future__ import annotations

from typing import Any

import msgspec
from acp import RequestError
from acp.schema import (
    AudioContentBlock,
    BlobResourceContents,
    EmbeddedResourceContentBlock,
    ImageContentBlock,
    ResourceContentBlock,
    TextContentBlock,
    TextResourceContents,
)

from agy_lsp.agents.errors import AgyError
from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.protocol.types import AnyBackend, ContentPart

Block = TextContentBlock | ImageContentBlock | AudioContentBlock | ResourceContentBlock | EmbeddedResourceContentBlock


def invalid(message: str, **data: Any) -> RequestError:
    return RequestError(int(ErrorCode.INVALID_PARAMS), message, data or None)


def to_request_error(err: AgyError) -> RequestError:
    """Core errors keep their stable code and their cause in `data`; a missing
    agent is the spec's invalid params."""
    code = ErrorCode.INVALID_PARAMS if err.code == ErrorCode.AGENT_NOT_FOUND else err.code
    return RequestError(int(code), err.message, err.data)


def prompt(blocks: list[Block]) -> list[ContentPart]:
    """ACP content blocks -> the core's prompt parts. Resources become text with
    their URI, so the model knows where the context came from."""
    parts: list[ContentPart] = []
    for block in blocks:
        if isinstance(block, TextContentBlock):
            if block.text:
                parts.append(ContentPart(type="text", text=block.text))
        elif isinstance(block, ImageContentBlock):
            parts.append(ContentPart(type="image", data=block.data, mime_type=block.mime_type))
        elif isinstance(block, ResourceContentBlock):
            parts.append(ContentPart(type="text", text=f"[{block.name}]({block.uri})"))
        elif isinstance(block, EmbeddedResourceContentBlock):
            res = block.resource
            if isinstance(res, TextResourceContents):
                parts.append(ContentPart(type="text", text=f'<context uri="{res.uri}">\n{res.text}\n</context>'))
            elif isinstance(res, BlobResourceContents):  # pyright: ignore[reportUnnecessaryIsInstance]
                parts.append(ContentPart(type="document", data=res.blob, mime_type=res.mime_type or "application/octet-stream"))
        else:
            raise invalid("audio prompts are not supported (promptCapabilities.audio is false)", field="prompt")
    if not parts:
        raise invalid("the prompt has no content", field="prompt")
    return parts


def meta_backend(meta: Any) -> AnyBackend | None:
    """`_meta.agy.backend` of `session/new` / `session/load`: a per-session backend."""
    if meta is None:
        return None
    if not isinstance(meta, dict) or not isinstance(meta.get("backend", {}), dict):  # pyright: ignore
        raise invalid("_meta.agy must be an object with an optional `backend` object", field="_meta.agy")
    raw = meta.get("backend")  # pyright: ignore
    if raw is None:
        return None
    try:
        return msgspec.convert(raw, AnyBackend)  # pyright: ignore[reportArgumentType]
    except msgspec.ValidationError as e:
        raise invalid(f"_meta.agy.backend: {e}", field="_meta.agy.backend") from e


def meta_models(meta: Any) -> list[str]:
    models: Any = meta.get("models") if isinstance(meta, dict) else None  # pyright: ignore
    return [str(m) for m in models] if isinstance(models, list) else []  # pyright: ignore
