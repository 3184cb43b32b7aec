"""Issue #27: a cancel right after the person allowed a command, while it starts.

The model calls `run_command` of a long `sleep` under the default ("ask") policy;
the confirmation answers Allow once and the cancel goes out 0 to 300 ms after that
answer was written. A halt that reaches the harness while it starts the command
left the command running to its end (the harness reported the turn idle, sometimes
with the call's post-tool hook), in about a third of the tries at 0-5 ms. At every
moment the turn must end promptly as cancelled, the command's process must be gone
within 3 s of the cancel, and the next turn must answer. Over agy/* LSP
(agy/confirmToolCall, agy/cancel) and plain LSP (window/showMessageRequest, the
agy-lsp.cancel command or window/workDoneProgress/cancel)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from tests.e2e.plain_client import progress_of, run_command, start_plain, until_done
from tests.helpers import request, running_sleeps, scripted, sleep_reply, wait_until

DELAYS_MS = (0, 5, 20, 100, 300)
ROUNDS = 3  # each on the same agent: a round also checks the one before left it usable
PROMPT_SECS = 3.0  # the cancelled turn's end, and the command's, after the cancel


def marks() -> list[str]:
    """Unique sleep lengths (about 40 s), to find each round's command in the process table."""
    tag = uuid.uuid4().int % 10**5
    return [f"40.{tag:05d}{i}" for i in range(ROUNDS)]


class Canceller:
    """Sends the cancel `delay_ms` after the answer to the confirmation is written: the
    answering handler starts it, and pygls writes the answer before the task runs."""

    def __init__(self, delay_ms: int, cancel: Callable[[], Awaitable[Any]]) -> None:
        self.delay_ms, self._cancel = delay_ms, cancel
        self.tasks: list[asyncio.Task[Any]] = []
        self.sent: float | None = None

    def answered(self) -> None:
        self.tasks.append(asyncio.ensure_future(self._later()))

    async def _later(self) -> Any:
        await asyncio.sleep(self.delay_ms / 1000)
        self.sent = time.monotonic()
        return await self._cancel()

    async def round_over(self, mark: str) -> None:
        """The turn has ended: it was asked once, cancelled, promptly, and its command is gone."""
        ended = time.monotonic()
        assert len(self.tasks) == 1 and self.sent is not None, "one confirmation, answered, then the cancel"
        await self.tasks.pop()
        assert ended - self.sent < PROMPT_SECS, f"the turn ended {ended - self.sent:.2f}s after the cancel"
        left = PROMPT_SECS - (time.monotonic() - self.sent)
        try:
            await wait_until(lambda: not running_sleeps(mark), timeout=max(left, 0.1))
        except AssertionError:
            raise AssertionError(f"`sleep {mark}` still runs {PROMPT_SECS:g}s after the cancel (delay {self.delay_ms} ms)") from None


@pytest.mark.parametrize("delay_ms", DELAYS_MS)
async def test_agy_cancel_right_after_allowing_a_command(client: LanguageClient, delay_ms: int) -> None:
    agent_id = ""

    async def cancel() -> None:
        assert (await request(client, "agy/cancel", {"agentId": agent_id}))["cancelled"] is True

    canceller = Canceller(delay_ms, cancel)

    @client.feature("agy/confirmToolCall")
    async def confirm(params: Any) -> dict[str, Any]:
        canceller.answered()
        return {"outcome": "allow_once"}

    sleeps = marks()
    agent_id = (await request(client, "agy/createAgent", {"backend": scripted(*map(sleep_reply, sleeps))}))["agentId"]
    for mark in sleeps:
        result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": f"sleep {mark}"})
        await canceller.round_over(mark)
        assert result["stopReason"] == "cancelled", result
        result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "after"})
        assert result["stopReason"] == "end_turn" and result["text"] == "You said: after", result
    live = shown(await request(client, "agy/history", {"agentId": agent_id}))
    assert [content for source, content, _ in live if source == "USER"] == [p for m in sleeps for p in (f"sleep {m}", "after")]
    conversation = (await request(client, "agy/status", {"agentId": agent_id}))["conversationId"]
    await request(client, "agy/shutdownAgent", {"agentId": agent_id})
    resumed = (await request(client, "agy/createAgent", {"conversationId": conversation}))["agentId"]
    assert live == shown(await request(client, "agy/history", {"agentId": resumed})), "the live history is the stored one"
    assert [calls for _, _, calls in live].count(["run_command"]) == ROUNDS, live


def shown(history: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """Each step's source, text and calls."""
    return [(s["source"], s["content"], [c["name"] for c in s.get("toolCalls", [])]) for s in history["steps"]]


def chat(prompt: str) -> lsp.Command:
    return lsp.Command(title="chat", command="agy-lsp.chat", arguments=[{"prompt": prompt}])


@pytest.mark.parametrize("how", ["agy-lsp.cancel", "window/workDoneProgress/cancel"])
@pytest.mark.parametrize("delay_ms", DELAYS_MS)
async def test_plain_cancel_right_after_allowing_a_command(tmp_path: Any, delay_ms: int, how: str) -> None:
    sleeps = marks()
    editor = await start_plain(scripted(*map(sleep_reply, sleeps)), str(tmp_path), show=False)  # answered below
    turn_ids: list[str] = []

    async def cancel() -> None:
        if how == "agy-lsp.cancel":
            assert await run_command(editor, lsp.Command(title="cancel", command="agy-lsp.cancel", arguments=[{}])) == {"cancelled": 1}
        else:
            editor.client.window_work_done_progress_cancel(lsp.WorkDoneProgressCancelParams(token=f"agy-{turn_ids[-1]}"))

    canceller = Canceller(delay_ms, cancel)

    @editor.client.feature(lsp.WINDOW_SHOW_MESSAGE_REQUEST)
    async def prompt(params: lsp.ShowMessageRequestParams) -> lsp.MessageActionItem:
        canceller.answered()
        return lsp.MessageActionItem(title="Allow once")

    try:
        for mark in sleeps:
            turn_ids.append((await run_command(editor, chat(f"sleep {mark}")))["turnId"])
            reports = await until_done(editor, turn_ids[-1], timeout=60)
            await canceller.round_over(mark)
            assert reports[-1].message == "cancelled", [getattr(r, "message", None) for r in reports]
            after = (await run_command(editor, chat("after")))["turnId"]
            assert (await until_done(editor, after))[-1].message == "done", progress_of(editor, after)
    finally:
        await editor.client.shutdown_session()
