"""A real MCP server for the tests, on the official `mcp` package (a dependency of
the SDK): one tool, `shout(text)`, which upper-cases its text and appends it to
the file named by `$MCP_LOG`, so a test can tell whether the tool really ran.

    python tests/mcp_server.py          # stdio
    python tests/mcp_server.py --http   # Streamable HTTP on 127.0.0.1; prints its URL.
                                        # Requests need `X-Token: $MCP_TOKEN` (else 401).
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

from mcp.server.mcpserver import MCPServer

app = MCPServer("echo")


@app.tool()
def shout(text: str) -> str:
    """Upper-case the text."""
    log = os.environ.get("MCP_LOG")
    if log:
        with open(log, "a") as f:
            f.write(text + "\n")
    return text.upper()


def _with_token(inner: Any, token: str) -> Any:
    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and dict(scope["headers"]).get(b"x-token", b"").decode() != token:
            await send({"type": "http.response.start", "status": 401, "headers": [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        await inner(scope, receive, send)

    return asgi


def serve_http() -> None:
    import anyio
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    asgi = _with_token(app.streamable_http_app(host="127.0.0.1"), os.environ.get("MCP_TOKEN", ""))
    server = uvicorn.Server(uvicorn.Config(asgi, log_level="warning", lifespan="on"))
    print(f"http://127.0.0.1:{port}/mcp", flush=True)
    anyio.run(server.serve, [sock])


if __name__ == "__main__":
    if "--http" in sys.argv:
        serve_http()
    else:
        app.run()
