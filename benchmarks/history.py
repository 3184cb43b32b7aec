"""Item 4: history at the limit (10,000 realistic SDK steps).

- `history_encode_ms`: what the server does for a history request, in-process: the
  conversation's steps as wire Steps (`HistoryView`, which converts each SDK step
  once and keeps it) and `msgspec` encoding of the `HistoryResult`, against pydantic's
  own `Step.model_dump_json` per step. The first conversion (cold) is reported too.
- `history_after_turn_ms`: the same view after one more turn (its ~35 streamed
  snapshots), against converting the whole history: the cost follows the new steps.
- `history_request_ms`: the whole `agy/history` request over stdio, client decode
  included (the 10k steps seeded into a live agent with `bench/seedHistory`).
- `acp_replay_after_turn_ms` / `acp_load_ms`: the same for ACP `session/load`, whose
  replay turns each step into `session/update`s (`updates.Replay`), and the whole
  load over stdio until its answer (every update sent before it).
"""

from __future__ import annotations

import gc
import json
import time
import warnings
from collections.abc import Callable
from typing import Any

from benchmarks.client import RpcError
from benchmarks.common import Config, Metric, median, p95
from benchmarks.fronts import BENCH, Acp, Lsp
from benchmarks.model_server import ModelProcess, script

ms = 1000.0


def _time(fn: Callable[[], Any], reps: int = 1) -> list[float]:
    """ms per call; like timeit, the garbage collector neither runs during a call nor
    charges one call for another's garbage."""
    out = []
    for _ in range(reps):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * ms)
        finally:
            gc.enable()
    return out


