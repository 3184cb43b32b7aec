"""Baseline for "spawn to first agent ready": a fresh process that imports the SDK
and starts one Agent on the scripted model, then prints "ready"."""

from __future__ import annotations

import asyncio
import sys
import tempfile


async def main(url: str) -> None:
    from google.antigravity import Agent, LocalOpenAIAgentConfig
    from google.antigravity.hooks import policy

    tmp = tempfile.mkdtemp(prefix="agy-bench-direct-")
    config = LocalOpenAIAgentConfig(model="x", base_url=url, policies=[policy.allow_all()], save_dir=tmp, app_data_dir=tmp)
    async with Agent(config):
        print("ready", flush=True)
        sys.stdin.readline()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
