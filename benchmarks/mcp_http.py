"""`python -m benchmarks.mcp_http [--concurrent N] [--turns N]`: MCP over Streamable HTTP
against the same over stdio, on loopback, on the scripted model (bounded; not a test).

- N concurrent `agy_run` calls (20 by default), each in a session of its own: the p95
  latency over HTTP divided by the p95 over stdio (the issue's goal: <= 1.05);
- the server's RSS after them (VmRSS of the server process, harnesses apart);
- per-turn overhead: N sequential `agy_reply` turns in one session on each, interleaved,
  each minus the SDK's own span in it (the bench server's probes), p50 over HTTP minus
  p50 over stdio (the goal: <= +1 ms).

Prints one JSON object. Each transport gets a server of its own, stopped at the end;
the HTTP server binds 127.0.0.1 only, and the whole run is bounded (10 minutes).
Also the `mcp_http` section of `python -m benchmarks` (`bench_mcp_http`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from benchmarks.common import ROOT, Config, Metric
from benchmarks.fronts import Probes


def _env(url: str, state: Path, token: str, probes: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "AGY_BENCH_PROBES": probes,
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
    params = StdioServerParameters(command=sys.executable, args=["-m", "benchmarks.bench_server", "--mcp"], env=env, cwd=cwd)
    with _devnull() as devnull:
        async with stdio_client(params, errlog=devnull) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session, _child_pid(env["AGY_STATE_DIR"])


def _devnull() -> Any:
    return open(os.devnull, "w")  # the caller closes it


def _child_pid(state_dir: str) -> int:
    """Our stdio server: a child of this process with `--mcp` and our own state dir
    (other sections may run MCP servers beside it)."""
    me = os.getpid()
    mark = f"AGY_STATE_DIR={state_dir}".encode() + b"\0"
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmd = (entry / "cmdline").read_bytes()
                if int(stat.rsplit(")", 1)[1].split()[1]) != me or b"--mcp" not in cmd:
                    continue
                env = (entry / "environ").read_bytes() + b"\0"
            except OSError:
                continue
            if mark in env:
                return int(entry.name)
    return 0


def _spawn(env: dict[str, str], cwd: str, log: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "benchmarks.bench_server", "--mcp", "--http", "127.0.0.1:0", "--sessions-per-token", "100"]
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


async def _concurrent(session: ClientSession, n: int) -> list[float]:
    async def one(i: int) -> float:
        t0 = time.perf_counter()
        result = await session.call_tool("agy_run", {"prompt": f"hello {i}"})
        assert not result.is_error, result.structured_content
        return time.perf_counter() - t0

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def _reply(session: ClientSession, session_id: str, prompt: str) -> float:
    t0 = time.perf_counter()
    result = await session.call_tool("agy_reply", {"sessionId": session_id, "prompt": prompt})
    assert not result.is_error, result.structured_content
    return time.perf_counter() - t0


async def main(concurrent: int, turns: int) -> dict[str, Any]:
    """Both servers up at once: the concurrent calls on each in turn, then the
    sequential turns interleaved (stdio, http, stdio, ...), so drift hits both alike.
    Each turn is paired with the bench server's probes (the SDK's own span, send ->
    end of its steps, in that turn): the harness's jitter from turn to turn is tens
    of ms, which would drown a 1 ms difference between two medians."""
    model = ScriptedModel()
    probes = {"stdio": Probes(), "http": Probes()}
    try:
        url, _ = model.register(parse_script({"fallback": "echo"}), name=f"bench-{secrets.token_hex(4)}")
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            token = secrets.token_urlsafe(24)
            stdio_env = _env(url, Path(a) / "state", token, probes["stdio"].path)
            http_env = _env(url, Path(b) / "state", token, probes["http"].path)
            async with asyncio.timeout(600), _stdio(stdio_env, a) as (stdio, stdio_pid):
                async with _http(http_env, b) as (http, http_pid):
                    latency = {"stdio": await _concurrent(stdio, concurrent), "http": await _concurrent(http, concurrent)}
                    rss = {"stdio": _rss_kib(stdio_pid), "http": _rss_kib(http_pid)}
                    sessions: dict[str, tuple[ClientSession, str]] = {}
                    for name, session in (("stdio", stdio), ("http", http)):
                        first = await session.call_tool("agy_run", {"prompt": "warm"})
                        sessions[name] = (session, (first.structured_content or {})["sessionId"])
                    per_turn: dict[str, list[float]] = {"stdio": [], "http": []}
                    paired: dict[str, list[float]] = {"stdio": [], "http": []}
                    for i in range(turns + 1):
                        for name, (session, sid) in sessions.items():
                            took = await _reply(session, sid, f"turn {i}")
                            spans = probes[name].take_spans()
                            if i and spans:  # the first is a warm-up
                                per_turn[name].append(took)
                                sent, _, end = spans[-1]
                                paired[name].append(took - (end - sent))
    finally:
        model.close()
        for probe in probes.values():
            with contextlib.suppress(OSError):
                os.unlink(probe.path)
    out: dict[str, Any] = {"concurrent": concurrent, "turns": turns}
    for name in ("stdio", "http"):
        out[name] = {
            "p95_s": _p95(latency[name]),
            "p50_s": statistics.median(latency[name]),
            "rss_kib": rss[name],
            "turn_p50_s": statistics.median(per_turn[name]),
            "turn_mean_s": statistics.mean(per_turn[name]),
            "paired_p50_s": statistics.median(paired[name]),
        }
    out["p95_ratio_http_over_stdio"] = out["http"]["p95_s"] / out["stdio"]["p95_s"]
    out["per_turn_overhead_ms"] = (out["http"]["paired_p50_s"] - out["stdio"]["paired_p50_s"]) * 1000
    out["unpaired_turn_diff_ms"] = (out["http"]["turn_p50_s"] - out["stdio"]["turn_p50_s"]) * 1000
    return out


async def bench_mcp_http(cfg: Config) -> list[Metric]:
    """Item 11 (issue #29): 20 concurrent agy_run (2 in quick mode) and sequential
    turns over Streamable HTTP on loopback against the same over stdio."""
    concurrent, turns = (2, 2) if cfg.quick else (20, 30)
    r = await main(concurrent, turns)
    ratio, over = r["p95_ratio_http_over_stdio"], r["per_turn_overhead_ms"]
    http, stdio = r["http"], r["stdio"]
    return [
        Metric(
            11,
            "mcp_http_concurrent_p95_ratio",
            ratio,
            "x",
            baseline=stdio["p95_s"] * 1000,
            baseline_name=f"p95 of {concurrent} concurrent agy_run over stdio (ms)",
            ratio=ratio,
            p95=http["p95_s"] * 1000,
            target="<= 1.05",
            met=ratio <= 1.05,
            n=concurrent,
            note=f"p95 of {concurrent} concurrent agy_run over HTTP (loopback, bearer token) / the same over stdio",
            extra={"http_p50_ms": http["p50_s"] * 1000, "stdio_p50_ms": stdio["p50_s"] * 1000},
        ),
        Metric(
            11,
            "mcp_http_server_rss_mb",
            http["rss_kib"] / 1024,
            "MB",
            baseline=stdio["rss_kib"] / 1024,
            baseline_name="the stdio server's RSS after the same calls (MB)",
            target="(context)",
            n=1,
            note=f"VmRSS of the HTTP server after {concurrent} concurrent sessions (harnesses apart)",
        ),
        Metric(
            11,
            "mcp_http_turn_overhead_ms",
            over,
            "ms",
            baseline=stdio["paired_p50_s"] * 1000,
            baseline_name="agy-lsp's own part of an agy_reply turn over stdio, p50 (ms, paired)",
            ratio=http["paired_p50_s"] / stdio["paired_p50_s"],
            target="<= +1 ms",
            met=over <= 1.0,
            n=turns,
            note="agy_reply turn minus the SDK's span in it (paired), p50 over HTTP minus over stdio (interleaved)",
            extra={
                "unpaired_p50_diff_ms": r["unpaired_turn_diff_ms"],
                "stdio_turn_p50_ms": stdio["turn_p50_s"] * 1000,
                "http_turn_p50_ms": http["turn_p50_s"] * 1000,
                "http_turn_mean_ms": http["turn_mean_s"] * 1000,
                "stdio_turn_mean_ms": stdio["turn_mean_s"] * 1000,
            },
        ),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--turns", type=int, default=20)
    ns = parser.parse_args()
    print(json.dumps(asyncio.run(main(min(ns.concurrent, 50), min(ns.turns, 200))), indent=2))
