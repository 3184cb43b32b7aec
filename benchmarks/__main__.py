"""`python -m benchmarks [--quick] [--only NAME ...] [--out DIR]`: run and write results.{json,md}."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import sys
import time
import traceback
from typing import Any

from benchmarks import concurrency, history, large, mcp_http, memory, plain, run_start, startup, suite, turns
from benchmarks.common import Config, Metric, config, machine

NAMES = ["startup", "run", "turns", "roundtrip", "history", "concurrency", "large", "pacing", "cancel", "memory", "plain", "mcp_http"]
ITEMS = {
    0: "Pacing",
    1: "Time to first chunk and whole turn (LSP, ACP, MCP)",
    2: "Chunk forwarding throughput",
    3: "Request round trip",
    4: "History at the limit",
    5: "Startup (the servers, and `agy-lsp run`)",
    6: "Concurrency",
    7: "Cancel latency",
    8: "Memory with hibernation",
    9: "Large outputs",
    10: "Standard LSP for plain clients (inline completion, code action progress)",
    11: "MCP over Streamable HTTP against stdio",
}


async def run_one(name: str, cfg: Config) -> list[Metric]:
    if name == "startup":
        return await startup.bench_startup(cfg)
    if name == "run":
        return await run_start.bench_run(cfg)
    if name == "turns":
        return await turns.bench_turns(cfg)
    if name == "roundtrip":
        return await suite.bench_roundtrip(cfg)
    if name == "history":
        enc = history.bench_history_encoding(cfg)
        return enc + await history.bench_history_request(cfg, enc[0].baseline or 0.0)
    if name == "concurrency":
        return await concurrency.bench_concurrency(cfg)
    if name == "large":
        return await large.bench_large(cfg)
    if name == "pacing":
        return await suite.bench_pacing(cfg)
    if name == "cancel":
        return await suite.bench_cancel(cfg)
    if name == "memory":
        return await memory.bench_hibernation(cfg)
    if name == "plain":
        return await plain.bench_plain(cfg)
    if name == "mcp_http":
        return await mcp_http.bench_mcp_http(cfg)
    raise ValueError(name)


async def run(names: list[str], cfg: Config) -> tuple[list[Metric], dict[str, Any]]:
    """One section after the other; in quick mode all at once (the figures are not the
    point there, that every benchmark still runs is)."""
    metrics: dict[str, list[Metric]] = {}
    info: dict[str, Any] = {}

    async def section(name: str) -> None:
        t0 = time.perf_counter()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        try:
            metrics[name] = await run_one(name, cfg)
            info[name] = {"seconds": round(time.perf_counter() - t0, 1)}
        except Exception as e:
            traceback.print_exc()
            info[name] = {"seconds": round(time.perf_counter() - t0, 1), "error": f"{type(e).__name__}: {e}"}
        print(f"[bench] {name} done in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)

    if cfg.quick:
        await asyncio.gather(*(section(name) for name in names))
    else:
        for name in names:
            await section(name)
    return [m for name in names for m in metrics.get(name, [])], {name: info[name] for name in names}


def _fmt(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        if math.isnan(x):
            return "n/a"
        return f"{x:.3g}" if abs(x) < 10 else f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.1f}"
    return str(x)


def render_md(m: dict[str, Any], metrics: list[Metric], info: dict[str, Any], cfg: Config, wall: float) -> str:
    lines = [
        "# agy-lsp benchmark results",
        "",
        f"- Machine: {m['host']} — {m['platform']}",
        f"- CPU: {m['cpu']}, {m['cores']} cores ({m['affinity_cores']} usable), {m['memory_mb']} MB RAM",
        f"- Python {m['python']}; google-antigravity {m['google-antigravity']}, pygls {m['pygls']}, "
        f"msgspec {m['msgspec']}, pydantic {m['pydantic']}",
        f"- Run: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {'quick' if cfg.quick else 'full'} mode, {wall:.0f} s wall time",
        "- Every figure is a median of repeated runs (n = samples); p95 where it matters. Baselines are measured in the same run.",
        "  See docs/performance.md for what each figure means.",
        "",
        "| # | metric | value | p95 | baseline | baseline is | ratio | target | met | n |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for x in sorted(metrics, key=lambda x: (x.item == 0, x.item)):
        met = "" if x.met is None else ("yes" if x.met else "**no**")
        lines.append(
            f"| {x.item or 'P'} | `{x.name}` | {_fmt(x.value)} {x.unit} | {_fmt(x.p95)} | {_fmt(x.baseline)} | {x.baseline_name} "
            f"| {_fmt(x.ratio)} | {x.target} | {met} | {x.n} |"
        )
    lines += ["", "## Details", ""]
    for x in sorted(metrics, key=lambda x: (x.item == 0, x.item)):
        if x.extra or x.note:
            extra = ", ".join(f"{k}={_fmt(v) if not isinstance(v, list) else [round(i, 1) for i in v]}" for k, v in x.extra.items())
            lines.append(f"- **{x.name}** ({ITEMS[x.item]}): {x.note}{'; ' if x.note and extra else ''}{extra}")
    errors = {k: v["error"] for k, v in info.items() if "error" in v}
    if errors:
        lines += ["", "## Errors", ""] + [f"- {k}: {v}" for k, v in errors.items()]
    lines += ["", "Section timings: " + ", ".join(f"{k} {v['seconds']} s" for k, v in info.items()), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks")
    p.add_argument("--quick", action="store_true", help="tiny sizes, one repetition")
    p.add_argument("--only", nargs="*", choices=NAMES, help="run only these")
    p.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)), help="directory for results.{json,md}")
    ns = p.parse_args(argv)
    cfg = config(ns.quick)
    names = ns.only or NAMES
    t0 = time.perf_counter()
    metrics, info = asyncio.run(run(names, cfg))
    wall = time.perf_counter() - t0
    m = machine()
    os.makedirs(ns.out, exist_ok=True)
    with open(os.path.join(ns.out, "results.json"), "w") as f:
        json.dump(
            {
                "machine": m,
                "mode": "quick" if cfg.quick else "full",
                "wall_seconds": round(wall, 1),
                "sections": info,
                "metrics": [dataclasses.asdict(x) for x in metrics],
            },
            f,
            indent=2,
            default=str,
        )
    with open(os.path.join(ns.out, "results.md"), "w") as f:
        f.write(render_md(m, metrics, info, cfg, wall))
    print(render_md(m, metrics, info, cfg, wall))
    return 1 if any("error" in v for v in info.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
