"""Harness processes: one per live session, capped by maxLiveAgents (the least recently
used idle session hibernates and wakes on its next turn), none left after the server."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import pytest

from tests.helpers import harness_children, pid_alive
from tests.mcp_front.conftest import ok

pytestmark = pytest.mark.asyncio(loop_scope="package")  # the shared server lives in the package's loop


async def test_max_live_agents_hibernates_and_the_next_turn_wakes_it(start: Any) -> None:
    async with start({"text": "one"}, {"text": "two"}, env={"AGY_MAX_LIVE_AGENTS": "1"}) as host:
        first = await host.run("first session")
        assert len(harness_children(host.pid)) == 1
        second = await host.run("second session")
        assert len(harness_children(host.pid)) == 1
        assert ok(await host.call("agy_status", {"sessionId": first["sessionId"]}))["state"] == "hibernated"

        woken = await host.reply(first["sessionId"], "back again")
        assert woken["text"] == "You said: back again"
        assert "first session" in str(host.script.requests[-1]["messages"])  # its history survived
        assert ok(await host.call("agy_status", {"sessionId": first["sessionId"]}))["turnCount"] == 2
        assert ok(await host.call("agy_status", {"sessionId": second["sessionId"]}))["state"] == "hibernated"
        assert len(harness_children(host.pid)) == 1


async def test_sigterm_closes_every_agent(start: Any) -> None:
    async with start() as host:
        await asyncio.gather(host.run("a"), host.run("b"))
        harnesses = harness_children(host.pid)
        assert len(harnesses) == 2
        os.kill(host.pid, signal.SIGTERM)
        for _ in range(200):
            if not pid_alive(host.pid):
                break
            await asyncio.sleep(0.05)
        assert not pid_alive(host.pid), "the server did not exit on SIGTERM"
        assert not [p for p in harnesses if pid_alive(p)]


async def test_a_host_that_hangs_up_mid_turn_leaves_nothing_running(start: Any) -> None:
    long = {"text": "word " * 200, "chunkDelayMs": 50}
    async with start(long) as host:
        running = asyncio.ensure_future(host.run("take your time"))
        while not host.script.requests:
            await asyncio.sleep(0.02)
        harnesses = harness_children(host.pid)
        assert len(harnesses) == 1
    # The fixture checked that the server exited by itself and left no harness behind.
    assert not [p for p in harnesses if pid_alive(p)]
    assert running.done()
    running.exception()  # the session closed under it
