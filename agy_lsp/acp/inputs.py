"""ACP input -> core input: prompts, `_meta` overrides, and AgyError -> JSON-RPC errors."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from acp import RequestError
from acp.schema import (
    AudioContentBlock,
    BlobResourceContents,
    EmbeddedResourceContentBlock,
    HttpMcpServer,
    ImageContentBlock,
    McpServerStdio,
    ResourceContentBlock,
    TextContentBlock,
    TextResourceContents,
)

from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.types import AnyBackend, ContentPart, McpServer

log = logging.getLogger(__name__)
_NOT_A_NAME = re.compile(r"[^A-Za-z0-9_-]+")

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


def mcp_servers(servers: list[Any] | None) -> list[McpServer]:
    """ACP `mcpServers` -> the core's. stdio and http are supported; `sse` (and the
    unstable `acp` transport) are skipped with a warning, since we advertise neither.
    ACP names are human-readable; the SDK wants ^[a-zA-Z0-9_-]+$, so other
    characters become `_` and a repeated name gets a suffix. Tools are then
    called `<name>/<tool>`."""
    out: list[McpServer] = []
    taken: set[str] = set()
    for server in servers or []:
        if not isinstance(server, (McpServerStdio, HttpMcpServer)):
            log.warning("skipping MCP server %r: transport %r is not supported", getattr(server, "name", "?"), getattr(server, "type", "?"))
            continue
        name = base = _NOT_A_NAME.sub("_", server.name).strip("_") or "mcp"
        n = 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        if isinstance(server, HttpMcpServer):
            out.append(McpServer(name=name, type="http", url=server.url, headers={h.name: h.value for h in server.headers} or None))
        else:
            env = {e.name: e.value for e in server.env} or None
            out.append(McpServer(name=name, type="stdio", command=server.command, args=list(server.args), env=env))
    return out
