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
from agy_lsp.protocol.types import ContentPart, CreateAgentParams, McpServer
from agy_lsp.protocol.wire import Wire

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


class AgyMeta(Wire):
    """`_meta.agy` of `session/new`, `session/load` and `session/resume`: what the SDK
    can do that ACP has no words for, as the fields of `agy/createAgent`
    (docs/protocol.md), plus the ACP session's own `models` and `mode`."""

    spec: CreateAgentParams
    models: list[str] = []  # extra entries for the `model` option
    mode: str | None = None  # the session's first mode


# What an ACP session decides itself (from cwd, mcpServers, modes and the client's capabilities).
_OWN = {"workspaces", "policies", "tools", "conversationId", "mcpServers", "responseSchema"}


def meta(raw: Any) -> AgyMeta:
    if raw is None:
        return AgyMeta(spec=CreateAgentParams())
    if not isinstance(raw, dict):
        raise invalid("_meta.agy must be an object", field="_meta.agy")
    fields: dict[str, Any] = dict(raw)  # pyright: ignore[reportUnknownArgumentType]
    if taken := sorted(_OWN & set(fields)):
        raise invalid(f"_meta.agy.{taken[0]} is set by the ACP session itself", field=f"_meta.agy.{taken[0]}")
    models, mode = fields.pop("models", []), fields.pop("mode", None)
    try:
        return AgyMeta(
            spec=msgspec.convert(fields, CreateAgentParams),
            models=msgspec.convert(models, list[str]),
            mode=msgspec.convert(mode, str | None),
        )
    except msgspec.ValidationError as e:
        field = str(e).rpartition("at `$")[2].rstrip("`")
        raise invalid(f"_meta.agy: {e}", field=f"_meta.agy{field}") from e


_MEDIA = {"image": "image", "audio": "audio", "video": "video"}


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
                mime = res.mime_type or "application/octet-stream"
                kind: Any = _MEDIA.get(mime.partition("/")[0], "document")
                parts.append(ContentPart(type=kind, data=res.blob, mime_type=mime))
        else:
            parts.append(ContentPart(type="audio", data=block.data, mime_type=block.mime_type))
    if not parts:
        raise invalid("the prompt has no content", field="prompt")
    return parts


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
