"""MCP servers from `session/new`: a real MCP server (tests/mcp_server.py) over stdio
and over Streamable HTTP, behind the real SDK and harness; only the model is scripted."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from acp import schema as s
from acp import text_block

from tests.acp.conftest import choose

MCP_SERVER = os.path.join(os.path.dirname(os.path.dirname(__file__)), "mcp_server.py")


def shout(server: str, text: str) -> dict[str, Any]:
    args = {"ServerName": server, "ToolName": "shout", "Arguments": {"text": text}}
    return {"toolCalls": [{"name": "call_mcp_tool", "args": args}]}


def stdio(log: str) -> s.McpServerStdio:
    return s.McpServerStdio(name="echo", command=sys.executable, args=[MCP_SERVER], env=[s.EnvVariable(name="MCP_LOG", value=log)])


def shouted(log: str) -> list[str]:
    return open(log).read().splitlines() if os.path.exists(log) else []


async def test_stdio_mcp_tool_asks_permission_allowed_and_rejected(start, state_dir: str) -> None:
    logs = {k: os.path.join(state_dir, f"{k}.log") for k in ("allow", "reject")}
    async with start() as server:
        caps = server.init.agent_capabilities.mcp_capabilities
        assert caps.http is True and caps.sse is False
        client = server.client
        a, r = await asyncio.gather(
            server.new(shout("echo", "hello"), {"text": "shouted"}, mcp_servers=[stdio(logs["allow"])]),
            server.new(shout("echo", "hello"), {"text": "kept quiet"}, mcp_servers=[stdio(logs["reject"])]),
        )

        async def answer(session_id: str, call: s.ToolCallUpdate, options: list[s.PermissionOption]) -> s.RequestPermissionResponse:
            return choose("allow_once" if session_id == a else "reject_once")

        client.on_permission = answer
        results = await asyncio.gather(*(server.conn.prompt(session_id=sid, prompt=[text_block("shout")]) for sid in (a, r)))
        assert [x.stop_reason for x in results] == ["end_turn", "end_turn"]

        # The permission request names the MCP tool `server/tool`, with the tool's own input.
        ((_, call, _),) = [p for p in client.permissions if p[0] == a]
        assert call.title == "echo/shout" and call.kind == "other" and call.raw_input == {"text": "hello"}
        # Allowed: one tool call, which ran and completed with the server's answer.
        starts = client.of(a, s.ToolCallStart)
        assert len(starts) == 1 and starts[0].title == "echo/shout"
        progress = [u for u in client.of(a, s.ToolCallProgress) if u.tool_call_id == starts[0].tool_call_id]
        assert progress[-1].status == "completed" and "HELLO" in str(progress[-1].raw_output)
        assert shouted(logs["allow"]) == ["hello"] and client.text(a) == "shouted"
        # Rejected: the server never saw the call.
        assert len([p for p in client.permissions if p[0] == r]) == 1
        assert [u.status for u in client.of(r, s.ToolCallProgress)][-1] == "failed"
        assert shouted(logs["reject"]) == [] and client.text(r) == "kept quiet"


async def test_http_mcp_server_gets_its_headers_and_sse_is_skipped(start, state_dir: str) -> None:
    log, token = os.path.join(state_dir, "http.log"), "tok-0123456789"
    env = {**os.environ, "MCP_LOG": log, "MCP_TOKEN": token}
    http = await asyncio.create_subprocess_exec(sys.executable, MCP_SERVER, "--http", env=env, stdout=asyncio.subprocess.PIPE)
    try:
        assert http.stdout is not None
        url = (await asyncio.wait_for(http.stdout.readline(), 20)).decode().strip()
        servers: list[Any] = [
            # A human-readable ACP name becomes a valid SDK server name: "Web Tools" -> "Web_Tools".
            s.HttpMcpServer(type="http", name="Web Tools", url=url, headers=[s.HttpHeader(name="X-Token", value=token)]),
            s.SseMcpServer(type="sse", name="legacy", url="http://127.0.0.1:9/sse", headers=[]),
        ]
        async with start() as server:
            sid = await server.new(shout("Web_Tools", "over http"), {"text": "done"}, mcp_servers=servers)
            result = await server.conn.prompt(session_id=sid, prompt=[text_block("shout")])
            assert result.stop_reason == "end_turn"
            assert [p[1].title for p in server.client.permissions] == ["Web_Tools/shout"]
            assert shouted(log) == ["over http"]
        with open(os.path.join(state_dir, "server.log")) as f:
            assert "skipping MCP server 'legacy'" in f.read()
    finally:
        http.kill()
        await http.wait()
