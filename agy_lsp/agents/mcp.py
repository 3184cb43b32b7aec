"""MCP servers: wire `McpServer` -> the SDK's `McpStdioServer` / `McpStreamableHttpServer`,
and how their tool calls are named.

The harness owns the MCP connections. By default it shows the model one tool,
`call_mcp_tool(ServerName, ToolName, Arguments)`, plus each server's tool list in
the system prompt; tools loaded eagerly appear as `mcp_<server>_<tool>`. Either
way the SDK reports the call as `ToolCall(name=<tool>, server_name=<server>)`,
and its policies match MCP tools as `server/tool` or `server/*` (never by the
bare tool name). We use that same `server/tool` name everywhere on our wire:
tool call chunks, confirmations, remembered permissions and policy rules.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import Any

import msgspec

from agy_lsp.agents import secrets
from agy_lsp.agents.errors import invalid_params
from agy_lsp.protocol.types import McpServer

# The arguments of the harness's generic MCP tool.
_LAZY_KEYS = frozenset({"ServerName", "ToolName", "Arguments"})
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASS|AUTH|CRED", re.IGNORECASE)


def sdk_servers(servers: list[McpServer] | None) -> list[Any] | None:
    """None when there are none (the SDK then adds no MCP machinery at all).
    Raises InvalidParams for a server that cannot work (no command, a command
    that is not on PATH, a bad or repeated name)."""
    if not servers:
        return None
    from google.antigravity import types as sdk

    names = [s.name for s in servers]
    if len(set(names)) != len(names):
        raise invalid_params("mcpServers: server names must be unique", field="mcpServers", names=names)
    out: list[Any] = []
    for server in servers:
        common: dict[str, Any] = {
            "name": server.name,
            "timeout_seconds": server.timeout_secs,
            "enabled_tools": server.enabled_tools,
            "disabled_tools": server.disabled_tools,
        }
        _register_secrets(server)
        try:
            if server.type == "http":
                if not server.url:
                    raise ValueError("an http MCP server needs `url`")
                out.append(sdk.McpStreamableHttpServer(url=server.url, headers=server.headers, **common))
            else:
                if not server.command:
                    raise ValueError("a stdio MCP server needs `command`")
                if _resolve(server.command, server.env) is None:
                    raise ValueError(f"command {server.command!r} not found")
                out.append(sdk.McpStdioServer(command=server.command, args=server.args, env=server.env, **common))
        except ValueError as e:  # pydantic's ValidationError is a ValueError
            raise invalid_params(f"mcpServers[{server.name!r}]: {e}", field="mcpServers", server=server.name) from e
    return out


def _register_secrets(server: McpServer) -> None:
    """Header values, and env values whose names look secret, are scrubbed from
    everything we send or log, like backend keys."""
    for value in (server.headers or {}).values():
        secrets.register(value)
    for key, value in (server.env or {}).items():
        if _SECRET_NAME.search(key):
            secrets.register(value)


def _resolve(command: str, env: dict[str, str] | None) -> str | None:
    """The harness starts the command as given (a path, or a name looked up on PATH)."""
    path = (env or {}).get("PATH") or os.environ.get("PATH")
    if os.sep in command:
        return command if os.access(command, os.X_OK) else None
    return shutil.which(command, path=path)


def stored(servers: list[McpServer] | None) -> list[McpServer]:
    """What a stored session keeps: everything but `env` and `headers`, whose
    values are typically tokens."""
    return [msgspec.structs.replace(s, env=None, headers=None) for s in servers or []]


def qualified_name(name: str, server_name: str | None) -> str:
    """`server/tool` for an MCP tool (the SDK's policy syntax), else the bare name."""
    return f"{server_name}/{name}" if server_name else name


def call_args(args: dict[str, Any], server_name: str | None) -> dict[str, Any]:
    """An MCP tool's own arguments. Through the lazy `call_mcp_tool` the harness
    reports the wrapper's arguments (`ServerName`, `ToolName`, `Arguments`); the
    streamed step already carries the tool's own."""
    if not server_name or not _LAZY_KEYS <= args.keys():
        return args
    inner = args["Arguments"]
    if isinstance(inner, str):
        try:
            inner = msgspec.json.decode(inner)
        except msgspec.DecodeError:
            return args
    return dict(inner) if isinstance(inner, dict) else args  # pyright: ignore[reportUnknownArgumentType]
