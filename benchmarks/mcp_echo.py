"""The bare MCP baseline: the `mcp` package's lowlevel `Server` with no tools, on the
package's own stdio transport, answering `initialize`."""

from __future__ import annotations

import anyio
from mcp.server.lowlevel.server import Server
from mcp.server.stdio import stdio_server


async def main() -> None:
    server: Server[object] = Server("bench-echo", version="1")
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
