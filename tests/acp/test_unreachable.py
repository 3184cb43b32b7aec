"""ACP: a model that cannot be reached fails the prompt within seconds with
BACKEND_ERROR, the network cause and a hint (not minutes of silence)."""

from __future__ import annotations

import asyncio
import socket
import tempfile

import pytest
from acp import RequestError, text_block


@pytest.mark.parametrize("gemini", [False, True])
async def test_an_unreachable_model_fails_the_prompt_fast_with_cause_and_hint(start, gemini: bool) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"  # closed again: nothing listens there
    env = {"AGY_CHAT_TIMEOUT_SECS": "60"}
    if gemini:
        backend = {"type": "gemini", "model": "gemini-unreachable"}
        env |= {"GOOGLE_GEMINI_BASE_URL": url, "GEMINI_API_KEY": "not-a-key"}
    else:
        backend = {"type": "openai", "baseUrl": f"{url}/v1", "model": "m"}
    async with start(env=env) as server:
        created = await server.conn.new_session(cwd=tempfile.gettempdir(), mcp_servers=[], agy={"backend": backend})
        t0 = asyncio.get_running_loop().time()
        with pytest.raises(RequestError) as err:
            await asyncio.wait_for(server.conn.prompt(session_id=created.session_id, prompt=[text_block("hello")]), 70)
        assert asyncio.get_running_loop().time() - t0 < 15
        data = err.value.data
        assert err.value.code == -32007 and data["code"] == "BACKEND_ERROR" and data["network"] == "refused", data
        assert "connection refused" in data["cause"] and data["hint"], data
