"""Item 5, `agy-lsp run`: the one-shot command from the spawn of a fresh process.

- `run_first_chunk_ms`: spawn -> the first byte of the answer on stdout;
- `run_exit_ms`: spawn -> exit, for a one-line answer (the harness closed);

each against a direct SDK script doing the same in a fresh process (python, SDK
import, Agent start, chat, the chunks on stdout, Agent closed: `direct_run.py`),
on the same scripted model in its own process. The two are run alternately.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import time
from typing import Any

from benchmarks.common import PY, Config, Metric, median, p95
from benchmarks.fronts import AGY, env_for
from benchmarks.model_server import ModelProcess, script

ms = 1000.0
PAUSE = 0.3  # s between spawns, so one run's harness teardown does not slow the next


async def _timed(argv: list[str]) -> tuple[float, float]:
    """(first stdout byte, exit), ms from spawn."""
    loop = asyncio.get_running_loop()
    cwd = tempfile.mkdtemp(prefix="agy-bench-run-")
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd, env=env_for())  # noqa: ASYNC220
    assert p.stdout is not None
    first = await loop.run_in_executor(None, p.stdout.read, 1)
    t_first = time.perf_counter()
    await loop.run_in_executor(None, p.stdout.read)
    code = await loop.run_in_executor(None, p.wait)
    t_exit = time.perf_counter()
    if not first or code != 0:
        raise RuntimeError(f"{argv[2:4]} exited {code} with{'' if first else ' no'} output")
    return (t_first - t0) * ms, (t_exit - t0) * ms


def _run_cli(url: str) -> list[str]:
    return [*AGY, "run", "--backend", "openai", "--base-url", url, "--model", "x", "go"]


async def bench_run(cfg: Config) -> list[Metric]:
    r: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        r.setdefault(name, []).append(value)

    runs = cfg.startup_runs
    with ModelProcess({"m": script(5, 0, turns=4 * runs + 10)}) as model:
        url = model.urls["m"]
        sides: list[tuple[str, list[str]]] = [("run", _run_cli(url)), ("direct", [PY, "-m", "benchmarks.direct_run", url])]
        for i in range(runs + (0 if cfg.quick else 1)):
            for key, argv in sides if i % 2 else sides[::-1]:
                first, exited = await _timed(argv)
                if cfg.quick or i:  # the first round warms the page cache
                    add(f"{key}_first", first)
                    add(f"{key}_exit", exited)
                await asyncio.sleep(PAUSE)

    def metric(name: str, key: str, base: str, note: str, **kw: Any) -> Metric:
        v, b = median(r[key]), median(r[base])
        return Metric(
            5,
            name,
            v,
            "ms",
            baseline=b,
            baseline_name="direct SDK script: python + SDK import + Agent start + chat (direct_run.py)",
            p95=p95(r[key]),
            baseline_p95=p95(r[base]),
            target="<= 1.15x",
            met=v / b <= 1.15,
            n=len(r[key]),
            note=note,
            extra={"min_ms": min(r[key]), "baseline_min_ms": min(r[base]), "ratio_of_mins": min(r[key]) / min(r[base])},
            **kw,
        )

    return [
        metric("run_first_chunk_ms", "run_first", "direct_first", "agy-lsp run: spawn -> the first byte of the answer on stdout"),
        metric("run_exit_ms", "run_exit", "direct_exit", "agy-lsp run: spawn -> exit, one-line answer, harness closed"),
    ]
