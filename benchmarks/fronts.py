"""One agent on each front-end, driven as an editor or host drives it, plus the
direct-SDK baseline process: everything the turn measurements share.

- `Lsp`: `agy/createAgent`, then `agy/chat`; chunks are `agy/chatChunk`.
- `Acp`: `session/new`, then `session/prompt`; chunks are `agent_message_chunk` updates.
- `Mcp`: `agy_run` opens a session, then `agy_reply` with a progress token; chunks
  are `notifications/progress` (the streamed text so far).

Each `turn()` returns `Turn(ttfc, total, chunks, probe)`: seconds from the request
to the first chunk and to the response as the client saw them, and, when the
server runs with probes (`bench_server.py`), the SDK's own span for this turn
(from the prompt handed to the SDK to its first text delta).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from benchmarks.client import LineClient, RpcClient
from benchmarks.common import PY, ROOT, server_env

AGY = [PY, "-m", "agy_lsp"]
BENCH = [PY, "-m", "benchmarks.bench_server"]


def backend(url: str) -> dict[str, Any]:
    return {"type": "openai", "baseUrl": url, "model": "x"}


def env_for(url: str | None = None, probes: str | None = None, **extra: str) -> dict[str, str]:
    env = server_env()
    if url:  # the server's default backend (ACP and MCP sessions use it)
        env.update(AGY_BACKEND="openai", AGY_BASE_URL=url, AGY_MODEL="x")
    if probes:
        env["AGY_BENCH_PROBES"] = probes
    env.update(extra)
    return env


@dataclass
class Turn:
    ttfc: float  # s, request -> first chunk (nan: none)
    total: float  # s, request -> response
    chunks: int
    sdk_ttfc: float | None = None  # s, the SDK's own span in this turn (probes)
    result: Any = None

    @property
    def overhead(self) -> float | None:
        """What the server added to this turn's first chunk (probes)."""
        return None if self.sdk_ttfc is None else self.ttfc - self.sdk_ttfc


class Probes:
    """The probe file of one server: the SDK span of each turn, in order."""

    def __init__(self) -> None:
        fd, self.path = tempfile.mkstemp(prefix="agy-bench-probes-")
        os.close(fd)
        self._pos = 0

    def take(self) -> list[float]:
        return [first - sent if sent and first else float("nan") for sent, first, _ in self.take_spans()]

    def take_spans(self) -> list[tuple[float, float, float]]:
        """(send, first text delta, end of the turn's steps) of each new turn."""
        with open(self.path) as f:
            f.seek(self._pos)
            data = f.read()
            self._pos = f.tell()
        out: list[tuple[float, float, float]] = []
        for line in data.splitlines():
            sent, first, end = (float(x) for x in line.split())
            out.append((sent, first, end))
        return out


def _argv(probes: bool) -> list[str]:
    return BENCH if probes else AGY


class Front:
    kind = ""
    client: Any
    probes: Probes | None = None
    agent = ""  # agent or session id

    async def turn(self, prompt: str = "go") -> Turn:
        raise NotImplementedError

    def _with_probe(self, t: Turn) -> Turn:
        if self.probes is not None:
            spans = self.probes.take()
            t.sdk_ttfc = spans[-1] if spans else None
        return t

    @property
    def pid(self) -> int:
        return self.client.pid

    async def close(self) -> None:
        await self.client.close()


class Lsp(Front):
    kind = "lsp"

    @classmethod
    async def open(
        cls, url: str, *, probes: bool = False, argv: list[str] | None = None, env: dict[str, str] | None = None, **spec: Any
    ) -> Lsp:
        self = cls()
        self.probes = Probes() if probes else None
        self.client = await RpcClient.spawn(argv or _argv(probes), env or env_for(probes=self.probes and self.probes.path))
        self.times: dict[str, list[float]] = {}
        self.client.handlers["agy/chatChunk"] = lambda p, now: self.times.setdefault(p["agentId"], []).append(now)
        await self.client.initialize()
        self.agent = await self.create(url, **spec)
        return self

    async def create(self, url: str, **spec: Any) -> str:
        return (await self.client.request("agy/createAgent", {"backend": backend(url), **spec}))["agentId"]

    async def turn(self, prompt: str = "go", agent: str | None = None) -> Turn:
        agent = agent or self.agent
        self.times[agent] = got = []
        t0 = time.perf_counter()
        result, t_end = await self.client.timed_request("agy/chat", {"agentId": agent, "prompt": prompt}, timeout=600)
        return self._with_probe(Turn(got[0] - t0 if got else float("nan"), t_end - t0, len(got), result=result))


