"""Wire MCP servers -> the SDK's `McpStdioServer` / `McpStreamableHttpServer`."""

from __future__ import annotations

from typing import Any

from agy_lsp.agents.errors import invalid_params
from agy_lsp.protocol.types import McpServer


def sdk_servers(servers: list[McpServer]) -> list[Any] | None:
    """None when there are none (the SDK then adds no MCP machinery at all)."""
    if not servers:
        return None
    from google.antigravity import types as sdk

    out: list[Any] = []
    for server in servers:
        common: dict[str, Any] = {
            "name": server.name,
            "timeout_seconds": server.timeout_secs,
            "enabled_tools": server.enabled_tools,
            "disabled_tools": server.disabled_tools,
        }
        try:
            if server.type == "http":
                if not server.url:
                    raise ValueError("an http MCP server needs `url`")
                out.append(sdk.McpStreamableHttpServer(url=server.url, headers=server.headers, **common))
            else:
                if not server.command:
                    raise ValueError("a stdio MCP server needs `command`")
                out.append(sdk.McpStdioServer(command=server.command, args=server.args, env=server.env, **common))
        except ValueError as e:  # pydantic's ValidationError is a ValueError
            raise invalid_params(f"mcpServers[{server.name!r}]: {e}", field="mcpServers") from e
    return out
