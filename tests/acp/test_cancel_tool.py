"""Over ACP: session/cancel while a `run_command` runs. The command does not outlive
the turn, its late post-tool hook is absorbed, and the next prompts answer (see
tests/e2e/test_cancel_tool.py; the Ctrl-C-like round always brings the late hook)."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid

from acp import text_block

from tests.helpers import running_sleeps, sleep_reply, wait_until

ROUNDS = ("plain", "ctrl-c")


async def test_cancel_during_a_command_then_three_prompts_answer(start) -> None:
    tag = uuid.uuid4().int % 10**5
    marks = [f"30.{tag:05d}{i}" for i in range(len(ROUNDS))]
    async with start() as server:
        sid = await server.new(*map(sleep_reply, marks))
        for mark, kind in zip(marks, ROUNDS, strict=True):
            turn = asyncio.ensure_future(server.conn.prompt(session_id=sid, prompt=[text_block(f"sleep {mark}")]))
            await wait_until(lambda mark=mark: bool(running_sleeps(mark)), timeout=20)
            await asyncio.sleep(0.3)
            if kind == "ctrl-c":
                for pid in running_sleeps(mark):
                    os.kill(pid, signal.SIGINT)
            await server.conn.cancel(session_id=sid)
            assert (await turn).stop_reason == "cancelled"
            await wait_until(lambda mark=mark: not running_sleeps(mark), timeout=10)
            for prompt in ("one", "two", "three"):
                server.client.updates[sid].clear()
                result = await server.conn.prompt(session_id=sid, prompt=[text_block(prompt)])
                assert result.stop_reason == "end_turn" and server.client.text(sid) == f"You said: {prompt}"
            assert not running_sleeps(mark)
