"""The Python client against the real server (`python -m agy_lsp`) on the scripted model.

One server per test module: a fixture task owns the `AgyClient.spawn()` context
(anyio cancel scopes must be entered and left by the same task), and the tests
of the module share it on a module-scoped event loop.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from agy_lsp.client import AgyClient

STATE_DIR = tempfile.mkdtemp(prefix="agy-client-")
ENV = {
    "AGY_STATE_DIR": STATE_DIR,
    "AGY_PACING_MS": "0",
    "AGY_CONFIRM_TIMEOUT_SECS": "5",
    "AGY_BACKEND": "",
    "AGY_MODEL": "",
    "AGY_BASE_URL": "",
    "GEMINI_API_KEY": "",
    "GOOGLE_API_KEY": "",
}
FULL_ENV = {**os.environ, **ENV, "NO_COLOR": ""}
CHAT = [sys.executable, "-m", "agy_lsp", "chat"]


def scripted(*replies: dict[str, Any], fallback: str = "echo") -> dict[str, Any]:
    return {"type": "scripted", "script": {"replies": list(replies), "fallback": fallback}}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client() -> AsyncIterator[AgyClient]:
    ready: asyncio.Future[AgyClient] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()

    async def owner() -> None:
        try:
            async with AgyClient.spawn(env=ENV) as c:
                ready.set_result(c)
                await stop.wait()
        except BaseException as e:
            if not ready.done():
                ready.set_exception(e)
            raise

    task = asyncio.create_task(owner())
    c = await ready
    yield c
    stop.set()
    await task
    assert c.returncode == 0
