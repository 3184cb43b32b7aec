"""The real agy-lsp server plus two test-only methods, for the two measurements
that need a source the scripted model cannot provide:

- `bench/seedHistory {agentId, n}` appends `n` synthetic SDK Steps to a live
  agent's conversation, so `agy/history` (the real request path) has 10k steps.
- `bench/burst {agentId, n}` runs the real turn streaming code (the adapter's
  step -> StepEvent, `Turn.on_step` -> `editor.chunk` -> `notify_struct` ->
  FrameWriter -> stdout) over SDK delta Steps that arrive one per event-loop
  tick, as fast as possible. It measures what the forwarding layer can carry, independent of
  the SDK harness, which is slower than the target rate.

Nothing else differs from `python -m agy_lsp`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any

from benchmarks.steps import delta_steps, make_steps


def main() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    from agy_lsp.agents.turn import Turn
    from agy_lsp.lsp.language_server import AgyLanguageServer
    from agy_lsp.lsp.server import build_server
    from agy_lsp.settings import from_environment

    server = build_server(from_environment({}))

    @server.feature("bench/seedHistory")
    async def seed(ls: AgyLanguageServer, params: Any) -> Any:
        live: Any = ls.manager._get(params["agentId"]).live  # pyright: ignore[reportPrivateUsage]
        live._conv._steps.extend(make_steps(int(params["n"])))
        return {"total": len(live._conv.history)}

    @server.feature("bench/burst")
    async def burst(ls: AgyLanguageServer, params: Any) -> Any:
        session: Any = ls.manager._get(params["agentId"])  # pyright: ignore[reportPrivateUsage]
        turn = Turn(session.agent_id, "burst", session.deps.editor, session.ids, frozenset(), lambda key, call: None)
        for step in delta_steps(int(params["n"])):
            turn.on_step(session.live._event(step))
            await asyncio.sleep(0)  # one SDK step per loop tick at most
        return {"chunks": len(turn.text)}

    code = asyncio.run(server.serve())
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
