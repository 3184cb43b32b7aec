"""Item 5: startup, on each front-end, from the spawn of a fresh process.

- `initialize_ms` (LSP), `acp_initialize_ms`, `mcp_initialize_ms`: spawn -> the
  `initialize` answer, against a bare server on the same library (a stock pygls 2
  server, an agent on the same `acp` package, the `mcp` package's lowlevel Server).
- `first_agent_ready_ms`: spawn -> initialize -> `agy/createAgent` answered (LSP).
- `first_chunk_ms` (LSP), `acp_first_chunk_ms`, `mcp_first_chunk_ms`: spawn ->
  the first chunk of the first turn (LSP: initialize, createAgent, chat; ACP:
  initialize, session/new, session/prompt; MCP: initialize, agy_run), against the
  direct SDK's own path in a fresh process (python, SDK import, agent start, chat ->
  first chunk, `benchmarks/direct_start.py`).
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from typing import Any

from benchmarks.client import LineClient, RpcClient
from benchmarks.common import PY, ROOT, Config, Metric, median, p95
from benchmarks.fronts import AGY, backend, env_for
from benchmarks.model_server import ModelProcess, script

PYGLS = [PY, "-m", "benchmarks.pygls_echo"]
ACP_BARE = [PY, "-m", "benchmarks.acp_echo"]
MCP_BARE = [PY, "-m", "benchmarks.mcp_echo"]
ACP_INIT = {"protocolVersion": 1, "clientCapabilities": {}}
MCP_INIT = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "agy-bench", "version": "1"}}
ms = 1000.0
PAUSE = 0.3  # s between spawns that start a harness


def _since(t: float, t0: float) -> float:
    return (t - t0) * ms


async def _lsp(url: str) -> tuple[float, float, float]:
    """(initialize, createAgent answered, first chunk), ms from spawn."""
    c = await RpcClient.spawn(AGY, env_for())
    first: list[float] = []
    c.handlers["agy/chatChunk"] = lambda p, now: first.append(now)
    try:
        t_init = await c.initialize()
        agent = (await c.request("agy/createAgent", {"backend": backend(url)}))["agentId"]
        t_ready = time.perf_counter()
        await c.request("agy/chat", {"agentId": agent, "prompt": "go"})
    finally:
        await c.close()
    return _since(t_init, c.spawned_at), _since(t_ready, c.spawned_at), _since(first[0], c.spawned_at)


async def _acp(url: str) -> tuple[float, float]:
    c = await LineClient.spawn([*AGY, "--acp"], env_for(url))
    first: list[float] = []
    c.handlers["session/update"] = lambda p, now: first.append(now) if p["update"].get("sessionUpdate") == "agent_message_chunk" else None
    try:
        _, t_init = await c.timed_request("initialize", ACP_INIT)
        sid = (await c.request("session/new", {"cwd": ROOT, "mcpServers": []}))["sessionId"]
        await c.request("session/prompt", {"sessionId": sid, "prompt": [{"type": "text", "text": "go"}]})
    finally:
        await c.close()
    return _since(t_init, c.spawned_at), _since(first[0], c.spawned_at)


async def _mcp(url: str) -> tuple[float, float]:
    c = await LineClient.spawn([*AGY, "--mcp"], env_for(url))
    first: list[float] = []
    c.handlers["notifications/progress"] = lambda p, now: first.append(now)
    try:
        _, t_init = await c.timed_request("initialize", MCP_INIT)
        c.notify("notifications/initialized", {})
        args = {"prompt": "go", "cwd": ROOT}
        await c.request("tools/call", {"name": "agy_run", "arguments": args, "_meta": {"progressToken": "first"}})
    finally:
        await c.close()
    return _since(t_init, c.spawned_at), _since(first[0], c.spawned_at)


async def _bare(argv: list[str], method: str, params: Any, lsp: bool = False) -> float:
    c = await (RpcClient if lsp else LineClient).spawn(argv, env_for())
    try:
        if isinstance(c, RpcClient):
            t = await c.initialize()
        else:
            _, t = await c.timed_request(method, params)
    finally:
        await c.close()
    return _since(t, c.spawned_at)


async def _direct(url: str) -> tuple[float, float]:
    """(agent ready, first chunk), ms from spawn."""
    t0 = time.perf_counter()
    p = subprocess.Popen(  # noqa: ASYNC220 - timed from spawn; the reads run in an executor
        [PY, "-m", "benchmarks.direct_start", url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, text=True, env=env_for()
    )
    assert p.stdout is not None and p.stdin is not None
    loop = asyncio.get_running_loop()
    marks: dict[str, float] = {}
    while "done" not in marks:
        line = await loop.run_in_executor(None, p.stdout.readline)
        if not line:
            break
        name, _, value = line.strip().partition(" ")
        marks[name] = float(value) if value else 0.0
    p.stdin.close()
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    return _since(marks["ready"], t0), _since(marks["first"], t0)


async def bench_startup(cfg: Config) -> list[Metric]:
    r: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        r.setdefault(name, []).append(value)

    runs = cfg.startup_runs
    pairs = [
        ("lsp_init", AGY, "pygls", PYGLS, "initialize", None, True),
        ("acp_init", [*AGY, "--acp"], "acp_bare", ACP_BARE, "initialize", ACP_INIT, False),
        ("mcp_init", [*AGY, "--mcp"], "mcp_bare", MCP_BARE, "initialize", MCP_INIT, False),
    ]
    # initialize alone (cheap, and noisy on a shared machine: more rounds): each agy
    # server and its bare baseline back to back, in turn first
    for i in range(1 if cfg.quick else 2 * runs):
        for name, argv, bare, bare_argv, method, params, lsp in pairs:
            sides = [(name, argv), (bare, bare_argv)]
            for key, cmd in sides if i % 2 else sides[::-1]:
                value = await _bare(cmd, method, params, lsp=lsp)
                if cfg.quick or i:  # the first round warms the page cache
                    add(key, value)
    # spawn -> first chunk; a pause after each, so one run's harness teardown does not slow the next
    with ModelProcess({"m": script(5, 0, turns=10 * runs + 10)}) as model:
        url = model.urls["m"]
        for _ in range(runs):
            _, ready, first = await _lsp(url)
            add("lsp_ready", ready)
            add("lsp_first", first)
            await asyncio.sleep(PAUSE)
            add("acp_first", (await _acp(url))[1])
            await asyncio.sleep(PAUSE)
            add("mcp_first", (await _mcp(url))[1])
            await asyncio.sleep(PAUSE)
            ready, first = await _direct(url)
            add("direct_ready", ready)
            add("direct_first", first)
            await asyncio.sleep(PAUSE)

    def metric(name: str, key: str, base: str, base_name: str, target: float | None, **kw: Any) -> Metric:
        v, b = median(r[key]), median(r[base])
        return Metric(
            5,
            name,
            v,
            "ms",
            baseline=b,
            baseline_name=base_name,
            p95=p95(r[key]),
            baseline_p95=p95(r[base]),
            target=f"<= {target:.2f}x" if target else "",
            met=(v / b <= target) if target else None,
            n=len(r[key]),
            extra={"min_ms": min(r[key]), "baseline_min_ms": min(r[base]), "ratio_of_mins": min(r[key]) / min(r[base])},
            **kw,
        )

    direct_first = "direct SDK: python + SDK import + Agent start + chat -> first chunk"
    lsp_first = "LSP: spawn -> initialize, createAgent, chat -> first chunk"
    acp_first = "ACP: spawn -> initialize, session/new, prompt -> first chunk"
    mcp_first = "MCP: spawn -> initialize, agy_run -> first progress"
    return [
        metric("initialize_ms", "lsp_init", "pygls", "bare pygls spawn->initialize", 1.10),
        metric("acp_initialize_ms", "acp_init", "acp_bare", "bare agent on the same acp package", 1.10),
        metric("mcp_initialize_ms", "mcp_init", "mcp_bare", "bare mcp lowlevel Server (context)", None),
        metric(
            "first_agent_ready_ms",
            "lsp_ready",
            "direct_ready",
            "python + SDK import + Agent start, direct",
            None,
            note="spawn -> initialize -> createAgent answered",
        ),
        metric("first_chunk_ms", "lsp_first", "direct_first", direct_first, 1.2, note=lsp_first),
        metric("acp_first_chunk_ms", "acp_first", "direct_first", direct_first, 1.2, note=acp_first),
        metric("mcp_first_chunk_ms", "mcp_first", "direct_first", direct_first, 1.2, note=mcp_first),
    ]
