"""Baseline for `agy-lsp run`: a fresh process that does what a one-shot script on the
SDK does (python, SDK import, Agent start, chat on the scripted model): the answer's
chunks on stdout as they come, then exit once the Agent is closed. The parent times
the first byte on stdout and the exit."""

from __future__ import annotations

import asyncio
import sys
import tempfile


async def main(url: str) -> None:
    from google.antigravity import Agent, LocalOpenAIAgentConfig
    from google.antigravity.hooks import policy

    tmp = tempfile.mkdtemp(prefix="agy-bench-direct-run-")
    config = LocalOpenAIAgentConfig(model="x", base_url=url, policies=[policy.allow_all()], save_dir=tmp, app_data_dir=tmp)
    async with Agent(config) as agent:
        response = await agent.chat("go")
        async for chunk in response.chunks:
            text = getattr(chunk, "text", None)
            if text:
                sys.stdout.write(text)
                sys.stdout.flush()
    sys.stdout.write("\n")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