def bench_history_encoding(cfg: Config) -> list[Metric]:
    import msgspec
    import pydantic
    from google.antigravity import types as sdk

    from agy_lsp.acp.updates import Replay
    from agy_lsp.protocol.types import HistoryResult
    from agy_lsp.sdk.history import HistoryView
    from benchmarks.steps import make_steps, turn_snapshots

    steps = make_steps(cfg.history_steps)
    reps = 1 if cfg.quick else 7
    adapter = pydantic.TypeAdapter(list[sdk.Step])
    warm = HistoryView()
    warm.steps(steps)

    def encode(view: HistoryView) -> bytes:
        wire = view.steps(steps)
        return msgspec.json.encode(HistoryResult(steps=wire, total=len(wire)))

    def dump_json() -> bytes:
        return b'{"steps":[' + b",".join(s.model_dump_json().encode() for s in steps) + b'],"total":%d}' % len(steps)

    def dump() -> bytes:
        return json.dumps({"steps": [s.model_dump(mode="json") for s in steps], "total": len(steps)}).encode()

    times: dict[str, list[float]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # usage_metadata is a deprecated field
        for _ in range(reps + 1):
            for name, fn in (
                ("agy", lambda: encode(warm)),
                ("cold", lambda: encode(HistoryView())),
                ("model_dump_json", dump_json),
                ("model_dump", dump),
                ("typeadapter", lambda: adapter.dump_json(steps)),
            ):
                times.setdefault(name, []).extend(_time(fn, 1))
    t = {k: median(v[1:] if len(v) > 1 else v) for k, v in times.items()}

    # one more turn: the view of the same conversation after it, against a full conversion
    after: list[float] = []
    full: list[float] = []
    replay_after: list[float] = []
    replay_full: list[float] = []
    total = len(steps)
    for _ in range(reps):
        history = list(steps)
        view, replay = HistoryView(), Replay()
        replay.updates(view.steps(history))
        history += turn_snapshots(len(steps))
        wire: list[Any] = []
        fresh: list[Any] = []
        after += _time(lambda v=view, h=history, w=wire: w.extend(v.steps(h)))
        replay_after += _time(lambda r=replay, w=wire: r.updates(w))
        full += _time(lambda h=history, f=fresh: f.extend(HistoryView().steps(h)))
        replay_full += _time(lambda f=fresh: Replay().updates(f))
        total = len(wire)
    new_steps = total - len(steps)
    return [
        Metric(
            4,
            "history_encode_ms",
            t["agy"],
            "ms",
            baseline=t["model_dump_json"],
            baseline_name="pydantic Step.model_dump_json per step",
            ratio=t["model_dump_json"] / t["agy"],
            target=">= 5x faster",
            met=t["model_dump_json"] / t["agy"] >= 5,
            n=reps,
            note=f"{len(steps)} steps: the server's converted steps (each converted once) + msgspec; ratio = speed-up",
            extra={
                "cold_convert_and_encode_ms": t["cold"],
                "cold_speedup": t["model_dump_json"] / t["cold"],
                "model_dump_ms": t["model_dump"],
                "speedup_vs_model_dump": t["model_dump"] / t["agy"],
                "typeadapter_dump_json_ms": t["typeadapter"],
                "speedup_vs_typeadapter": t["typeadapter"] / t["agy"],
            },
        ),
        Metric(
            4,
            "history_after_turn_ms",
            median(after),
            "ms",
            baseline=median(full),
            baseline_name="converting the whole history",
            target="<= 0.05 x (follows the new steps)",
            met=median(after) <= 0.05 * median(full),
            n=reps,
            note=f"{len(steps)} steps + one more turn ({new_steps} steps, 35 snapshots)",
            extra={"share_of_new_steps": new_steps / total},
        ),
        Metric(
            4,
            "acp_replay_after_turn_ms",
            median(replay_after),
            "ms",
            baseline=median(replay_full),
            baseline_name="replaying the whole history",
            target="<= 0.05 x (follows the new steps)",
            met=median(replay_after) <= 0.05 * median(replay_full),
            n=reps,
            note=f"session/load's updates for {len(steps)} steps + one more turn",
        ),
    ]


async def bench_history_request(cfg: Config, encode_baseline_ms: float) -> list[Metric]:
    """`agy/history` over stdio (10k steps seeded into a live agent), and ACP `session/load`."""
    reps = 1 if cfg.quick else 7
    with ModelProcess({"lsp": script(5, 0), "acp": script(5, 0)}) as model:
        lsp = await Lsp.open(model.urls["lsp"], argv=BENCH)
        try:
            await lsp.client.request("bench/seedHistory", {"agentId": lsp.agent, "n": cfg.history_steps})
            xs: list[float] = []
            size = 0
            first = 0.0
            for i in range(reps + 1):
                t0 = time.perf_counter()
                result = await lsp.client.request("agy/history", {"agentId": lsp.agent})
                if i:
                    xs.append((time.perf_counter() - t0) * ms)
                else:
                    first = (time.perf_counter() - t0) * ms
                size = len(result["steps"])
            await lsp.turn()
            t0 = time.perf_counter()
            await lsp.client.request("agy/history", {"agentId": lsp.agent})
            after_turn = (time.perf_counter() - t0) * ms
        finally:
            await lsp.close()
        acp = await Acp.open(model.urls["acp"], argv=BENCH)
        try:
            await acp.turn()  # the harness starts with the first prompt
            await acp.client.request("_bench/seedHistory", {"sessionId": acp.agent, "n": cfg.history_steps})
            loads: list[float] = []
            updates = 0
            for i in range(3 if cfg.quick else 4):
                if i == 2:
                    await acp.turn()
                acp.updates.clear()
                t0 = time.perf_counter()
                try:
                    await acp.client.request("session/load", {"sessionId": acp.agent, "cwd": "/", "mcpServers": []}, timeout=600)
                except RpcError as e:
                    raise RuntimeError(f"session/load: {e}") from e
                loads.append((time.perf_counter() - t0) * ms)
                updates = len(acp.updates)
        finally:
            await acp.close()
    return [
        Metric(
            4,
            "history_request_ms",
            median(xs),
            "ms",
            baseline=encode_baseline_ms,
            baseline_name="pydantic model_dump_json alone, in-process",
            p95=p95(xs),
            target="<= 50 ms",
            met=median(xs) <= 50,
            n=len(xs),
            note=f"agy/history over stdio, {size} steps, client decode included",
            extra={"first_request_ms": first, "after_one_more_turn_ms": after_turn},
        ),
        Metric(
            4,
            "acp_load_ms",
            loads[1],
            "ms",
            baseline=loads[0],
            baseline_name="the first load (every step converted)",
            n=1,
            note=f"session/load over stdio until its answer, {updates} session/updates replayed first",
            extra={"after_one_more_turn_ms": loads[2], "again_ms": loads[3] if len(loads) > 3 else float("nan")},
        ),
    ]
