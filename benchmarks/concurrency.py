"""Item 6: 1, 5 and 20 agents chatting at once on one LSP server, against the same
number of agents on the SDK in its own process (`benchmarks/direct.py`) at the same
concurrency. Rounds alternate between the two (both stay up), so drift hits both.
Server RSS is the server process alone (`/proc/<pid>/status`), harness RSS the
`localharness` children."""

from __future__ import annotations

import asyncio

from benchmarks.common import Config, Metric, harness_children, median, p95, rss_kb
from benchmarks.fronts import Direct, Lsp
from benchmarks.model_server import ModelProcess, script

ms = 1000.0


async def bench_concurrency(cfg: Config) -> list[Metric]:
    out: list[Metric] = []
    top = max(cfg.agent_counts)
    turns = sum(cfg.agent_counts) * (cfg.rounds * 5 + 2) + 50
    with ModelProcess({"agy": script(cfg.turn_chunks, 1, turns=turns), "direct": script(cfg.turn_chunks, 1, turns=turns)}) as model:
        lsp = await Lsp.open(model.urls["agy"])
        direct = await Direct.open(model.urls["direct"])
        try:
            agents = [lsp.agent]
            for n in cfg.agent_counts:
                agents += await asyncio.gather(*(lsp.create(model.urls["agy"]) for _ in range(n - len(agents))))
                await direct.start(model.urls["direct"], n - len(direct.agents))
                await asyncio.gather(*(lsp.turn(agent=a) for a in agents[:n]))  # warm every agent once
                await direct.turns(direct.agents[:n])
                lat: list[float] = []
                d_lat: list[float] = []
                for _ in range(cfg.rounds * (5 if n == 1 else 2 if n == top else 1)):
                    lat += [t.total * ms for t in await asyncio.gather(*(lsp.turn(agent=a) for a in agents[:n]))]
                    d_lat += [t.total * ms for t in await direct.turns(direct.agents[:n])]
                kids = harness_children(lsp.pid)
                server_mb = rss_kb(lsp.pid) / 1024
                direct_mb = (await direct.rss_kb()) / 1024
                harness_mb = sum(rss_kb(p) for p in kids) / 1024 / max(1, len(kids))
                is_top = n == top
                out.append(
                    Metric(
                        6,
                        f"turn_latency_p95_{n}_agents_ms",
                        p95(lat),
                        "ms",
                        baseline=p95(d_lat),
                        baseline_name=f"direct SDK p95, {n} agents at once",
                        p95=p95(lat),
                        baseline_p95=p95(d_lat),
                        target="<= 1.05x direct" if is_top else "",
                        met=(p95(lat) / p95(d_lat) <= 1.05) if is_top else None,
                        n=len(lat),
                        extra={
                            "p50_ms": median(lat),
                            "direct_p50_ms": median(d_lat),
                            "server_rss_mb": server_mb,
                            "direct_process_rss_mb": direct_mb,
                            "harness_rss_mb_per_agent": harness_mb,
                            "harnesses": len(kids),
                        },
                    )
                )
                if is_top:
                    out.append(
                        Metric(
                            6,
                            f"server_rss_{n}_agents_mb",
                            server_mb,
                            "MB",
                            baseline=direct_mb,
                            baseline_name=f"the direct SDK process, {n} agents (harnesses excluded)",
                            target="<= 150 MB",
                            met=server_mb <= 150,
                            n=1,
                            note="the server process alone (harnesses excluded)",
                        )
                    )
                    out.append(
                        Metric(6, "harness_rss_per_agent_mb", harness_mb, "MB", n=len(kids), note="localharness children of the server")
                    )
        finally:
            await lsp.close()
            await direct.close()
    return out
