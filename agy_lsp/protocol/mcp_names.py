"""How MCP tools are named on our wire: `server/tool` (the SDK's policy syntax),
in chunks, confirmations, remembered permissions, policy rules and history."""

from __future__ import annotations


def qualified_name(name: str, server_name: str | None) -> str:
    """`server/tool` for an MCP tool, else the bare name."""
    return f"{server_name}/{name}" if server_name else name
