"""A long agy_run survives the host's reconnect: the HTTP connection drops mid-turn,
the host comes back with `Last-Event-ID`, and gets the rest of the progress and the
result, each exactly once (the event store, agy_lsp/mcp/events.py). A host that never
comes back: its session ends after the grace period, and its turn with it.

Raw HTTP (httpx2), so the test decides exactly when the connection drops."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from tests.helpers import harness_children, pid_alive
from tests.mcp_front.conftest import http_server, stop_http
from tests.mcp_front.test_http_security import HEADERS, INIT, env_for

pytestmark = pytest.mark.asyncio

WORDS = 60
LONG = {"text": "word " * WORDS, "chunkDelayMs": 60}  # about 3.6 s of streaming


async def events(response: httpx2.Response) -> AsyncIterator[tuple[str | None, dict[str, Any] | None]]:
    """(event id, JSON-RPC message or None for a priming event) of an SSE response."""
    event_id, data = None, ""
    async for line in response.aiter_lines():
        if line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif line == "":
            if event_id is not None or data:
                yield event_id, json.loads(data) if data else None
            event_id, data = None, ""


class Wire:
    def __init__(self, http: httpx2.AsyncClient, url: str, token: str) -> None:
        self.http, self.url = http, url
        self.headers = {**HEADERS, "Authorization": f"Bearer {token}", "MCP-Protocol-Version": "2025-11-25"}

    async def open(self) -> None:
        async with self.http.stream("POST", self.url, headers=self.headers, json=INIT) as r:
            assert r.status_code == 200
            self.headers["Mcp-Session-Id"] = r.headers["mcp-session-id"]
            async for _ in events(r):
                pass
        r = await self.http.post(self.url, headers=self.headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert r.status_code == 202


def run_request(**args: Any) -> dict[str, Any]:
    params = {"name": "agy_run", "arguments": {"prompt": "long", **args}, "_meta": {"progressToken": "p"}}
    return {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": params}


async def test_a_dropped_connection_resumes_with_the_rest_and_the_result_exactly_once(model: ScriptedModel, tmp_path: Path) -> None:
    token = secrets.token_urlsafe(24)
    env = env_for(model, tmp_path, AGY_TOKEN=token)
    url, state = model.register(parse_script({"replies": [LONG]}), name=f"long-{secrets.token_hex(4)}")
    env["AGY_BASE_URL"] = url
    (tmp_path / "work").mkdir()
    proc, endpoint = await http_server(env, tmp_path, str(tmp_path / "work"))
    try:
        async with httpx2.AsyncClient(timeout=60) as http:
            wire = Wire(http, endpoint, token)
            await wire.open()
            before: list[tuple[str | None, dict[str, Any] | None]] = []
            async with http.stream("POST", endpoint, headers=wire.headers, json=run_request()) as r:
                async for event in events(r):
                    before.append(event)
                    if sum(1 for _, m in before if m and m.get("method") == "notifications/progress") >= 2:
                        break  # the connection drops mid-turn
            assert not any(m and m.get("id") == 2 for _, m in before), "the turn ended before the drop: make it longer"
            last_id = before[-1][0]
            assert last_id is not None

            await asyncio.sleep(0.5)  # more happens while the host is away
            after: list[tuple[str | None, dict[str, Any] | None]] = []
            async with http.stream("GET", endpoint, headers={**wire.headers, "Last-Event-ID": last_id}) as r:
                assert r.status_code == 200
                async for event in events(r):
                    after.append(event)
                    if event[1] and event[1].get("id") == 2:
                        break
    finally:
        await stop_http(proc)

    ids = [i for i, _ in before + after if i is not None]
    assert len(ids) == len(set(ids)), "an event was delivered twice"
    results = [m for _, m in after if m and m.get("id") == 2]
    assert len(results) == 1
    assert results[0]["result"]["structuredContent"]["text"] == LONG["text"]
    progress = [m["params"]["progress"] for _, m in before + after if m and m.get("method") == "notifications/progress"]
    assert progress == sorted(set(progress)) and len(progress) > 2  # the rest came, in order, none twice
    assert [m for _, m in after if m and m.get("method") == "notifications/progress"], "no progress after the reconnect"
    assert len(state.requests) == 1  # one turn: the reconnect did not run it again


async def call(http: httpx2.AsyncClient, wire: Wire, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": tool, "arguments": args}}
    async with http.stream("POST", wire.url, headers=wire.headers, json=body) as r:
        async for _, message in events(r):
            if message and message.get("id") == 7:
                return message["result"]["structuredContent"]
    raise AssertionError("no result")


async def test_a_host_that_never_comes_back_has_its_turn_cancelled_after_the_grace(model: ScriptedModel, tmp_path: Path) -> None:
    token = secrets.token_urlsafe(24)
    env = env_for(model, tmp_path, AGY_TOKEN=token)
    endless = {"text": "word " * 300, "chunkDelayMs": 60}  # 18 s, far longer than the grace
    url, state = model.register(parse_script({"replies": [endless, {"text": "next"}]}), name=f"away-{secrets.token_hex(4)}")
    env["AGY_BASE_URL"] = url
    (tmp_path / "work").mkdir()
    proc, endpoint = await http_server(env, tmp_path, str(tmp_path / "work"), "--grace-secs", "1")
    try:
        async with httpx2.AsyncClient(timeout=60) as http:
            gone, watcher = Wire(http, endpoint, token), Wire(http, endpoint, token)
            await gone.open()
            async with http.stream("POST", endpoint, headers=gone.headers, json=run_request()) as r:
                async for _, message in events(r):
                    if message and message.get("method") == "notifications/progress":
                        break  # gone, for good
            await watcher.open()  # (a session idle longer than the grace ends too: opened only now)
            (listed,) = (await call(http, watcher, "agy_sessions", {}))["sessions"]
            t0 = asyncio.get_running_loop().time()
            busy = 0
            async with asyncio.timeout(10):  # grace 1 s, then the session ends and its turn is cancelled
                while (await call(http, watcher, "agy_status", {"sessionId": listed["sessionId"]}))["busy"]:
                    busy += 1
                    await asyncio.sleep(0.3)
            assert busy >= 2, "the turn ended with the connection, not after the grace"  # the drop alone ends nothing
            assert asyncio.get_running_loop().time() - t0 < 10
            ping = await http.post(endpoint, headers=gone.headers, json={"jsonrpc": "2.0", "id": 9, "method": "ping"})
            assert ping.status_code == 404  # that session is over
            # The session itself stays usable: the next turn runs.
            again = await call(http, watcher, "agy_reply", {"sessionId": listed["sessionId"], "prompt": "back"})
            assert again["text"] == "next"
            assert len(state.requests) == 2
    finally:
        await stop_http(proc)
    assert proc.returncode == 0


async def test_sigterm_mid_turn_ends_it_stores_it_and_leaves_no_harness(model: ScriptedModel, tmp_path: Path) -> None:
    token = secrets.token_urlsafe(24)
    env = env_for(model, tmp_path, AGY_TOKEN=token, AGY_SHUTDOWN_TIMEOUT_SECS="3")
    endless = {"text": "word " * 300, "chunkDelayMs": 60}  # 18 s: it cannot finish within the bound
    replies = [{"text": "ready"}, endless, {"text": "after the restart"}]
    url, _ = model.register(parse_script({"replies": replies}), name=f"term-{secrets.token_hex(4)}")
    env["AGY_BASE_URL"] = url
    (tmp_path / "work").mkdir()
    proc, endpoint = await http_server(env, tmp_path, str(tmp_path / "work"))
    try:
        async with httpx2.AsyncClient(timeout=60) as http:
            wire = Wire(http, endpoint, token)
            await wire.open()
            # (a first turn cut off so is stored too: test_interrupted_first_turn.py)
            session_id = (await call(http, wire, "agy_run", {"prompt": "warm up"}))["sessionId"]
            reply = run_request(sessionId=session_id)
            async with http.stream("POST", endpoint, headers=wire.headers, json=reply) as r:
                async for _, message in events(r):
                    if message and message.get("method") == "notifications/progress":
                        break
            harnesses = harness_children(proc.pid)
            assert harnesses
            t0 = asyncio.get_running_loop().time()
            await stop_http(proc)  # SIGTERM, and the process must be gone in time
            assert asyncio.get_running_loop().time() - t0 < 3 + 5 + 3  # shutdown bound, closing the agents, slack
    finally:
        await stop_http(proc)
    assert proc.returncode == 0
    assert not [p for p in harnesses if pid_alive(p)], "SIGTERM left localharness processes behind"

    # The interrupted session was stored: a new server finds it, and it takes the next turn.
    proc, endpoint = await http_server(env, tmp_path, str(tmp_path / "work"))
    try:
        async with httpx2.AsyncClient(timeout=60) as http:
            wire = Wire(http, endpoint, token)
            await wire.open()
            (stored,) = (await call(http, wire, "agy_sessions", {}))["sessions"]
            assert (await call(http, wire, "agy_reply", {"sessionId": stored["sessionId"], "prompt": "again"}))[
                "text"
            ] == "after the restart"
    finally:
        await stop_http(proc)
