"""How editors launch the server: `--stdio`, `--clientProcessId=N` and initialize's
`processId`. vscode-languageclient adds `--stdio`; when the editor dies, the server
and every harness must go with it."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.test_process_faults import RawServer
from tests.helpers import harness_children, pid_alive, scripted, wait_until

_SLEEPER = ["sleep", "600"]  # stands in for the editor's process


async def _initialize(server: RawServer, process_id: int | None = None) -> dict:
    server.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}, "processId": process_id}})
    reply = await server.response(1)
    server.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    return reply


async def _create_agent(server: RawServer) -> None:
    server.send({"jsonrpc": "2.0", "id": 2, "method": "agy/createAgent", "params": {"backend": scripted()}})
    assert "result" in await server.response(2)


async def test_stdio_flag_is_accepted() -> None:
    server = await RawServer.start(args=["--stdio"])
    try:
        reply = await _initialize(server)
        assert reply["result"]["serverInfo"]["name"] == "agy-lsp"
    finally:
        await server.close()
    assert b"unrecognized arguments" not in server.stderr


@pytest.mark.parametrize("how", ["flag", "initialize"])
async def test_server_exits_when_the_client_process_dies(how: str) -> None:
    editor = await asyncio.create_subprocess_exec(*_SLEEPER)
    args = ["--stdio", f"--clientProcessId={editor.pid}"] if how == "flag" else ["--stdio"]
    server = await RawServer.start(args=args)
    try:
        await _initialize(server, editor.pid if how == "initialize" else None)
        await _create_agent(server)
        harnesses = harness_children(server.proc.pid)
        assert harnesses
        await asyncio.sleep(0.6)
        assert server.proc.returncode is None, "the server must keep running while the editor lives"
        editor.kill()
        await editor.wait()
        assert await asyncio.wait_for(server.proc.wait(), 15) == 0
        await wait_until(lambda: not any(pid_alive(p) for p in harnesses), timeout=5)
    finally:
        if editor.returncode is None:
            editor.kill()
            await editor.wait()
        await server.close()
