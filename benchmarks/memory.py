"""Memory with hibernation (issue 6): N open conversations under maxLiveAgents, against N live agents.

Memory is the proportional set size (PSS) of the server and its localharness
children, so pages the harnesses share are not counted N times. The price of
hibernation is the wake-up: a turn on a hibernated agent is timed against a turn
on a live one, in the same capped server.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks.client import RpcClient
from benchmarks.common import Config, Metric, harness_children, median, pss_kb, server_env
from benchmarks.model_server import ModelProcess, script
from benchmarks.suite import AGY, backend

ms = 1000.0


def footprint(server_pid: int) -> dict[str, Any]:
    harnesses = harness_children(server_pid)
    server_mb = pss_kb(server_pid) / 1024
    harness_mb = sum(pss_kb(p) for p in harnesses) / 1024
    return {"total_mb": server_mb + harness_mb, "server_mb": server_mb, "harness_mb": harness_mb, "harnesses": len(harnesses)}


async def open_conversations(url: str, n: int, max_live: int) -> tuple[dict[str, Any], list[str], RpcClient]:
    """A server with `n` agents that have each had one turn."""
    env = server_env()
    env["AGY_MAX_LIVE_AGENTS"] = str(max_live)
    client = await RpcClient.spawn(AGY, env)
    await client.initialize()
    agents: list[str] = []
    for _ in range(n):
        agents.append((await client.request("agy/createAgent", {"backend": backend(url)}))["agentId"])
        await client.request("agy/chat", {"agentId": agents[-1], "prompt": "go"})
    await asyncio.sleep(1.0)  # closed harnesses finish exiting
    return footprint(client.pid), agents, client


async def timed_chat(client: RpcClient, agent_id: str) -> float:
    t0 = time.perf_counter()
    await client.request("agy/chat", {"agentId": agent_id, "prompt": "again"})
    return (time.perf_counter() - t0) * ms


async def bench_hibernation(cfg: Config) -> list[Metric]:
    n, cap = cfg.open_conversations, cfg.max_live
    with ModelProcess({"m": script(cfg.turn_chunks, 0, turns=20 * n + 100)}) as model:
        url = model.urls["m"]
        live, _, client = await open_conversations(url, n, 0)
        await client.close()
        capped, agents, client = await open_conversations(url, n, cap)
        try:
            wake: list[float] = []
            warm: list[float] = []
            for i in range(min(cfg.reps, n - cap)):
                wake.append(await timed_chat(client, agents[i]))  # the oldest agents were hibernated
                warm.append(await timed_chat(client, agents[i]))  # now it is live
        finally:
            await client.close()
    return [
        Metric(
            8,
            f"memory_{n}_conversations_max_live_{cap}_mb",
            capped["total_mb"],
            "MB",
            baseline=live["total_mb"],
            baseline_name=f"{n} live agents",
            n=1,
            note="PSS of the server plus its localharness children (fewer harnesses share their common pages fewer ways)",
            extra={
                "harnesses": capped["harnesses"],
                "live_harnesses": live["harnesses"],
                "server_mb": capped["server_mb"],
                "live_server_mb": live["server_mb"],
            },
        ),
        Metric(
            8,
            "wake_turn_ms",
            median(wake),
            "ms",
            baseline=median(warm),
            baseline_name="turn on a live agent",
            n=len(wake),
            note="a turn on a hibernated agent, including resuming it (and hibernating another to make room)",
        ),
    ]
