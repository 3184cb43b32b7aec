"""The bare ACP baseline: an agent on the same `acp` package (its stdio transport and
router) that answers `initialize` and nothing else."""

from __future__ import annotations

import asyncio
from typing import Any

from acp import PROTOCOL_VERSION, run_agent
from acp.schema import AgentCapabilities, InitializeResponse


class Bare:
    async def initialize(self, protocol_version: int, client_capabilities: Any = None, client_info: Any = None, **kwargs: Any) -> Any:
        return InitializeResponse(protocol_version=PROTOCOL_VERSION, agent_capabilities=AgentCapabilities())

    def on_connect(self, conn: Any) -> None:
        pass


if __name__ == "__main__":
    asyncio.run(run_agent(Bare()))  # type: ignore[arg-type]
