"""The real agy-lsp server (`agy_lsp.cli.main`, any front-end) plus probes and two
test-only methods, for the measurements that need what the scripted model cannot
provide:

- Probes (`AGY_BENCH_PROBES=<file>`): for each turn, when the SDK's
  `Conversation.send` was called and when its `receive_steps` yielded the turn's
  first text delta, appended to the file as one line `<send> <first> <end>`
  (perf_counter, which is CLOCK_MONOTONIC: comparable across processes) once the
  turn's steps end. The client's time to first chunk minus that span is what
  agy-lsp added to this very turn (the adapter's own work included), free of the
  harness's own jitter. The probes only read the clock; the line is written after
  the last step.
- `bench/seedHistory {agentId, n}` (LSP) / `_bench/seedHistory {sessionId, n}`
  (ACP) appends `n` synthetic SDK Steps to a live agent's conversation, so
  `agy/history` and `session/load` (the real request paths) have 10k steps.
- `bench/burst {agentId, n}` (LSP) runs the real turn streaming code (the adapter's
  step -> StepEvent, `Turn.on_step` -> `editor.chunk` -> `notify_struct` ->
  FrameWriter -> stdout) over SDK delta Steps that arrive one per event-loop tick,
  as fast as possible: what the forwarding layer can carry, independent of the SDK
  harness, which is slower than the target rate.

Nothing else differs from `python -m agy_lsp`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

from benchmarks.steps import delta_steps, make_steps


def install_probes(path: str) -> None:
    """On the SDK's own `Conversation`: `send` called, and `receive_steps` yielding the
    turn's first text delta (a model step to the user, as `agent.chat()` chunks it)."""
    from google.antigravity import types as sdk
    from google.antigravity.conversation.conversation import Conversation

    send, receive = Conversation.send, Conversation.receive_steps
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sent: dict[int, float] = {}

    async def probed_send(self: Any, prompt: Any, **kwargs: Any) -> None:
        sent[id(self)] = time.perf_counter()
        await send(self, prompt, **kwargs)

    async def probed_receive(self: Any) -> AsyncIterator[Any]:
        first = 0.0
        async for step in receive(self):
            if not first and step.content_delta and step.source == sdk.StepSource.MODEL and step.target == sdk.StepTarget.USER:
                first = time.perf_counter()
            yield step
        if id(self) in sent:
            os.write(fd, b"%.6f %.6f %.6f\n" % (sent.pop(id(self)), first, time.perf_counter()))

    Conversation.send = probed_send  # type: ignore[method-assign]
    Conversation.receive_steps = probed_receive  # type: ignore[method-assign]


def _seed(manager: Any, agent_id: str, n: int) -> int:
    live: Any = manager._get(agent_id).live
    live._conv._steps.extend(make_steps(n))
    return len(live._conv.history)


def lsp_features() -> None:
    from agy_lsp.agents.turn import Turn
    from agy_lsp.lsp import server as lsp_server
    from agy_lsp.lsp.language_server import AgyLanguageServer

    build = lsp_server.build_server

    def build_server(*args: Any, **kwargs: Any) -> AgyLanguageServer:
        server = build(*args, **kwargs)

        @server.feature("bench/seedHistory")
        async def seed(ls: AgyLanguageServer, params: Any) -> Any:
            return {"total": _seed(ls.manager, params["agentId"], int(params["n"]))}

        @server.feature("bench/burst")
        async def burst(ls: AgyLanguageServer, params: Any) -> Any:
            session: Any = ls.manager._get(params["agentId"])
            turn = Turn(session.agent_id, "burst", session.deps.editor, session.ids, frozenset(), lambda key, call: None)
            for step in delta_steps(int(params["n"])):
                turn.on_step(session.live._event(step))
                await asyncio.sleep(0)  # one SDK step per loop tick at most
            return {"chunks": len(turn.text)}

        return server

    lsp_server.build_server = build_server


def acp_features() -> None:
    from agy_lsp.acp.agent import AgyAcpAgent

    async def ext_method(self: AgyAcpAgent, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "bench/seedHistory":
            b = self.sessions[params["sessionId"]]
            return {"total": _seed(self.manager, b.agent_id, int(params["n"]))}
        raise ValueError(method)

    AgyAcpAgent.ext_method = ext_method  # type: ignore[attr-defined]


def main() -> None:
    argv = sys.argv[1:]
    if probes := os.environ.get("AGY_BENCH_PROBES"):
        install_probes(probes)
    if "--acp" in argv:
        acp_features()
    elif "--mcp" not in argv:
        lsp_features()
    from agy_lsp.cli import main as cli_main

    cli_main(argv)


if __name__ == "__main__":
    main()
