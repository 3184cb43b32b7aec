"""Baseline for "spawn to first agent ready" and "spawn to first chunk": a fresh
process that imports the SDK, starts one Agent on the scripted model, prints
"ready <perf_counter>", chats, prints "first <perf_counter>" at the first chunk and
"done" at the end of the turn, then waits for stdin to close. perf_counter is
CLOCK_MONOTONIC, so the parent compares it with its own spawn time."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time


async def main(url: str) -> None:
    from google.antigravity import Agent, LocalOpenAIAgentConfig
    from google.antigravity.hooks import policy

    tmp = tempfile.mkdtemp(prefix="agy-bench-direct-")
    config = LocalOpenAIAgentConfig(model="x", base_url=url, policies=[policy.allow_all()], save_dir=tmp, app_data_dir=tmp)
    async with Agent(config) as agent:
        print(f"ready {time.perf_counter():.6f}", flush=True)
        response = await agent.chat("go")
        first = None
        async for _ in response.chunks:
            if first is None:
                first = time.perf_counter()
                print(f"first {first:.6f}", flush=True)
        print("done", flush=True)
        sys.stdin.readline()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
