"""The real agy-lsp server plus two test-only methods, for the two measurements
that need a source the scripted model cannot provide:

- `bench/seedHistory {agentId, n}` appends `n` synthetic SDK Steps to a live
  agent's conversation, so `agy/history` (the real request path) has 10k steps.
- `bench/burst {agentId, n}` runs the session's real turn streaming code
  (`TurnChunks.pump` -> `editor.chunk` -> `notify_struct` -> FrameWriter ->
  stdout) over SDK delta Steps that arrive one per event-loop tick, as fast as
  possible. It measures what the forwarding layer can carry, independent of
  the SDK harness, which is slower than the target rate.

Nothing else differs from `python -m agy_lsp`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

from benchmarks.steps import delta_steps, make_steps


def main() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    from agy_lsp.lsp.server import AgyLanguageServer, build_server
    from agy_lsp.settings import from_environment

    server = build_server(from_environment({}))

    @server.feature("bench/seedHistory")
    async def seed(ls: AgyLanguageServer, params: Any) -> Any:
        conv: Any = ls.manager.get(params["agentId"]).conversation()
        conv._steps.extend(make_steps(int(params["n"])))
        return {"total": len(conv.history)}

    @server.feature("bench/burst")
    async def burst(ls: AgyLanguageServer, params: Any) -> Any:
        session: Any = ls.manager.get(params["agentId"])
        steps = delta_steps(int(params["n"]))

        class Conv:
            async def receive_steps(self) -> AsyncIterator[Any]:
                for step in steps:
                    yield step
                    await asyncio.sleep(0)  # one SDK step per loop tick at most

        session.chunks.begin("burst")
        text: list[str] = []
        try:
            await session.chunks.pump(Conv(), text)
        finally:
            session.chunks.end()
        return {"chunks": len(text)}

    code = asyncio.run(server.serve())
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
