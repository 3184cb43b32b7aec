"""The direct-SDK baseline in its own process: `google.antigravity.Agent`s driven the
way a user's script would, each turn timed in-process (`agent.chat()` -> first
chunk -> end of `response.chunks`).

`python -m benchmarks.direct` reads one JSON command per line on stdin and answers
one JSON line on stdout:

- `{"op": "start", "url": ..., "n": k}` -> `{"agents": [ids]}`: k more agents on the model at `url`
- `{"op": "turn", "agents": [ids], "prompt": ...}` -> `{"turns": [[ttfc_s, turn_s, chunks], ...]}`:
  one turn on each at once (the same start for all)
- `{"op": "rss"}` -> `{"kb": ...}`

Running it apart from the bench client keeps its event loop and its heap its own,
as agy-lsp's are.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from typing import Any


async def _turn(agent: Any, prompt: str) -> list[float]:
    t0 = time.perf_counter()
    first = None
    n = 0
    response = await agent.chat(prompt)
    async for _ in response.chunks:
        if first is None:
            first = time.perf_counter()
        n += 1
    return [(first - t0) if first else float("nan"), time.perf_counter() - t0, n]


def _rss_kb() -> int:
    with open(f"/proc/{os.getpid()}/status") as f:
        return next(int(x.split()[1]) for x in f if x.startswith("VmRSS:"))


async def main() -> None:
    from google.antigravity import Agent, LocalOpenAIAgentConfig
    from google.antigravity.hooks import policy

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    agents: list[Any] = []
    async with contextlib.AsyncExitStack() as stack:
        while line := await reader.readline():
            cmd = json.loads(line)
            op = cmd["op"]
            if op == "start":
                tmp = tempfile.mkdtemp(prefix="agy-bench-direct-")
                allow = [policy.allow_all()]
                config = LocalOpenAIAgentConfig(model="x", base_url=cmd["url"], policies=allow, save_dir=tmp, app_data_dir=tmp)
                new = [await stack.enter_async_context(Agent(config)) for _ in range(int(cmd.get("n", 1)))]
                agents += new
                out: dict[str, Any] = {"agents": list(range(len(agents) - len(new), len(agents)))}
            elif op == "turn":
                prompt = cmd.get("prompt", "go")
                out = {"turns": await asyncio.gather(*(_turn(agents[i], prompt) for i in cmd["agents"]))}
            elif op == "rss":
                out = {"kb": _rss_kb()}
            else:
                out = {"error": op}
            sys.stdout.write(json.dumps(out) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
