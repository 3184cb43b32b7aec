"""Cancelling a turn: the host's notifications/cancelled, and agy_cancel. Either way
the turn ends through the core and the session takes the next prompt."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.mcp_front.conftest import Host, ok, replies

pytestmark = pytest.mark.asyncio(loop_scope="package")  # the shared server lives in the package's loop

LONG = {"text": "word " * 80, "chunkDelayMs": 50}  # about 4 s of streaming


async def test_cancelling_a_turn_ends_it_in_the_core_and_the_session_goes_on(host: Host) -> None:
    replies(host, {"text": "ready"}, LONG, {"text": "the second answer"}, LONG)
    session_id = (await host.run("warm up"))["sessionId"]
    assert ok(await host.call("agy_cancel", {"sessionId": session_id}))["cancelled"] is False  # nothing running

    # The host gives up on the call: its client sends notifications/cancelled.
    seen: list[str] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append(message or "")

    t0 = asyncio.get_running_loop().time()
    call = asyncio.ensure_future(host.call("agy_reply", {"sessionId": session_id, "prompt": "long"}, progress_callback=progress))
    await _until(lambda: len(seen) >= 2)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    asked = len(host.script.requests)
    await _until_idle(host, session_id)
    assert asyncio.get_running_loop().time() - t0 < 3.5  # well before the reply would have finished

    after = await host.reply(session_id, "again")
    assert after["text"] == "the second answer" and after["stopReason"] == "end_turn"
    assert len(host.script.requests) == asked + 1  # nothing of the cancelled turn went on asking the model

    # agy_cancel: the running call returns, with stopReason "cancelled" and the text so far.
    asked = len(host.script.requests)
    running = asyncio.ensure_future(host.reply(session_id, "long"))
    await _until(lambda: len(host.script.requests) > asked)
    await asyncio.sleep(0.3)  # some words are out
    assert ok(await host.call("agy_cancel", {"sessionId": session_id})) == {"sessionId": session_id, "cancelled": True}
    result = await running
    assert result["stopReason"] == "cancelled"
    assert result["text"].startswith("word ") and len(result["text"]) < len(LONG["text"])
    assert (await host.reply(session_id, "hi"))["text"] == "You said: hi"


async def _until(predicate: Any) -> None:
    async with asyncio.timeout(10):
        while not predicate():
            await asyncio.sleep(0.02)


async def _until_idle(host: Any, session_id: str) -> None:
    async with asyncio.timeout(10):
        while ok(await host.call("agy_status", {"sessionId": session_id}))["busy"]:
            await asyncio.sleep(0.05)
