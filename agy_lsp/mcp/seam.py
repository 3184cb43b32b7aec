"""Every private reach into the `mcp` package (2.3.0), in one place.

Pinned by tests/wire/test_seams.py: an upgrade that moves one of them fails there.
Our stdio transport (agy_lsp/mcp/stdio.py) hands the lowlevel `Server` the same
context-carrying memory streams the package's own `stdio_server` does.
"""

from __future__ import annotations

from mcp.shared._context_streams import (  # pyright: ignore[reportPrivateUsage]
    ContextReceiveStream,
    ContextSendStream,
    create_context_streams,
)

__all__ = ["ContextReceiveStream", "ContextSendStream", "create_context_streams"]
