"""MCP servers an agent may use: checked before the harness starts, stored without
their secrets.

The harness owns the MCP connections. By default it shows the model one tool,
`call_mcp_tool(ServerName, ToolName, Arguments)`, plus each server's tool list in
the system prompt; the SDK reports the call as the server's own tool, and we name
it `server/tool` everywhere on our wire (protocol/mcp_names.py).
"""

from __future__ import annotations

import os
import re
import shutil

import msgspec

from agy_lsp import secrets
from agy_lsp.protocol.errors import invalid_params
from agy_lsp.protocol.types import McpServer

_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASS|AUTH|CRED", re.IGNORECASE)


def check(servers: list[McpServer]) -> None:
    """Raises InvalidParams for a server that cannot work (no command, a command
    that is not on PATH, no url, a bad or repeated name). Registers their secrets."""
    names = [s.name for s in servers]
    if len(set(names)) != len(names):
        raise invalid_params("mcpServers: server names must be unique", field="mcpServers", names=names)
    for server in servers:
        problem = _problem(server)
        if problem:
            raise invalid_params(f"mcpServers[{server.name!r}]: {problem}", field="mcpServers", server=server.name)
        _register_secrets(server)


def _problem(server: McpServer) -> str | None:
    if not _NAME.match(server.name):
        return "the name must match ^[a-zA-Z0-9_-]+$"
    if server.type == "http":
        return None if server.url else "an http MCP server needs `url`"
    if not server.command:
        return "a stdio MCP server needs `command`"
    if _resolve(server.command, server.env) is None:
        return f"command {server.command!r} not found"
    return None


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


def without_secrets(servers: list[McpServer] | None) -> list[McpServer] | None:
    """What a stored session keeps: everything but `env` and `headers`, whose
    values are typically tokens."""
    if servers is None:
        return None
    return [msgspec.structs.replace(s, env=None, headers=None) for s in servers]
