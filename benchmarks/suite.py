"""Round trip (item 3), pacing and cancel (item 7) over LSP; the shared LSP helpers. Each returns a list of Metrics."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator
from typing import Any

from benchmarks.client import RpcClient, RpcError
from benchmarks.common import PY, Config, Metric, median, p95, server_env
from benchmarks.model_server import ModelProcess, script

AGY = [PY, "-m", "agy_lsp"]
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


# ---------------------------------------------------------------- pacing


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