class Acp(Front):
    kind = "acp"

    @classmethod
    async def open(cls, url: str, *, probes: bool = False, argv: list[str] | None = None, meta: dict[str, Any] | None = None) -> Acp:
        self = cls()
        self.probes = Probes() if probes else None
        self.client = await LineClient.spawn([*(argv or _argv(probes)), "--acp"], env_for(url, self.probes and self.probes.path))
        self.updates: list[tuple[float, dict[str, Any]]] = []
        self.client.handlers["session/update"] = lambda p, now: self.updates.append((now, p["update"]))
        await self.client.request("initialize", {"protocolVersion": 1, "clientCapabilities": {}})
        params: dict[str, Any] = {"cwd": ROOT, "mcpServers": []}
        if meta:
            params["_meta"] = {"agy": meta}
        self.agent = (await self.client.request("session/new", params))["sessionId"]
        await asyncio.sleep(0.1)  # the session's commands and model list follow its answer
        return self

    async def turn(self, prompt: str = "go") -> Turn:
        self.updates.clear()
        t0 = time.perf_counter()
        params = {"sessionId": self.agent, "prompt": [{"type": "text", "text": prompt}]}
        result, t_end = await self.client.timed_request("session/prompt", params, timeout=600)
        got = [now for now, u in self.updates if u.get("sessionUpdate") == "agent_message_chunk"]
        return self._with_probe(Turn(got[0] - t0 if got else float("nan"), t_end - t0, len(got), result=result))


class Mcp(Front):
    kind = "mcp"

    @classmethod
    async def open(cls, url: str, *, probes: bool = False, argv: list[str] | None = None) -> Mcp:
        self = cls()
        self.probes = Probes() if probes else None
        self.client = await LineClient.spawn([*(argv or _argv(probes)), "--mcp"], env_for(url, self.probes and self.probes.path))
        self.progress: list[float] = []
        self.client.handlers["notifications/progress"] = lambda p, now: self.progress.append(now)
        init = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "agy-bench", "version": "1"}}
        await self.client.request("initialize", init)
        self.client.notify("notifications/initialized", {})
        self._tokens = 0
        first = await self._call("agy_run", {"prompt": "go", "cwd": ROOT, "policy": "allowAll"})
        self.agent = first.result["structuredContent"]["sessionId"]
        return self

    async def _call(self, tool: str, args: dict[str, Any]) -> Turn:
        self.progress.clear()
        self._tokens += 1
        t0 = time.perf_counter()
        params = {"name": tool, "arguments": args, "_meta": {"progressToken": f"bench-{self._tokens}"}}
        result, t_end = await self.client.timed_request("tools/call", params, timeout=600)
        if result.get("isError"):
            raise RuntimeError(f"{tool} failed: {json.dumps(result)[:500]}")
        got = list(self.progress)
        return self._with_probe(Turn(got[0] - t0 if got else float("nan"), t_end - t0, len(got), result=result))

    async def turn(self, prompt: str = "go") -> Turn:
        return await self._call("agy_reply", {"sessionId": self.agent, "prompt": prompt})


FRONTS: dict[str, type[Lsp] | type[Acp] | type[Mcp]] = {"lsp": Lsp, "acp": Acp, "mcp": Mcp}


class Direct:
    """`benchmarks/direct.py`: the SDK without agy-lsp, in its own process."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.agents: list[int] = []

    @classmethod
    async def open(cls, url: str, n: int = 1) -> Direct:
        proc = await asyncio.create_subprocess_exec(
            PY, "-m", "benchmarks.direct", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT, env=server_env()
        )
        self = cls(proc)
        await self.start(url, n)
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def _ask(self, cmd: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(cmd).encode() + b"\n")
        line = await asyncio.wait_for(self.proc.stdout.readline(), 900)
        if not line:
            raise ConnectionError("the direct-SDK process exited")
        return json.loads(line)

    async def start(self, url: str, n: int = 1) -> list[int]:
        new = (await self._ask({"op": "start", "url": url, "n": n}))["agents"]
        self.agents += new
        return new

    async def turns(self, agents: list[int] | None = None, prompt: str = "go") -> list[Turn]:
        got = await self._ask({"op": "turn", "agents": agents if agents is not None else self.agents[:1], "prompt": prompt})
        return [Turn(*t) for t in got["turns"]]

    async def turn(self, agent: int = 0, prompt: str = "go") -> Turn:
        return (await self.turns([agent], prompt))[0]

    async def rss_kb(self) -> int:
        return (await self._ask({"op": "rss"}))["kb"]

    async def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 60)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
