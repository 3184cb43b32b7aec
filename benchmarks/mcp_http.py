"""`python -m benchmarks.mcp_http [--concurrent N] [--turns N]`: MCP over Streamable HTTP
against the same over stdio, on loopback, on the scripted model (bounded; not a test).

- N concurrent `agy_run` calls (20 by default), each in a session of its own: the p95
  latency over HTTP divided by the p95 over stdio (the issue's goal: <= 1.05);
- the server's RSS after them (VmRSS of the server process, harnesses apart);
- per-turn overhead: N sequential `agy_reply` turns in one session, mean over HTTP
  minus mean over stdio (the goal: <= +1 ms).

Prints one JSON object. Each transport gets a server of its own, stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from agy_lsp.backends.scripted import ScriptedModel, parse_script


def _env(url: str, state: Path, token: str) -> dict[str, str]:
    return {
        **os.environ,
        "AGY_STATE_DIR": str(state),
        "AGY_PACING_MS": "0",
        "AGY_BACKEND": "openai",
        "AGY_BASE_URL": url,
        "AGY_MODEL": "scripted",
        "AGY_MAX_LIVE_AGENTS": "0",
        "AGY_TOKEN": token,
        "GEMINI_API_KEY": "",
        "GOOGLE_API_KEY": "",
    }


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@asynccontextmanager
async def _stdio(env: dict[str, str], cwd: str) -> AsyncIterator[tuple[ClientSession, int]]:
    params = StdioServerParameters(command=sys.executable, args=["-m", "agy_lsp", "--mcp"], env=env, cwd=cwd)
    with _devnull() as devnull:
        async with stdio_client(params, errlog=devnull) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session, _child_pid()


def _devnull() -> Any:
    return open(os.devnull, "w")  # the caller closes it


def _child_pid() -> int:
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me and b"--mcp" in cmd:
                return int(entry.name)
    return 0


def _spawn(env: dict[str, str], cwd: str, log: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "agy_lsp", "--mcp", "--http", "127.0.0.1:0", "--sessions-per-token", "100"]
    with open(log, "wb") as out:
        return subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=out)


@asynccontextmanager
async def _http(env: dict[str, str], cwd: str) -> AsyncIterator[tuple[ClientSession, int]]:
    log = Path(cwd) / "http-server.log"
    proc = _spawn(env, cwd, log)
    try:
        async with asyncio.timeout(60):
            while "serving MCP on " not in (text := log.read_text(errors="replace")):
                await asyncio.sleep(0.05)
        url = text.split("serving MCP on ", 1)[1].split()[0]
        headers = {"Authorization": f"Bearer {env['AGY_TOKEN']}"}
        async with create_mcp_http_client(headers=headers) as http, streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.to_thread(proc.wait, 60)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def measure(transport: str, model: ScriptedModel, concurrent: int, turns: int) -> dict[str, Any]:
    url, _ = model.register(parse_script({"fallback": "echo"}), name=f"bench-{secrets.token_hex(4)}")
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(url, Path(tmp) / "state", secrets.token_urlsafe(24))
        connect = _stdio if transport == "stdio" else _http
        async with connect(env, tmp) as (session, pid):

            async def one(i: int) -> float:
                t0 = time.perf_counter()
                result = await session.call_tool("agy_run", {"prompt": f"hello {i}"})
                assert not result.is_error, result.structured_content
                return time.perf_counter() - t0

            latencies = await asyncio.gather(*(one(i) for i in range(concurrent)))
            rss = _rss_kib(pid)
            first = await session.call_tool("agy_run", {"prompt": "warm"})
            session_id = (first.structured_content or {})["sessionId"]
            per_turn: list[float] = []
            for i in range(turns):
                t0 = time.perf_counter()
                await session.call_tool("agy_reply", {"sessionId": session_id, "prompt": f"turn {i}"})
                per_turn.append(time.perf_counter() - t0)
    return {"p95_s": _p95(list(latencies)), "rss_kib": rss, "turn_mean_s": statistics.mean(per_turn)}


async def main(concurrent: int, turns: int) -> dict[str, Any]:
    model = ScriptedModel()
    try:
        stdio = await measure("stdio", model, concurrent, turns)
        http = await measure("http", model, concurrent, turns)
    finally:
        model.close()
    return {
        "concurrent": concurrent,
        "stdio": stdio,
        "http": http,
        "p95_ratio_http_over_stdio": http["p95_s"] / stdio["p95_s"],
        "per_turn_overhead_ms": (http["turn_mean_s"] - stdio["turn_mean_s"]) * 1000,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--turns", type=int, default=20)
    ns = parser.parse_args()
    print(json.dumps(asyncio.run(main(min(ns.concurrent, 50), min(ns.turns, 200))), indent=2))
