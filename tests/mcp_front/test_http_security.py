"""`agy-lsp --mcp --http`: who may talk to it, and what each client may see.

Real server processes on loopback, on the scripted model, driven over raw HTTP
(for the status codes) and by the official client (for sessions)."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import mcp_types as types
import pytest
from mcp import ClientSession, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_types import INVALID_PARAMS

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from tests.helpers import harness_children, pid_alive
from tests.mcp_front.conftest import failed, http_server, ok, stop_http

pytestmark = pytest.mark.asyncio

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}},
}
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def env_for(model: ScriptedModel, root: Path, **extra: str) -> dict[str, str]:
    url, _ = model.register(parse_script({"fallback": "echo"}), name=f"http-{secrets.token_hex(4)}")
    return {
        **os.environ,
        "AGY_STATE_DIR": str(root / "state"),
        "AGY_PACING_MS": "0",
        "AGY_BACKEND": "openai",
        "AGY_BASE_URL": url,
        "AGY_MODEL": "scripted",
        "GEMINI_API_KEY": "",
        "GOOGLE_API_KEY": "",
        **extra,
    }


@asynccontextmanager
async def running(env: dict[str, str], root: Path, *args: str) -> AsyncIterator[str]:
    """A server, its URL; stopped with SIGTERM, leaving no harness."""
    work = root / "work"
    work.mkdir(exist_ok=True)
    proc, url = await http_server(env, root, str(work), *args)
    ours: set[int] = set()
    try:
        yield url
        ours = harness_children(proc.pid)
    finally:
        await stop_http(proc)
    assert proc.returncode == 0
    assert not [p for p in ours if pid_alive(p)], "the server left localharness processes behind"


@asynccontextmanager
async def client(url: str, token: str, *, modern: bool = False) -> AsyncIterator[ClientSession]:
    """A session of the official client; `modern`: the stateless 2026-07-28 era."""
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await (session.discover() if modern else session.initialize())
                yield session


async def post(url: str, headers: dict[str, str], body: Any = INIT) -> httpx2.Response:
    async with httpx2.AsyncClient(timeout=30) as http:
        async with http.stream("POST", url, headers={**HEADERS, **headers}, json=body) as response:
            await response.aclose()
            return response


async def test_only_the_exact_token_gets_in_and_foreign_hosts_are_refused(model: ScriptedModel, tmp_path: Path) -> None:
    token = secrets.token_urlsafe(32)
    async with running(env_for(model, tmp_path, AGY_TOKEN=token), tmp_path, "--max-body-bytes", "65536") as url:
        port = url.split(":")[2].split("/")[0]
        for header in ({}, {"Authorization": "Bearer wrong-token-of-some-length"}, {"Authorization": f"Bearer {token[:-1]}"}):
            assert (await post(url, header)).status_code == 401, header
        assert (await post(url, {"Authorization": f"Bearer {token}x"})).status_code == 401
        assert (await post(url, {"Authorization": token})).status_code == 401  # not a bearer credential
        right = {"Authorization": f"Bearer {token}"}
        assert (await post(url, right)).status_code == 200
        # DNS rebinding: checked before the token, so a foreign page learns nothing.
        assert (await post(url, {**right, "Host": f"evil.example:{port}"})).status_code == 421
        assert (await post(url, {"Host": f"evil.example:{port}"})).status_code == 421
        assert (await post(url, {**right, "Origin": "http://evil.example"})).status_code == 403
        assert (await post(url, {**right, "Origin": f"http://localhost:{port}"})).status_code == 200
        # A body over the limit: 413, and the server goes on.
        huge = {**INIT, "params": {**INIT["params"], "pad": "x" * 70_000}}
        assert (await post(url, right, huge)).status_code == 413
        assert (await post(url, right)).status_code == 200


async def test_sessions_per_token_are_limited(model: ScriptedModel, tmp_path: Path) -> None:
    tokens = [secrets.token_urlsafe(24) for _ in range(2)]
    token_file = tmp_path / "tokens"
    token_file.write_text("# two clients\n" + "\n".join(tokens) + "\n")
    token_file.chmod(0o600)
    async with running(env_for(model, tmp_path), tmp_path, "--token-file", str(token_file), "--sessions-per-token", "2") as url:
        first = {"Authorization": f"Bearer {tokens[0]}"}
        assert [(await post(url, first)).status_code for _ in range(3)] == [200, 200, 429]
        assert (await post(url, {"Authorization": f"Bearer {tokens[1]}"})).status_code == 200  # the other token's own


def start_fails(args: list[str], env: dict[str, str]) -> str:
    """The server refuses to start: exit code 2, the reason on stderr."""
    done = subprocess.run([sys.executable, "-m", "agy_lsp", "--mcp", *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done
    return done.stderr


async def test_a_token_file_others_can_read_is_refused_and_a_generated_token_is_private(model: ScriptedModel, tmp_path: Path) -> None:
    env = env_for(model, tmp_path)
    token_file = tmp_path / "tokens"
    token_file.write_text(secrets.token_urlsafe(24) + "\n")
    for mode in (0o644, 0o640, 0o604, 0o660):
        token_file.chmod(mode)
        assert "accessible by group or others" in start_fails(["--http", "127.0.0.1:0", "--token-file", str(token_file)], env)
    assert "--allow-remote" in start_fails(["--http", "0.0.0.0:0"], env)

    # No token configured: one is generated, 0600, its location printed on the first start only.
    env.pop("AGY_TOKEN", None)
    generated = tmp_path / "state" / "mcp-http-token"
    async with running(env, tmp_path) as url:
        assert generated.stat().st_mode & 0o777 == 0o600
        token = generated.read_text().strip()
        assert (await post(url, {"Authorization": f"Bearer {token}"})).status_code == 200
    logs = sorted(tmp_path.glob("server-*.log"), key=lambda p: p.stat().st_mtime)
    assert str(generated) in logs[-1].read_text()
    async with running(env, tmp_path) as url:
        assert (await post(url, {"Authorization": f"Bearer {token}"})).status_code == 200
    logs = sorted(tmp_path.glob("server-*.log"), key=lambda p: p.stat().st_mtime)
    assert str(generated) not in logs[-1].read_text()


@pytest.mark.filterwarnings("ignore::mcp.MCPDeprecationWarning")  # resources/subscribe is the 2025-11-25 way
async def test_one_token_cannot_see_or_touch_another_tokens_sessions(model: ScriptedModel, tmp_path: Path) -> None:
    alice, bob = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    token_file = tmp_path / "tokens"
    token_file.write_text(f"{alice}\n{bob}\n")
    token_file.chmod(0o600)
    async with running(env_for(model, tmp_path), tmp_path, "--token-file", str(token_file)) as url:
        async with client(url, alice) as a, client(url, bob) as b:
            session_id = ok(await a.call_tool("agy_run", {"prompt": "mine"}))["sessionId"]
            assert [s["sessionId"] for s in ok(await a.call_tool("agy_sessions", {}))["sessions"]] == [session_id]
            assert ok(await b.call_tool("agy_sessions", {}))["sessions"] == []
            assert (await b.list_resources()).resources == []
            for tool, args in (
                ("agy_reply", {"sessionId": session_id, "prompt": "yours now"}),
                ("agy_run", {"sessionId": session_id, "prompt": "yours now"}),
                ("agy_status", {"sessionId": session_id}),
                ("agy_cancel", {"sessionId": session_id}),
                ("agy_history", {"sessionId": session_id}),
            ):
                assert failed(await b.call_tool(tool, args))["code"] == "AGENT_NOT_FOUND", tool
            uri = f"agy://sessions/{session_id}"
            for call in (b.read_resource(uri), b.subscribe_resource(uri)):
                with pytest.raises(MCPError) as refused:
                    await call
                assert refused.value.error.code == INVALID_PARAMS
            async with client(url, bob, modern=True) as b2026:  # the stateless era is isolated the same way
                assert ok(await b2026.call_tool("agy_sessions", {}))["sessions"] == []
                assert failed(await b2026.call_tool("agy_status", {"sessionId": session_id}))["code"] == "AGENT_NOT_FOUND"
            # Alice's session is untouched and still hers.
            assert ok(await a.call_tool("agy_reply", {"sessionId": session_id, "prompt": "again"}))["text"] == "You said: again"
            assert ok(await a.call_tool("agy_status", {"sessionId": session_id}))["turnCount"] == 2

    # After a restart the ownership holds; with --shared every token sees every session.
    async with running(env_for(model, tmp_path), tmp_path, "--token-file", str(token_file)) as url:
        async with client(url, bob) as b:
            assert ok(await b.call_tool("agy_sessions", {}))["sessions"] == []
    async with running(env_for(model, tmp_path), tmp_path, "--token-file", str(token_file), "--shared") as url:
        async with client(url, bob) as b:
            assert [s["sessionId"] for s in ok(await b.call_tool("agy_sessions", {}))["sessions"]] == [session_id]


async def test_a_cwd_outside_the_roots_is_invalid_params(model: ScriptedModel, tmp_path: Path) -> None:
    token = secrets.token_urlsafe(24)
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "project").mkdir(parents=True)
    outside.mkdir()
    (root / "escape").symlink_to(outside)
    async with running(env_for(model, tmp_path, AGY_TOKEN=token), tmp_path, "--root", str(root)) as url:
        async with client(url, token) as c:
            for cwd in (outside, root / "escape", root / ".." / "outside"):
                with pytest.raises(MCPError) as refused:
                    await c.call_tool("agy_run", {"prompt": "hi", "cwd": str(cwd)})
                assert refused.value.error.code == INVALID_PARAMS and "outside the server's roots" in refused.value.error.message
            run = ok(await c.call_tool("agy_run", {"prompt": "hi", "cwd": str(root / "project")}))
            assert run["text"] == "You said: hi"
            default = ok(await c.call_tool("agy_run", {"prompt": "there"}))  # no cwd: the first root
            status = ok(await c.call_tool("agy_status", {"sessionId": default["sessionId"]}))
            assert status["cwd"] == str(root)


@pytest.mark.filterwarnings("ignore::mcp.MCPDeprecationWarning")  # resources/subscribe is the 2025-11-25 way
async def test_a_sessions_change_is_told_only_to_its_owners_connections(model: ScriptedModel, tmp_path: Path) -> None:
    alice, bob = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    token_file = tmp_path / "tokens"
    token_file.write_text(f"{alice}\n{bob}\n")
    token_file.chmod(0o600)
    env = env_for(model, tmp_path)
    env["AGY_BASE_URL"], _ = model.register(
        parse_script({"replies": [{"text": "one"}, {"text": "two " * 20, "chunkDelayMs": 50}]}), name=f"n-{secrets.token_hex(4)}"
    )
    heard: dict[str, list[Any]] = {"alice": [], "bob": []}

    @asynccontextmanager
    async def listening(url: str, token: str, name: str) -> AsyncIterator[ClientSession]:
        async def message(m: Any) -> None:
            heard[name].append(m)

        async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http:
            async with streamable_http_client(url, http_client=http) as (read, write):
                async with ClientSession(read, write, message_handler=message) as session:
                    await session.initialize()
                    yield session

    async with running(env, tmp_path, "--token-file", str(token_file)) as url:
        async with listening(url, alice, "alice") as a, listening(url, bob, "bob") as b:
            session_id = ok(await a.call_tool("agy_run", {"prompt": "mine"}))["sessionId"]
            uri = f"agy://sessions/{session_id}"
            await a.subscribe_resource(uri)
            turn = asyncio.ensure_future(a.call_tool("agy_reply", {"sessionId": session_id, "prompt": "more"}))
            await asyncio.sleep(0.5)
            await b.call_tool("agy_sessions", {})  # Bob's is now the latest request
            assert ok(await turn)["text"].startswith("two")
            async with asyncio.timeout(10):
                while not any(isinstance(m, types.ResourceUpdatedNotification) for m in heard["alice"]):
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
    updated = [m for m in heard["bob"] if isinstance(m, types.ResourceUpdatedNotification)]
    assert updated == [], "Bob was told of Alice's session"


RUN_LS = {"toolCalls": [{"name": "run_command", "args": {"CommandLine": "echo agy-was-here", "Cwd": "/tmp"}}]}


async def test_each_turn_is_asked_through_its_own_host(model: ScriptedModel, tmp_path: Path) -> None:
    """Two hosts on one token, one with elicitation and one without: whichever made the
    latest request, a turn's permission question goes to its own host, or is denied
    because that host cannot ask."""
    token = secrets.token_urlsafe(24)
    env = env_for(model, tmp_path, AGY_TOKEN=token)
    script = [RUN_LS, {"text": "could not"}, RUN_LS, {"text": "ran it"}]
    env["AGY_BASE_URL"], _ = model.register(parse_script({"replies": script}), name=f"ask-{secrets.token_hex(4)}")
    asked: list[Any] = []

    async def allow(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params)
        return types.ElicitResult(action="accept", content={"decision": "allow_once"})

    async with running(env, tmp_path) as url:
        async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http:
            async with streamable_http_client(url, http_client=http) as (read, write):
                async with ClientSession(read, write, elicitation_callback=allow) as asker:
                    await asker.initialize()
                    async with client(url, token) as mute:  # no elicitation
                        turn = asyncio.ensure_future(mute.call_tool("agy_run", {"prompt": "run it"}))
                        await asyncio.sleep(0.3)
                        await asker.call_tool("agy_sessions", {})  # the asking host's request is the latest
                        (call,) = ok(await turn)["toolCalls"]
                        assert (call["outcome"], asked) == ("denied", [])
                        assert "cannot ask" in call["reason"]

                        turn = asyncio.ensure_future(asker.call_tool("agy_run", {"prompt": "run it"}))
                        await asyncio.sleep(0.3)
                        await mute.call_tool("agy_sessions", {})  # now the mute host's is
                        (call,) = ok(await turn)["toolCalls"]
                        assert call["outcome"] == "completed" and len(asked) == 1
