"""Cancelling a turn: the host's notifications/cancelled, and agy_cancel. Either way
the turn ends through the core and the session takes the next prompt."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from typing import Any

import pytest

from tests.helpers import running_sleeps, sleep_reply, wait_until
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


async def test_cancel_during_a_command_then_three_prompts_answer(host: Host) -> None:
    """While a `run_command` of a long `sleep` runs: the command does not outlive the
    turn, its late post-tool hook is absorbed, and the next prompts answer (see
    tests/e2e/test_cancel_tool.py; a Ctrl-C-like round always brings the late hook)."""
    rounds = [("notifications/cancelled", "plain"), ("agy_cancel", "ctrl-c"), ("notifications/cancelled", "ctrl-c")]
    tag = uuid.uuid4().int % 10**5
    marks = [f"30.{tag:05d}{i}" for i in range(len(rounds))]
    replies(host, {"text": "ready"}, *map(sleep_reply, marks))
    session_id = (await host.run("warm up", policy="allowAll"))["sessionId"]
    for mark, (how, kind) in zip(marks, rounds, strict=True):
        call = asyncio.ensure_future(host.call("agy_reply", {"sessionId": session_id, "prompt": f"sleep {mark}"}))
        await wait_until(lambda mark=mark: bool(running_sleeps(mark)), timeout=20)
        await asyncio.sleep(0.3)
        if kind == "ctrl-c":
            for pid in running_sleeps(mark):
                os.kill(pid, signal.SIGINT)
        if how == "agy_cancel":
            assert ok(await host.call("agy_cancel", {"sessionId": session_id}))["cancelled"] is True
            assert ok(await call)["stopReason"] == "cancelled"
        else:
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
        await wait_until(lambda mark=mark: not running_sleeps(mark), timeout=10)
        for prompt in ("one", "two", "three"):
            result = await host.reply(session_id, prompt)
            assert result["stopReason"] == "end_turn" and result["text"] == f"You said: {prompt}", result
        assert not running_sleeps(mark)


async def _until(predicate: Any) -> None:
    async with asyncio.timeout(10):
        while not predicate():
            await asyncio.sleep(0.02)


async def _until_idle(host: Any, session_id: str) -> None:
    async with asyncio.timeout(10):
        while ok(await host.call("agy_status", {"sessionId": session_id}))["busy"]:
            await asyncio.sleep(0.05)
