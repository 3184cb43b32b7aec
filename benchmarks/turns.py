"""Items 1 and 2: the first chunk and the whole turn over LSP, ACP and MCP, and
chunk throughput.

Per-turn overhead is measured *paired*: the server runs with probes
(`bench_server.py`) that note, for each turn, when the adapter handed the prompt to
the SDK and when the SDK yielded the first text delta. The client's time to first
chunk minus that span is exactly what agy-lsp added to that turn (reading and
dispatching the request, the core's bookkeeping, turning the step into a chunk,
writing it, the client reading it), without the harness's own jitter, which is
tens of ms from turn to turn (p10-p90 of the direct SDK's ttfc) and drowns a 1 ms
difference between two medians. The direct SDK's own ttfc, measured unpaired in its
own process (`benchmarks/direct.py`), is reported next to it.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.client import RpcClient
from benchmarks.common import Config, Metric, median, p95
from benchmarks.fronts import BENCH, FRONTS, Direct, Front, Lsp, Turn, env_for
from benchmarks.model_server import ModelProcess, script

ms = 1000.0
OVERHEAD_TARGET = {"lsp": 1.0, "acp": 1.5, "mcp": 1.5}  # ms at p50 (issue #18)
PREFIX = {"lsp": "", "acp": "acp_", "mcp": "mcp_"}
HOW = {
    "lsp": "agy/chat -> first agy/chatChunk",
    "acp": "session/prompt -> first agent_message_chunk",
    "mcp": "tools/call agy_reply -> first notifications/progress",
}


async def bench_turns(cfg: Config) -> list[Metric]:
    kinds = list(FRONTS)
    scripts = {k: script(cfg.turn_chunks, 1, turns=cfg.warm + cfg.reps + 10) for k in [*kinds, "direct"]}
    got: dict[str, list[Turn]] = {k: [] for k in [*kinds, "direct"]}
    with ModelProcess(scripts) as model:
        fronts: list[Front] = [await FRONTS[k].open(model.urls[k], probes=True) for k in kinds]
        direct = await Direct.open(model.urls["direct"])
        try:
            for i in range(cfg.warm + cfg.reps):  # interleaved, so drift hits every side alike
                for front in fronts:
                    t = await front.turn()
                    if i >= cfg.warm:
                        got[front.kind].append(t)
                t = await direct.turn()
                if i >= cfg.warm:
                    got["direct"].append(t)
        finally:
            for front in fronts:
                await front.close()
            await direct.close()
    d_ttfc = [t.ttfc * ms for t in got["direct"]]
    d_tot = [t.total * ms for t in got["direct"]]
    out: list[Metric] = []
    for k in kinds:
        turns = got[k]
        over = [t.overhead * ms for t in turns if t.overhead is not None]
        sdk_span = [t.sdk_ttfc * ms for t in turns if t.sdk_ttfc is not None]
        ttfc = [t.ttfc * ms for t in turns]
        tot = [t.total * ms for t in turns]
        target = OVERHEAD_TARGET[k]
        out.append(
            Metric(
                1,
                f"{PREFIX[k]}ttfc_overhead_ms",
                median(over),
                "ms",
                baseline=median(sdk_span),
                baseline_name="the SDK's own span in the same turn (send -> first text delta)",
                ratio=median(ttfc) / median(sdk_span),
                p95=p95(over),
                target=f"<= {target:g} ms at p50",
                met=median(over) <= target,
                n=len(over),
                note=f"{k.upper()}: {HOW[k]}, minus the SDK's span in that turn (paired)",
                extra={
                    "ttfc_p50_ms": median(ttfc),
                    "ttfc_p95_ms": p95(ttfc),
                    "direct_ttfc_p50_ms": median(d_ttfc),
                    "direct_ttfc_p95_ms": p95(d_ttfc),
                    "unpaired_p50_diff_ms": median(ttfc) - median(d_ttfc),
                },
            )
        )
        ratio = median(tot) / median(d_tot)
        out.append(
            Metric(
                1,
                f"{PREFIX[k]}turn_ratio",
                ratio,
                "x",
                baseline=1.0,
                baseline_name="direct SDK turn (same run)",
                ratio=ratio,
                p95=p95(tot) / p95(d_tot),
                target="<= 1.10" if k == "lsp" else "",
                met=ratio <= 1.10 if k == "lsp" else None,
                n=len(tot),
                extra={
                    "turn_p50_ms": median(tot),
                    "turn_p95_ms": p95(tot),
                    "direct_turn_p50_ms": median(d_tot),
                    "direct_turn_p95_ms": p95(d_tot),
                    "chunks_p50": median([t.chunks for t in turns]),
                    "direct_chunks_p50": median([t.chunks for t in got["direct"]]),
                    "script": f"{cfg.turn_chunks} deltas, 1 ms apart",
                },
            )
        )
    return out + await bench_throughput(cfg)


async def bench_throughput(cfg: Config) -> list[Metric]:
    """Item 2: a turn of `burst_chunks` deltas with no delay, end to end through the
    SDK, and the forwarding layer's own capacity (`bench/burst`)."""
    out: list[Metric] = []
    with ModelProcess({"lsp": script(cfg.burst_chunks, 0), "direct": script(cfg.burst_chunks, 0)}) as model:
        lsp = await Lsp.open(model.urls["lsp"])
        direct = await Direct.open(model.urls["direct"])
        try:
            a_turns: list[Turn] = []
            d_turns: list[Turn] = []
            rates: list[float] = []
            await lsp.turn()
            await direct.turn()
            for _ in range(cfg.burst_reps):
                t = await lsp.turn()
                times = lsp.times[lsp.agent]
                rates.append((len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else float("nan"))
                a_turns.append(t)
                d_turns.append(await direct.turn())
        finally:
            await lsp.close()
            await direct.close()
    a_tot, d_tot = [t.total for t in a_turns], [t.total for t in d_turns]
    counts = [t.chunks for t in a_turns]
    per_chunk = (median(a_tot) - median(d_tot)) / max(1, median(counts)) * 1e6
    out.append(
        Metric(
            2,
            "sdk_chunks_per_s",
            median(rates),
            "notif/s",
            baseline=median([t.chunks / t.total for t in d_turns]),
            baseline_name="direct SDK chunks/s",
            target="(context: bounded by the SDK harness)",
            n=cfg.burst_reps,
            extra={
                "agy_chunks": median(counts),
                "direct_chunks": median([t.chunks for t in d_turns]),
                "agy_turn_ms": median(a_tot) * ms,
                "direct_turn_ms": median(d_tot) * ms,
            },
        )
    )
    out.append(
        Metric(
            2,
            "per_chunk_overhead_us",
            per_chunk,
            "us",
            baseline=0.0,
            baseline_name="direct SDK turn / chunks",
            ratio=median(a_tot) / median(d_tot),
            target="<= 50 us",
            met=per_chunk <= 50,
            n=cfg.burst_reps,
            note="(agy turn - direct turn) / chunks delivered",
        )
    )
    out.append(await bench_forwarding(cfg))
    return out


async def bench_forwarding(cfg: Config) -> Metric:
    """The forwarding layer's capacity, the SDK harness taken out of the loop."""
    with ModelProcess({"m": script(5, 0)}) as model:
        client = await RpcClient.spawn(BENCH, env_for())
        try:
            times: list[float] = []
            client.handlers["agy/chatChunk"] = lambda p, now: times.append(now)
            await client.initialize()
            agent = (await client.request("agy/createAgent", {"backend": {"type": "openai", "baseUrl": model.urls["m"], "model": "x"}}))[
                "agentId"
            ]
            cap: list[float] = []
            for i in range(cfg.warm + cfg.burst_reps):
                times.clear()
                t0 = time.perf_counter()
                await client.request("bench/burst", {"agentId": agent, "n": cfg.burst_chunks})
                if i >= cfg.warm:
                    cap.append(len(times) / (times[-1] - t0))
        finally:
            await client.close()
    extra: dict[str, Any] = {}
    return Metric(
        2,
        "forwarding_chunks_per_s",
        median(cap),
        "notif/s",
        target=">= 20000",
        met=median(cap) >= 20000,
        n=cfg.burst_reps,
        note="the adapter's step -> Turn.on_step -> agy/chatChunk -> stdout -> client, SDK steps fed one per loop tick",
        extra=extra,
    )
