"""`agy-lsp --acp`: the Agent Client Protocol on stdio, through the official
`agent-client-protocol` package (framing, schema), over the shared core.

The package (0.12.1) lags its own schema (v1.19): it routes `session/resume` and
`session/close` only with `use_unstable_protocol`, and `session/delete` not at all,
so we add that route to its router ourselves (agy_lsp/acp/seam.py, pinned by
tests/wire/test_seams.py). Its stdin reading is replaced by our gate
(agy_lsp/acp/gate.py): only well-formed JSON-RPC objects reach its dispatcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from acp import Agent
from acp.agent.connection import AgentSideConnection

from agy_lsp.acp import seam
from agy_lsp.acp.acp_editor import AcpEditor, Outbox
from agy_lsp.acp.agent import AgyAcpAgent
from agy_lsp.acp.gate import GatedTransport, gated_stdio
from agy_lsp.settings import Settings

if TYPE_CHECKING:
    from agy_lsp.sdk.port import Sdk

log = logging.getLogger(__name__)


def connect(agent: AgyAcpAgent, transport: GatedTransport, **kwargs: Any) -> AgentSideConnection:
    conn = AgentSideConnection(cast(Agent, agent), transport, listening=False, use_unstable_protocol=True, **kwargs)
    if not seam.uses_transport(conn, transport):
        raise RuntimeError("the acp package no longer reads through our gate (agy_lsp/acp/gate.py)")
    seam.route_session_delete(conn, agent)
    return conn


async def run_acp(settings: Settings, client_process_id: int | None = None, sdk: Callable[[], Sdk] | None = None) -> int:
    """Serve one ACP client on stdin/stdout until it hangs up (or its process dies);
    0 on a clean end. `initialize` is answered before the core is loaded (gate.py);
    until then only asyncio and the ACP front-end are imported. `sdk`: the core's SDK
    factory (None: the real SDK; tests/inproc passes a fake)."""
    outbox = Outbox()
    editor = AcpEditor(outbox)
    agent = AgyAcpAgent(editor)
    gate, transport = await gated_stdio()
    done = asyncio.Event()

    async def serve() -> None:
        # Methods we leave out (session/fork, logout, ...) answer "method not found".
        conn = connect(agent, transport)
        try:
            await conn.listen()
        finally:
            await asyncio.shield(conn.close())
            gate.wanted.set()
            done.set()

    server = asyncio.get_running_loop().create_task(serve())
    try:
        await gate.wanted.wait()
        if gate.initialize_first:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(gate.answered.wait(), 1)
        from agy_lsp import parent_process
        from agy_lsp.agents.manager import AgentManager

        async with AgentManager(settings, editor) if sdk is None else AgentManager(settings, editor, sdk=sdk) as manager:
            agent.attach(manager)
            manager.announce_fallback()
            manager.preload()  # the SDK, in a worker thread: the first prompt need not wait for its import
            gate.open()
            watcher = None
            if client_process_id is not None:
                watcher = asyncio.get_running_loop().create_task(parent_process.watch(client_process_id, done.set))
            await done.wait()
            if watcher is not None:
                watcher.cancel()
    finally:
        server.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await server
        await outbox.close()
    return 0
