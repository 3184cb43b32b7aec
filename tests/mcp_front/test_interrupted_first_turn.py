"""A new session's first turn cut off by SIGTERM is stored, on both transports.

The conversation id of a new session exists only in its live harness until the
turn ends; the save at the cancelled turn's end reads it from there
(AgentSession.persist). A restarted server on the same state dir lists the session
and goes on with it: the next turn's model request carries the first prompt."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import pytest

from tests.helpers import harness_children, pid_alive

pytestmark = pytest.mark.asyncio(loop_scope="package")

PROMPT = "count the sheep slowly"
SLOW = {"text": "sheep " * 200, "chunkDelayMs": 60}  # 12 s of streaming: SIGTERM comes long before its end


async def test_a_first_turn_cut_off_by_sigterm_is_stored_and_resumes(start: Any) -> None:
    env = {"AGY_SHUTDOWN_TIMEOUT_SECS": "2"}
    async with start(SLOW, {"text": "after the restart"}, env=env) as host:
        streamed: list[str] = []

        async def progress(value: float, total: float | None, message: str | None) -> None:
            streamed.append(message or "")

        running = asyncio.ensure_future(host.call("agy_run", {"prompt": PROMPT}, progress_callback=progress))
        async with asyncio.timeout(30):
            while "sheep sheep" not in "".join(streamed):
                await asyncio.sleep(0.05)
        harnesses = harness_children(host.pid)
        assert len(harnesses) == 1
        t0 = asyncio.get_running_loop().time()
        os.kill(host.pid, signal.SIGTERM)
        async with asyncio.timeout(2 + 5 + 3):  # shutdown bound, closing the agent, slack
            while pid_alive(host.pid):
                await asyncio.sleep(0.05)
        assert asyncio.get_running_loop().time() - t0 < 10
        assert not [p for p in harnesses if pid_alive(p)], "SIGTERM left a localharness behind"
        try:
            answer = await asyncio.wait_for(running, 10)
        except Exception:  # the server went away under the call (over HTTP its connection goes with it)
            answer = None
        if answer is not None:  # over stdio the cancelled turn still answers before the server exits
            assert answer.structured_content is not None and answer.structured_content["stopReason"] == "cancelled"
            assert answer.structured_content["text"].startswith("sheep")

    async with start() as host:
        (stored,) = ok_sessions(await host.call("agy_sessions", {}))
        assert stored["title"] == PROMPT and not stored["live"]
        history = (await host.call("agy_history", {"sessionId": stored["sessionId"]})).structured_content
        assert history is not None and PROMPT in history["markdown"]
        assert "## Agent\n\nsheep" in history["markdown"], "what was streamed before SIGTERM is not kept"
        again = await host.reply(stored["sessionId"], "go on")
        assert again["text"] == "after the restart" and again["sessionId"] == stored["sessionId"]
        assert PROMPT in str(host.script.requests[-1]["messages"]), "the resumed turn lost the first prompt"


def ok_sessions(result: Any) -> list[dict[str, Any]]:
    assert not result.is_error, result.structured_content
    return result.structured_content["sessions"]
