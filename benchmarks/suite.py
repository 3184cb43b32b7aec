"""The seven measurements of issue 5. Each returns a list of Metrics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from typing import Any

from benchmarks.client import RpcClient, RpcError
from benchmarks.common import PY, ROOT, Config, Metric, harness_children, median, p95, rss_kb, server_env
from benchmarks.model_server import ModelProcess, script

AGY = [PY, "-m", "agy_lsp"]
BENCH_SERVER = [PY, "-m", "benchmarks.bench_server"]
PYGLS = [PY, "-m", "benchmarks.pygls_echo"]
ms = 1000.0


def backend(url: str) -> dict[str, Any]:
    return {"type": "openai", "baseUrl": url, "model": "x"}


class Chunks:
    """agy/chatChunk arrivals per agent."""

    def __init__(self, client: RpcClient) -> None:
        self.times: dict[str, list[float]] = {}
        client.handlers["agy/chatChunk"] = self._on

    def _on(self, params: Any, now: float) -> None:
        self.times.setdefault(params["agentId"], []).append(now)

    def reset(self, agent_id: str) -> None:
        self.times[agent_id] = []


@contextlib.asynccontextmanager
async def agy_server(argv: list[str] = AGY, pacing_ms: int = 0) -> AsyncIterator[RpcClient]:
    client = await RpcClient.spawn(argv, server_env(pacing_ms=pacing_ms))
    try:
        await client.initialize()
        yield client
    finally:
        await client.close()


async def create(client: RpcClient, url: str) -> str:
    return (await client.request("agy/createAgent", {"backend": backend(url)}))["agentId"]


async def agy_turn(client: RpcClient, chunks: Chunks, agent_id: str) -> tuple[float, float, int]:
    """(ttfc s, turn s, chunks received)."""
    chunks.reset(agent_id)
    t0 = time.perf_counter()
    _, t_end = await client.timed_request("agy/chat", {"agentId": agent_id, "prompt": "go"})
    got = chunks.times[agent_id]
    return (got[0] - t0 if got else float("nan")), t_end - t0, len(got)


@contextlib.asynccontextmanager
async def direct_agent(url: str) -> AsyncIterator[Any]:
    from google.antigravity import Agent, LocalOpenAIAgentConfig
    from google.antigravity.hooks import policy

    tmp = tempfile.mkdtemp(prefix="agy-bench-direct-")
    async with Agent(
        LocalOpenAIAgentConfig(model="x", base_url=url, policies=[policy.allow_all()], save_dir=tmp, app_data_dir=tmp)
    ) as agent:
        yield agent


async def direct_turn(agent: Any) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    first = None
    n = 0
    response = await agent.chat("go")
    async for _ in response.chunks:
        if first is None:
            first = time.perf_counter()
        n += 1
    return (first - t0 if first else float("nan")), time.perf_counter() - t0, n


# ---------------------------------------------------------------- 1 + 2: turns


async def bench_turns(cfg: Config) -> list[Metric]:
    warm = 1 if cfg.quick else 3
    burst_reps = 1 if cfg.quick else 3
    scripts = {"turn": script(cfg.turn_chunks, 1), "burst": script(cfg.burst_chunks, 0)}
    out: list[Metric] = []
    with ModelProcess(scripts) as model:
        async with agy_server() as client, direct_agent(model.urls["turn"]) as d_turn, direct_agent(model.urls["burst"]) as d_burst:
            chunks = Chunks(client)
            a_turn = await create(client, model.urls["turn"])
            a_burst = await create(client, model.urls["burst"])
            agy: list[tuple[float, float, int]] = []
            direct: list[tuple[float, float, int]] = []
            for i in range(warm + cfg.reps):  # interleaved, so drift hits both sides
                a, d = await agy_turn(client, chunks, a_turn), await direct_turn(d_turn)
                if i >= warm:
                    agy.append(a)
                    direct.append(d)
            a_ttfc, d_ttfc = [x[0] * ms for x in agy], [x[0] * ms for x in direct]
            a_tot, d_tot = [x[1] * ms for x in agy], [x[1] * ms for x in direct]
            out.append(
                Metric(
                    1,
                    "ttfc_overhead_ms",
                    median(a_ttfc) - median(d_ttfc),
                    "ms",
                    baseline=0.0,
                    baseline_name="direct SDK ttfc (same run)",
                    ratio=median(a_ttfc) / median(d_ttfc),
                    p95=p95(a_ttfc) - p95(d_ttfc),
                    target="<= 2 ms at p50",
                    met=median(a_ttfc) - median(d_ttfc) <= 2,
                    n=len(agy),
                    extra={
                        "agy_ttfc_p50_ms": median(a_ttfc),
                        "agy_ttfc_p95_ms": p95(a_ttfc),
                        "direct_ttfc_p50_ms": median(d_ttfc),
                        "direct_ttfc_p95_ms": p95(d_ttfc),
                    },
                )
            )
            out.append(
                Metric(
                    1,
                    "turn_ratio",
                    median(a_tot) / median(d_tot),
                    "x",
                    baseline=1.0,
                    baseline_name="direct SDK turn (same run)",
                    ratio=median(a_tot) / median(d_tot),
                    p95=p95(a_tot) / p95(d_tot),
                    target="<= 1.10",
                    met=median(a_tot) / median(d_tot) <= 1.10,
                    n=len(agy),
                    extra={
                        "agy_turn_p50_ms": median(a_tot),
                        "agy_turn_p95_ms": p95(a_tot),
                        "direct_turn_p50_ms": median(d_tot),
                        "direct_turn_p95_ms": p95(d_tot),
                        "agy_chunks_p50": median([x[2] for x in agy]),
                        "direct_chunks_p50": median([x[2] for x in direct]),
                        "script": f"{cfg.turn_chunks} deltas, 1 ms apart",
                    },
                )
            )
            # 2: a turn of burst_chunks deltas with no delay, end to end through the SDK
            rates: list[float] = []
            d_rates: list[float] = []
            a_turns: list[float] = []
            d_turns: list[float] = []
            counts: list[int] = []
            d_counts: list[int] = []
            await agy_turn(client, chunks, a_burst)
            await direct_turn(d_burst)
            for _ in range(burst_reps):
                _, tot, n = await agy_turn(client, chunks, a_burst)
                times = chunks.times[a_burst]
                rates.append((n - 1) / (times[-1] - times[0]) if n > 1 else float("nan"))
                a_turns.append(tot)
                counts.append(n)
                t0 = time.perf_counter()
                _, dtot, dn = await direct_turn(d_burst)
                d_rates.append(dn / max(1e-9, dtot))
                d_turns.append(time.perf_counter() - t0)
                d_counts.append(dn)
            per_chunk = (median(a_turns) - median(d_turns)) / max(1, median(counts)) * 1e6
            out.append(
                Metric(
                    2,
                    "sdk_chunks_per_s",
                    median(rates),
                    "notif/s",
                    baseline=median(d_rates),
                    baseline_name="direct SDK chunks/s",
                    target="(context: bounded by the SDK harness)",
                    n=burst_reps,
                    extra={
                        "agy_chunks": median(counts),
                        "direct_chunks": median(d_counts),
                        "agy_turn_ms": median(a_turns) * ms,
                        "direct_turn_ms": median(d_turns) * ms,
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
                    ratio=median(a_turns) / median(d_turns),
                    target="<= 50 us",
                    met=per_chunk <= 50,
                    n=burst_reps,
                    note="(agy turn - direct turn) / chunks delivered",
                )
            )
    # forwarding capacity of the server's own path (SDK harness taken out of the loop)
    async with agy_server(BENCH_SERVER) as client:
        with ModelProcess({"m": script(5, 0)}) as model:
            chunks = Chunks(client)
            agent = await create(client, model.urls["m"])
            cap: list[float] = []
            for i in range(warm + burst_reps):
                chunks.reset(agent)
                t0 = time.perf_counter()
                await client.request("bench/burst", {"agentId": agent, "n": cfg.burst_chunks})
                times = chunks.times[agent]
                if i >= warm:
                    cap.append(len(times) / (times[-1] - t0))
            out.append(
                Metric(
                    2,
                    "forwarding_chunks_per_s",
                    median(cap),
                    "notif/s",
                    target=">= 20000",
                    met=median(cap) >= 20000,
                    n=burst_reps,
                    note="session._stream -> chatChunk -> stdout -> client, SDK steps fed one per loop tick",
                )
            )
    return out


# ---------------------------------------------------------------- 3: round trip


async def bench_roundtrip(cfg: Config) -> list[Metric]:
    async def loop(client: RpcClient, method: str, params: Any, n: int) -> list[float]:
        xs: list[float] = []
        for _ in range(n):
            t0 = time.perf_counter()
            await client.request(method, params)
            xs.append((time.perf_counter() - t0) * 1e6)
        return xs

    with ModelProcess({"m": script(5, 0)}) as model:
        async with agy_server() as agy, agy_server(PYGLS) as bare:
            agent = await create(agy, model.urls["m"])
            a: list[float] = []
            b: list[float] = []
            block = max(1, cfg.roundtrips // 10)
            await loop(agy, "agy/status", {"agentId": agent}, 50)
            await loop(bare, "bench/echo", {"agentId": agent}, 50)
            for _ in range(max(1, cfg.roundtrips // block)):
                a += await loop(agy, "agy/status", {"agentId": agent}, block)
                b += await loop(bare, "bench/echo", {"agentId": agent}, block)
    return [
        Metric(
            3,
            "roundtrip_ratio",
            median(a) / median(b),
            "x",
            baseline=1.0,
            baseline_name="bare pygls echo",
            ratio=median(a) / median(b),
            p95=p95(a) / p95(b),
            target="<= 1.3",
            met=median(a) / median(b) <= 1.3,
            n=len(a),
            extra={
                "agy_status_p50_us": median(a),
                "agy_status_p95_us": p95(a),
                "pygls_echo_p50_us": median(b),
                "pygls_echo_p95_us": p95(b),
            },
        )
    ]


# ---------------------------------------------------------------- 4: history


def bench_history_encoding(cfg: Config) -> list[Metric]:
    import msgspec
    import pydantic
    from google.antigravity import types as sdk

    from agy_lsp.protocol.types import HistoryResult
    from agy_lsp.sdk import to_wire
    from benchmarks.steps import make_steps

    steps = make_steps(cfg.history_steps)
    adapter = pydantic.TypeAdapter(list[sdk.Step])

    def agy() -> bytes:
        return msgspec.json.encode(HistoryResult(steps=[to_wire.step(s) for s in steps], total=len(steps)))

    def dump_json() -> bytes:
        return b'{"steps":[' + b",".join(s.model_dump_json().encode() for s in steps) + b'],"total":%d}' % len(steps)

    def dump() -> bytes:
        return json.dumps({"steps": [s.model_dump(mode="json") for s in steps], "total": len(steps)}).encode()

    def adapter_json() -> bytes:
        return adapter.dump_json(steps)

    reps = 1 if cfg.quick else 7
    times: dict[str, list[float]] = {}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(reps + 1):
            for name, fn in (("agy", agy), ("model_dump_json", dump_json), ("model_dump", dump), ("typeadapter", adapter_json)):
                t0 = time.perf_counter()
                fn()
                times.setdefault(name, []).append((time.perf_counter() - t0) * ms)
    t = {k: median(v[1:] if len(v) > 1 else v) for k, v in times.items()}
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
            note=f"{len(steps)} steps; ratio = speed-up",
            extra={
                "model_dump_ms": t["model_dump"],
                "speedup_vs_model_dump": t["model_dump"] / t["agy"],
                "typeadapter_dump_json_ms": t["typeadapter"],
                "speedup_vs_typeadapter": t["typeadapter"] / t["agy"],
            },
        ),
    ]


async def bench_history_request(cfg: Config, encode_baseline_ms: float) -> list[Metric]:
    with ModelProcess({"m": script(5, 0)}) as model:
        async with agy_server(BENCH_SERVER) as client:
            agent = await create(client, model.urls["m"])
            await client.request("bench/seedHistory", {"agentId": agent, "n": cfg.history_steps})
            xs: list[float] = []
            size = 0
            for i in range((1 if cfg.quick else 7) + 1):
                t0 = time.perf_counter()
                result = await client.request("agy/history", {"agentId": agent})
                if i:
                    xs.append((time.perf_counter() - t0) * ms)
                size = len(result["steps"])
    return [
        Metric(
            4,
            "history_request_ms",
            median(xs),
            "ms",
            baseline=encode_baseline_ms,
            baseline_name="pydantic model_dump_json alone, in-process",
            p95=p95(xs),
            target="< 50 ms",
            met=median(xs) < 50,
            n=len(xs),
            note=f"agy/history over stdio, {size} steps, client decode included",
        )
    ]


# ---------------------------------------------------------------- 5: startup


async def bench_startup(cfg: Config) -> list[Metric]:
    init: list[float] = []
    bare: list[float] = []
    ready: list[float] = []
    direct: list[float] = []
    with ModelProcess({"m": script(5, 0)}) as model:
        url = model.urls["m"]
        for _ in range(cfg.startup_runs):
            c = await RpcClient.spawn(AGY, server_env())
            t = await c.initialize()
            init.append((t - c.spawned_at) * ms)
            await create(c, url)
            ready.append((time.perf_counter() - c.spawned_at) * ms)
            await c.close()
            c = await RpcClient.spawn(PYGLS, server_env())
            t = await c.initialize()
            bare.append((t - c.spawned_at) * ms)
            await c.close()
            t0 = time.perf_counter()
            p = subprocess.Popen(  # noqa: ASYNC220 - timed from spawn; the read runs in an executor
                [PY, "-m", "benchmarks.direct_start", url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, text=True
            )
            assert p.stdout is not None and p.stdin is not None
            await asyncio.get_running_loop().run_in_executor(None, p.stdout.readline)
            direct.append((time.perf_counter() - t0) * ms)
            p.stdin.close()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    return [
        Metric(
            5,
            "initialize_ms",
            median(init),
            "ms",
            baseline=median(bare),
            baseline_name="bare pygls spawn->initialize",
            p95=p95(init),
            baseline_p95=p95(bare),
            target="< 300 ms",
            met=median(init) < 300,
            n=len(init),
        ),
        Metric(
            5,
            "first_agent_ready_ms",
            median(ready),
            "ms",
            baseline=median(direct),
            baseline_name="python + SDK import + Agent start, direct",
            p95=p95(ready),
            baseline_p95=p95(direct),
            n=len(ready),
            note="spawn -> initialize -> createAgent response",
        ),
    ]


# ---------------------------------------------------------------- 6: concurrency + pacing


def harness_rss_kb(server_pid: int) -> tuple[int, int]:
    kids = harness_children(server_pid)
    return sum(rss_kb(p) for p in kids), len(kids)


async def bench_concurrency(cfg: Config) -> list[Metric]:
    out: list[Metric] = []
    with ModelProcess({"m": script(cfg.turn_chunks, 1, turns=2000)}) as model:
        url = model.urls["m"]
        async with agy_server() as client:
            chunks = Chunks(client)
            agents: list[str] = []
            single: list[float] = []
            for n in cfg.agent_counts:
                agents += await asyncio.gather(*(create(client, url) for _ in range(n - len(agents))))
                for a in agents:  # warm every agent once
                    await agy_turn(client, chunks, a)
                lat: list[float] = []
                rounds = cfg.rounds * (5 if n == 1 else 1)
                for _ in range(rounds):
                    results = await asyncio.gather(*(agy_turn(client, chunks, a) for a in agents[:n]))
                    lat += [r[1] * ms for r in results]
                if n == 1:
                    single = lat
                h_rss, h_n = harness_rss_kb(client.pid)
                server_mb = rss_kb(client.pid) / 1024
                top = n == max(cfg.agent_counts)
                out.append(
                    Metric(
                        6,
                        f"turn_latency_p95_{n}_agents_ms",
                        p95(lat),
                        "ms",
                        baseline=p95(single),
                        baseline_name="single agent p95",
                        p95=p95(lat),
                        target="<= 1.5x single" if top else "",
                        met=(p95(lat) / p95(single) <= 1.5) if top else None,
                        n=len(lat),
                        extra={
                            "p50_ms": median(lat),
                            "single_p50_ms": median(single),
                            "server_rss_mb": server_mb,
                            "harness_rss_mb_per_agent": h_rss / 1024 / max(1, h_n),
                            "harnesses": h_n,
                        },
                    )
                )
                if top:
                    out.append(
                        Metric(
                            6,
                            f"server_rss_{n}_agents_mb",
                            server_mb,
                            "MB",
                            target="<= 150 MB",
                            met=server_mb <= 150,
                            n=1,
                            note="the server process alone (harnesses excluded)",
                        )
                    )
                    out.append(
                        Metric(
                            6,
                            "harness_rss_per_agent_mb",
                            h_rss / 1024 / max(1, h_n),
                            "MB",
                            n=h_n,
                            note="localharness children of the server",
                        )
                    )
        # the same load on the SDK in-process: what this machine allows at all
        n = max(cfg.agent_counts)
        async with contextlib.AsyncExitStack() as stack:
            direct = [await stack.enter_async_context(direct_agent(url)) for _ in range(n)]
            await asyncio.gather(*(direct_turn(a) for a in direct))
            d_single: list[float] = []
            for _ in range(cfg.rounds * 5):
                d_single.append((await direct_turn(direct[0]))[1] * ms)
            d_lat: list[float] = []
            for _ in range(cfg.rounds):
                d_lat += [r[1] * ms for r in await asyncio.gather(*(direct_turn(a) for a in direct))]
        out.append(
            Metric(
                6,
                f"direct_sdk_turn_latency_p95_{n}_agents_ms",
                p95(d_lat),
                "ms",
                baseline=p95(d_single),
                baseline_name="direct SDK single agent p95",
                p95=p95(d_lat),
                n=len(d_lat),
                note="context: the same concurrency without agy-lsp",
                extra={"p50_ms": median(d_lat), "single_p50_ms": median(d_single)},
            )
        )
    return out


async def bench_pacing(cfg: Config) -> list[Metric]:
    """A burst of chat starts across agents, default 500 ms pacing vs none."""
    result: dict[int, list[float]] = {}
    with ModelProcess({"m": script(cfg.turn_chunks, 1, turns=500)}) as model:
        for pacing in (0, 500):
            async with agy_server(pacing_ms=pacing) as client:
                chunks = Chunks(client)
                agents = await asyncio.gather(*(create(client, model.urls["m"]) for _ in range(cfg.pacing_agents)))
                await asyncio.sleep(0.6)
                res = await asyncio.gather(*(agy_turn(client, chunks, a) for a in agents))
                result[pacing] = [r[0] * ms for r in res]
    return [
        Metric(
            0,
            "pacing_burst_last_ttfc_ms",
            max(result[500]),
            "ms",
            baseline=max(result[0]),
            baseline_name="same burst, AGY_PACING_MS=0",
            n=cfg.pacing_agents,
            note=f"{cfg.pacing_agents} agents start a chat at once; default pacing 500 ms spaces model requests",
            extra={"ttfc_sorted_ms_paced": sorted(result[500]), "ttfc_sorted_ms_unpaced": sorted(result[0])},
        )
    ]


# ---------------------------------------------------------------- 7: cancel


async def bench_cancel(cfg: Config) -> list[Metric]:
    resp: list[float] = []
    idle: list[float] = []
    d_resp: list[float] = []
    d_idle: list[float] = []
    long = 400 if cfg.quick else 3000
    with ModelProcess({"m": script(long, 1)}) as model:
        async with agy_server() as client:
            chunks = Chunks(client)
            agent = await create(client, model.urls["m"])
            for _ in range(cfg.cancel_runs):
                chunks.reset(agent)
                msg_id, fut = client.send_request("agy/chat", {"agentId": agent, "prompt": "go"})
                while len(chunks.times[agent]) < 5:
                    await asyncio.sleep(0.002)
                await asyncio.sleep(0.1)
                t0 = time.perf_counter()
                client.notify("$/cancelRequest", {"id": msg_id})
                try:
                    await asyncio.wait_for(fut, 30)
                except RpcError:
                    pass
                resp.append((time.perf_counter() - t0) * ms)
                while True:
                    st = await client.request("agy/status", {"agentId": agent})
                    if st["idle"] and st["state"] == "idle":
                        break
                    await asyncio.sleep(0.001)
                idle.append((time.perf_counter() - t0) * ms)
        async with direct_agent(model.urls["m"]) as agent:
            for _ in range(cfg.cancel_runs):
                got = asyncio.Event()
                response = await agent.chat("go")

                async def consume(response: Any = response, got: asyncio.Event = got) -> None:
                    from google.antigravity.types import AntigravityCancelledError

                    n = 0
                    with contextlib.suppress(Exception, AntigravityCancelledError):
                        async for _ in response.chunks:
                            n += 1
                            if n >= 5:
                                got.set()

                task = asyncio.ensure_future(consume())
                await got.wait()
                await asyncio.sleep(0.1)
                t0 = time.perf_counter()
                await agent.conversation.cancel()
                await task
                d_resp.append((time.perf_counter() - t0) * ms)
                await agent.conversation.wait_for_idle()
                d_idle.append((time.perf_counter() - t0) * ms)
    return [
        Metric(
            7,
            "cancel_response_ms",
            median(resp),
            "ms",
            baseline=median(d_resp),
            baseline_name="direct SDK conversation.cancel() -> chunks end",
            p95=p95(resp),
            baseline_p95=p95(d_resp),
            target="< 100 ms",
            met=median(resp) < 100,
            n=len(resp),
        ),
        Metric(
            7,
            "cancel_to_idle_ms",
            median(idle),
            "ms",
            baseline=median(d_idle),
            baseline_name="direct SDK cancel -> wait_for_idle",
            p95=p95(idle),
            baseline_p95=p95(d_idle),
            n=len(idle),
        ),
    ]
