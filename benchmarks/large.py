"""Item 9: a tool call with a large output (`run_command` printing N lines of about
80 characters: 50,000 lines are about 4 MB) streamed to an LSP and an ACP client,
against the same turn on the SDK in its own process.

The harness streams a running command as one step snapshot after another (each
with the output's tail), hundreds for 50k lines; the server turns each into at most
a tool call update and keeps the SDK's history. Per size: the turn's time as the
client sees it, the server's CPU time, and its peak RSS growth during the turn
(`VmHWM` after `clear_refs`). The slope is d log(time) / d log(lines) between the
smallest and the largest size (1 = linear, 2 = quadratic), for agy and for the
direct SDK alike: the harness itself is superlinear in the output, so agy's own work
is judged by its server's CPU slope against the direct process's.
"""

from __future__ import annotations

import math
from typing import Any

from benchmarks.common import Config, Metric, cpu_s, median, peak_rss_kb, reset_peak_rss, rss_kb
from benchmarks.fronts import Acp, Direct, Front, Lsp
from benchmarks.model_server import ModelProcess

ms = 1000.0
LINE = "line %06g of the large output, padded to about eighty characters with dots..........."


def command(lines: int) -> str:
    return f"seq -f '{LINE}' {lines}"


def large_script(sizes: list[tuple[int, int]]) -> dict[str, Any]:
    """For each (lines, turns): that many turns of a run_command call, then "done"."""
    replies: list[dict[str, Any]] = []
    for lines, turns in sizes:
        call = {"name": "run_command", "args": {"CommandLine": command(lines), "Cwd": "/tmp", "WaitMsBeforeAsync": 600000}}
        replies += [{"toolCalls": [call]}, {"text": "done", "chunks": 1}] * turns
    return {"replies": replies, "fallback": "done"}


def slope(xs: list[float], ys: list[float]) -> float:
    if len(xs) < 2 or min(ys) <= 0:
        return float("nan")
    return math.log(ys[-1] / ys[0]) / math.log(xs[-1] / xs[0])


async def _timed(front: Front | Direct) -> tuple[float, float, float]:
    """(turn s, server CPU s, peak RSS growth MB)."""
    before_cpu, before_rss = cpu_s(front.pid), rss_kb(front.pid)
    reset_peak_rss(front.pid)
    t = await front.turn()
    return t.total, cpu_s(front.pid) - before_cpu, (peak_rss_kb(front.pid) - before_rss) / 1024


async def bench_large(cfg: Config) -> list[Metric]:
    sizes = cfg.large_lines
    plan = [(sizes[0] // 10, 1)] + [(n, 1 if n == sizes[-1] else cfg.large_reps) for n in sizes]  # a small warm-up turn first
    acp_plan = plan[:-1]  # the largest size on LSP and the direct SDK only (it takes the harness minutes)
    r: dict[str, dict[int, list[tuple[float, float, float]]]] = {"lsp": {}, "acp": {}, "direct": {}}
    with ModelProcess({"lsp": large_script(plan), "acp": large_script(acp_plan), "direct": large_script(plan)}) as model:
        lsp = await Lsp.open(model.urls["lsp"], policies="allowAll")
        acp = await Acp.open(model.urls["acp"], meta={"mode": "allow_all"})
        direct = await Direct.open(model.urls["direct"])
        try:
            for i, (lines, turns) in enumerate(plan):
                for _ in range(turns):
                    r["lsp"].setdefault(lines, []).append(await _timed(lsp))
                    if i < len(acp_plan):
                        r["acp"].setdefault(lines, []).append(await _timed(acp))
                    r["direct"].setdefault(lines, []).append(await _timed(direct))
        finally:
            await lsp.close()
            await acp.close()
            await direct.close()

    def med(side: str, lines: int, k: int) -> float:
        return median([x[k] for x in r[side].get(lines, [])])

    mid = sizes[1]
    out: list[Metric] = []
    for side, prefix in (("lsp", ""), ("acp", "acp_")):
        ratio = med(side, mid, 0) / med("direct", mid, 0)
        per_size = {f"turn_ms_{n}": med(side, n, 0) * ms for n in sizes if n in r[side]}
        per_size.update({f"direct_turn_ms_{n}": med("direct", n, 0) * ms for n in sizes})
        out.append(
            Metric(
                9,
                f"{prefix}large_output_turn_ratio",
                ratio,
                "x",
                baseline=1.0,
                baseline_name=f"direct SDK turn, {mid:,} lines",
                ratio=ratio,
                target="<= 1.2",
                met=ratio <= 1.2,
                n=len(r[side][mid]),
                note=f"{side.upper()}: a run_command call printing {mid:,} lines (~{mid * 81 / 1e6:.1f} MB)",
                extra=per_size,
            )
        )
        growth = med(side, mid, 2)
        out.append(
            Metric(
                9,
                f"{prefix}large_output_rss_growth_mb",
                growth,
                "MB",
                baseline=med("direct", mid, 2),
                baseline_name="the direct SDK process's, same turn",
                target="<= 50 MB",
                met=growth <= 50,
                n=len(r[side][mid]),
                note=f"the server's peak RSS during the turn over its RSS before, {mid:,} lines",
                extra={f"growth_mb_{n}": med(side, n, 2) for n in sizes if n in r[side]},
            )
        )
        measured = [n for n in sizes if n in r[side]]
        agy_cpu = [med(side, n, 1) for n in measured]
        direct_cpu = [med("direct", n, 1) for n in measured]
        cpu_slope, direct_slope = slope(measured, agy_cpu), slope(measured, direct_cpu)
        out.append(
            Metric(
                9,
                f"{prefix}large_output_cpu_slope",
                cpu_slope,
                "",
                baseline=direct_slope,
                baseline_name="the direct SDK process's CPU slope",
                ratio=cpu_slope - direct_slope,
                target="<= direct + 0.1 (no work of ours grows faster than the SDK's)",
                met=cpu_slope <= direct_slope + 0.1,
                n=len(measured),
                note=f"d log(server CPU) / d log(lines), {measured[0]:,} to {measured[-1]:,} lines; ratio = difference",
                extra={
                    "turn_time_slope": slope(measured, [med(side, n, 0) for n in measured]),
                    "direct_turn_time_slope": slope(measured, [med("direct", n, 0) for n in measured]),
                    **{f"server_cpu_s_{n}": c for n, c in zip(measured, agy_cpu, strict=True)},
                    **{f"direct_cpu_s_{n}": c for n, c in zip(measured, direct_cpu, strict=True)},
                },
            )
        )
    return out
