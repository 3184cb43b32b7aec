"""`agy-lsp --acp`: the Agent Client Protocol on stdio, through the official
`agent-client-protocol` package (framing, schema), over the shared core.

The package (0.12.1) lags its own schema (v1.19): it routes `session/resume` and
`session/close` only with `use_unstable_protocol`, and `session/delete` not at all,
so we add that route to its router ourselves (`tests/acp/test_lifecycle.py` fails
if the package moves it).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import anyio
from acp import Agent
from acp.agent.connection import AgentSideConnection
from acp.meta import AGENT_METHODS
from acp.router import MessageRouter
from acp.schema import DeleteSessionRequest
from acp.stdio import stdio_streams

from agy_lsp import parent_process
from agy_lsp.acp.acp_editor import AcpEditor, Outbox
from agy_lsp.acp.agent import AgyAcpAgent
from agy_lsp.agents.manager import AgentManager
from agy_lsp.settings import Settings

log = logging.getLogger(__name__)
_STDIO_LIMIT = 50 * 1024 * 1024  # one JSON-RPC line at most (an embedded file, an image)


def connect(agent: AgyAcpAgent, writer: Any, reader: Any, **kwargs: Any) -> AgentSideConnection:
    conn = AgentSideConnection(cast(Agent, agent), writer, reader, listening=False, use_unstable_protocol=True, **kwargs)
    router: MessageRouter = conn._conn._handler  # pyright: ignore[reportPrivateUsage, reportAssignmentType]
    router.route_request(AGENT_METHODS["session_delete"], DeleteSessionRequest, agent, "delete_session")
    return conn


async def run_acp(settings: Settings, client_process_id: int | None = None) -> int:
    """Serve one ACP client on stdin/stdout until it hangs up (or its process dies);
    0 on a clean end."""
    outbox = Outbox()
    editor = AcpEditor(outbox)
    async with AgentManager(settings, editor) as manager:
        manager.announce_fallback()
        try:
            async with anyio.create_task_group() as tg:

                async def serve() -> None:
                    # Methods we leave out (session/fork, logout, ...) answer "method not found".
                    reader, writer = await stdio_streams(limit=_STDIO_LIMIT)
                    conn = connect(AgyAcpAgent(manager, editor), writer, reader)
                    try:
                        await conn.listen()
                    finally:
                        await asyncio.shield(conn.close())
                    tg.cancel_scope.cancel()

                tg.start_soon(serve)
                if client_process_id is not None:
                    tg.start_soon(parent_process.watch, client_process_id, tg.cancel_scope.cancel)
        finally:
            await outbox.close()
    return 0
