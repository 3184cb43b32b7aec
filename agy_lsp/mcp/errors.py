"""Failures on the MCP wire.

- Arguments that do not fit a tool's input schema (or that the core finds invalid:
  an empty prompt, a relative cwd) are a protocol error, -32602 INVALID_PARAMS, with
  the cause in `data` (`data.code` is "INVALID_PARAMS").
- Any other failure of a tool is its result, with `isError` and the agy error in
  the structured content: `{error: {code, message, data}, ...}` where `code` is the
  stable name from docs/protocol.md (TIMEOUT, BACKEND_ERROR, AGENT_BUSY, ...).
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
from mcp import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult, TextContent

from agy_lsp.protocol.errors import AgyError, ErrorCode


def invalid(message: str, **data: Any) -> MCPError:
    return MCPError(code=INVALID_PARAMS, message=message, data={"code": ErrorCode.INVALID_PARAMS.name, **data})


_PATH = re.compile(r"at `\$\.([^`]+)`")  # where msgspec says the bad value is


def from_validation(tool: str, err: msgspec.ValidationError) -> MCPError:
    where = _PATH.search(str(err))
    field = {"field": where.group(1)} if where else {}  # e.g. sessionId
    return invalid(f"invalid arguments for {tool}: {err}", tool=tool, cause=str(err), **field)


def protocol_error(err: AgyError) -> MCPError:
    return MCPError(code=int(err.code), message=err.message, data=err.data)


def result(structured: dict[str, Any], *, is_error: bool = False) -> CallToolResult:
    """A tool result: the structured content, and the same as JSON text for hosts
    that read only `content` (the spec's advice)."""
    text = json.dumps(structured, ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured, is_error=is_error)


def tool_error(err: AgyError, **extra: Any) -> CallToolResult:
    """A failed tool call: `isError`, the stable code and the cause."""
    error = {"code": err.code.name, "message": err.message, "data": msgspec.to_builtins(err.data, enc_hook=str)}
    return result({**{k: v for k, v in extra.items() if v is not None}, "error": error}, is_error=True)


def internal(err: Exception) -> CallToolResult:
    return tool_error(AgyError(ErrorCode.INTERNAL_ERROR, f"{type(err).__name__}: {err}", {"type": type(err).__name__}))
