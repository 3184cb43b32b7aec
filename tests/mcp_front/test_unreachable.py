"""MCP: a model that cannot be reached fails agy_run within seconds with
BACKEND_ERROR, the network cause and a hint (not minutes of silence)."""

from __future__ import annotations

import asyncio
import socket

from tests.mcp_front.conftest import failed


async def test_an_unreachable_model_fails_agy_run_fast_with_cause_and_hint(start) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"  # closed again: nothing listens there
    async with start(env={"AGY_BASE_URL": url, "AGY_CHAT_TIMEOUT_SECS": "60"}) as host:
        t0 = asyncio.get_running_loop().time()
        error = failed(await asyncio.wait_for(host.call("agy_run", {"prompt": "hello"}), 70))
        assert asyncio.get_running_loop().time() - t0 < 15
        assert error["code"] == "BACKEND_ERROR" and error["data"]["network"] == "refused", error
        assert "connection refused" in error["data"]["cause"] and error["data"]["hint"], error
