"""`agy-lsp --acp`: the Agent Client Protocol on stdio, through the official
`agent-client-protocol` package (framing, schema), over the shared core."""

from __future__ import annotations

import logging
from typing import cast

import anyio
from acp import Agent, run_agent

from agy_lsp import parent_process
from agy_lsp.acp.acp_editor import AcpEditor, Outbox
from agy_lsp.acp.agent import AgyAcpAgent
from agy_lsp.agents.manager import AgentManager
from agy_lsp.settings import Settings

log = logging.getLogger(__name__)


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
                    # Methods we leave out (authenticate, fork, ...) answer "method not found".
                    await run_agent(cast(Agent, AgyAcpAgent(manager, editor)))
                    tg.cancel_scope.cancel()

                tg.start_soon(serve)
                if client_process_id is not None:
                    tg.start_soon(parent_process.watch, client_process_id, tg.cancel_scope.cancel)
        finally:
            await outbox.close()
    return 0
