"""`make demo`: a short session through the real server and SDK, on the scripted model.

It starts `agy-lsp` with the Python client, creates an agent on a fixed script
(so the transcript is the same every time), and shows a streamed answer, a tool
call whose confirmation the demo answers "allow" (and says so), the tool's
result, and the usage. Exits 0.
"""

from __future__ import annotations

import os
import sys
import tempfile

import anyio

from agy_lsp.client import AgyClient, ConfirmToolCallParams, Scripted
from agy_lsp.client.terminal import BOLD, GREEN, Renderer, describe_call

SCRIPT = {
    "replies": [
        {
            "text": "Hello! I am an Antigravity agent on the scripted model. Let me run a command to show a tool call.",
            "chunkDelayMs": 25,
            "toolCalls": [{"name": "run_command", "args": {"CommandLine": "echo hello from a tool call"}}],
        },
        {"text": "The command printed its greeting, so tools work end to end. That is the whole demo.", "chunkDelayMs": 25},
    ],
    "fallback": "echo",
}
PROMPTS = ["Show me what you can do.", "Thanks!"]


async def demo() -> int:
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    r = Renderer(sys.stdout, color=color)

    def bold(text: str) -> str:
        return f"{BOLD}{text}\x1b[0m" if color else text

    def allow(params: ConfirmToolCallParams) -> str:
        r.line(f"? allow {describe_call(params.tool_call)}? " + (f"{GREEN}yes\x1b[0m" if color else "yes") + " (answered by the demo)")
        return "allow_once"

    with tempfile.TemporaryDirectory(prefix="agy-demo-") as state_dir:
        env = {"AGY_STATE_DIR": os.environ.get("AGY_STATE_DIR") or state_dir, "AGY_PACING_MS": os.environ.get("AGY_PACING_MS", "0")}
        async with AgyClient.spawn(env=env) as client:
            info = await client.server_info()
            r.note(f"{info.name} {info.version} (google-antigravity {info.sdk_version}), on the built-in scripted model")
            agent = await client.create_agent(Scripted(script=SCRIPT), name="demo", on_confirm=allow)
            r.note(f"agent {agent.agent_id} started with {len(agent.tools)} tools")
            for prompt in PROMPTS:
                r.line("")
                r.line(bold(f"you › {prompt}"))
                turn = agent.chat(prompt)
                async for chunk in turn:
                    r.chunk(chunk)
                result = await turn
                r.newline()
                r.usage(result.usage)
            total = await agent.total_usage()
            r.line("")
            r.note(f"{await agent.turn_count()} turns, {len(await agent.history())} history steps, {total.total_tokens} tokens in all")
            await agent.shutdown()
        r.note(f"server exited with code {client.returncode}")
    return 0 if client.returncode == 0 else 1


def main() -> int:
    return anyio.run(demo)


if __name__ == "__main__":
    sys.exit(main())
