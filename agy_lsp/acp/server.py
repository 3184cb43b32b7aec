"""`agy-lsp --acp`: the Agent Client Protocol on stdio, through the official
`agent-client-protocol` package (framing, schema), over the shared core."""

from __future__ import annotations

import logging
from typing import cast

from acp import Agent, run_agent

from agy_lsp.acp.agent import AgyAcpAgent
from agy_lsp.acp.bridge import AcpEditor, Outbox
from agy_lsp.agents.manager import AgentManager
from agy_lsp.settings import Settings

log = logging.getLogger(__name__)


async def run_acp(settings: Settings) -> int:
    """Serve one ACP client on stdin/stdout until it hangs up; 0 on a clean end."""
    outbox = Outbox()
    editor = AcpEditor(outbox)
    async with AgentManager(settings, editor) as manager:
        manager.announce_fallback()
        try:
            # Methods we leave out (authenticate, fork, ...) answer "method not found".
            await run_agent(cast(Agent, AgyAcpAgent(manager, editor)))
        finally:
            await outbox.close()
    return 0
