"""Cancel races: a cancel lands wherever the turn is (waiting on quota or for room,
streaming, waiting on a confirmation), and a prompt right after a cancel runs."""

from __future__ import annotations

from typing import Any

import anyio

from agy_lsp.backends.identity import quota_key
from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.protocol.types import ChatResult, ConfirmToolCallParams, ConfirmToolCallResult, RunToolParams, RunToolResult
from tests.core.conftest import BACKEND, Clock, Core, CoreFactory, raises, wait_until
from tests.core.fake_sdk import Gate, Hang, Say, Tool


async def chat_in_background(c: Any, tg: anyio.abc.TaskGroup, agent: str, prompt: str, out: list[Any]) -> None:
    async def run() -> None:
        try:
            out.append(await c.manager.chat(agent, prompt))
        except Exception as e:
            out.append(e)

    tg.start_soon(run)


async def test_cancel_while_streaming_answers_with_the_text_so_far(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.sdk.script(agent, [Say("so ", "far"), Hang()])
        out: list[ChatResult] = []
        async with anyio.create_task_group() as tg:
            await chat_in_background(c, tg, agent, "go", out)
            await wait_until(lambda: any(ch.text == "far" for ch in c.editor.chunks))
            assert c.manager.cancel(agent)
        assert out[0].stop_reason == "cancelled" and out[0].text == "so far"
        live = c.sdk.live(agent)
        assert live.cancels == 1 and len(c.sdk.lives_of(agent)) == 1  # settled in place, no restart
        assert c.state(agent) == "idle"
        assert (await c.manager.chat(agent, "next")).text == "echo: next"


async def test_cancel_when_idle_answers_false(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        assert c.manager.cancel(agent) is False
        assert c.sdk.live(agent).cancels == 0


async def test_cancel_while_waiting_on_quota_ends_the_wait_without_reaching_the_model(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.manager.quota.backoff(quota_key(BACKEND), 60_000, c.editor)  # another agent on the key hit a 429
        out: list[ChatResult] = []
        clock = Clock()
        async with anyio.create_task_group() as tg:
            await chat_in_background(c, tg, agent, "go", out)
            await wait_until(lambda: c.session(agent).turn is not None)
            await anyio.sleep(0.02)
            assert c.manager.cancel(agent)
        assert out[0].stop_reason == "cancelled" and out[0].text == ""
        assert clock() < 2 and c.sdk.sends == []
        assert c.state(agent) == "idle"


async def test_cancel_while_waiting_for_room_ends_the_wait(core: CoreFactory) -> None:
    async with core(maxLiveAgents=1) as c:
        busy = await c.create()
        gate = anyio.Event()
        c.sdk.script(busy, Gate(gate))
        await c.manager.send(busy, "hold the only harness")
        waiting = await c.create(start=False)
        out: list[ChatResult] = []
        async with anyio.create_task_group() as tg:
            await chat_in_background(c, tg, waiting, "go", out)
            await wait_until(lambda: c.state(waiting) == "starting")
            assert c.manager.cancel(waiting)
        assert out[0].stop_reason == "cancelled"
        assert c.state(waiting) == "hibernated" and c.sdk.lives_of(waiting) == []  # nothing was spawned
        assert c.editor.states_of(waiting) == ["starting", "hibernated"]
        gate.set()
        await c.manager.wait_for_idle(busy)
        assert (await c.manager.chat(waiting, "now")).text == "echo: now"  # the busy one makes way now


async def test_cancel_while_a_confirmation_is_pending_resolves_it_as_cancelled(core: CoreFactory) -> None:
    async with core() as c:
        asked = anyio.Event()
        editor_saw_cancel: list[bool] = []

        async def never_answers(params: ConfirmToolCallParams) -> ConfirmToolCallResult:
            asked.set()
            try:
                await anyio.sleep_forever()
            except anyio.get_cancelled_exc_class():
                editor_saw_cancel.append(True)
                raise
            raise AssertionError("unreachable")

        c.editor.on_confirm = never_answers
        agent = await c.create(policies=[{"tool": "run_command", "decision": "ask_user"}])
        c.sdk.script(agent, [Say("let me run it"), Tool("run_command", {"CommandLine": "make"}), Say("never said")])
        sent = await c.manager.send(agent, "go")
        await asked.wait()
        assert c.manager.cancel(agent)
        await c.manager.wait_for_idle(agent)
        assert editor_saw_cancel == [True]  # the editor's request was cancelled, not left hanging
        assert c.editor.tool_chunks(sent.turn_id) == [("toolCall", "call_1", None), ("toolResult", "call_1", "cancelled")]
        (result,) = c.editor.results(sent.turn_id)
        assert result.error and "cancel" in result.error and "rule:" not in result.error
        assert c.editor.confirms[0].tool_call.id == "call_1"
        assert "never said" not in "".join(ch.text or "" for ch in c.editor.turn_chunks(sent.turn_id))
        assert c.state(agent) == "idle"


async def test_cancel_while_an_editor_tool_runs_shows_the_call_cancelled(core: CoreFactory) -> None:
    async with core() as c:
        running = anyio.Event()

        async def slow(params: RunToolParams) -> RunToolResult:
            running.set()
            await anyio.sleep_forever()
            raise AssertionError("unreachable")

        c.editor.on_run = slow
        agent = await c.create(policies="allowAll", tools=[{"name": "word_count"}])
        c.sdk.script(agent, [Tool("word_count", {"text": "a b"}), Say("never said")])
        sent = await c.manager.send(agent, "go")
        await running.wait()
        c.manager.cancel(agent)
        await c.manager.wait_for_idle(agent)
        assert c.editor.tool_chunks(sent.turn_id) == [("toolCall", "call_1", None), ("toolResult", "call_1", "cancelled")]


async def test_a_chat_right_after_cancel_waits_for_the_cancelled_turn_and_runs(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.sdk.script(agent, [Say("first"), Hang(settle_secs=0.2)])  # the cancelled turn takes 0.2 s to stop
        first = await c.manager.send(agent, "one")
        await wait_until(lambda: any(ch.text == "first" for ch in c.editor.chunks))
        c.manager.cancel(agent)
        assert c.session(agent).turn is not None  # not settled yet
        result = await c.manager.chat(agent, "two")
        assert result.text == "echo: two" and result.stop_reason == "end_turn"
        assert result.turn_id != first.turn_id
        live = c.sdk.live(agent)
        assert live.prompts == ["one", "two"] and live.cancels >= 1
        # the first turn ended (cancelled) before the second began: its chunks all came first
        turns = [ch.turn_id for ch in c.editor.chunks]
        assert turns == sorted(turns, key=lambda t: t != first.turn_id)


async def test_a_second_chat_without_cancel_is_agent_busy(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        gate = anyio.Event()
        c.sdk.script(agent, Gate(gate))
        first = await c.manager.send(agent, "one")
        err = await raises(ErrorCode.AGENT_BUSY, c.manager.chat(agent, "two"))
        assert err.data["turnId"] == first.turn_id
        await raises(ErrorCode.AGENT_BUSY, c.manager.send(agent, "three"))
        gate.set()
        await c.manager.wait_for_idle(agent)
        assert c.sdk.live(agent).prompts == ["one"]


async def test_send_right_after_cancel_runs_after_the_cancelled_turn(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.sdk.script(agent, Hang(settle_secs=0.1))
        await c.manager.send(agent, "one")
        await wait_until(lambda: c.state(agent) == "busy")
        c.manager.cancel(agent)
        second = await c.manager.send(agent, "two")
        await wait_until(lambda: any(ch.turn_id == second.turn_id for ch in c.editor.chunks))
        await c.manager.wait_for_idle(agent)
        assert [ch.text for ch in c.editor.turn_chunks(second.turn_id)] == ["echo: two"]
        assert not [m for _, m in c.editor.logs if "failed" in m]


async def test_a_request_cancelled_by_the_client_stops_the_sdk_turn(core: CoreFactory) -> None:
    """$/cancelRequest cancels the task running agy/chat: the SDK turn is stopped and the agent stays usable."""
    async with core() as c:
        agent = await c.create()
        c.sdk.script(agent, [Say("partial"), Hang()])
        with anyio.move_on_after(0.2) as scope:
            await c.manager.chat(agent, "go")
        assert scope.cancelled_caught
        assert c.sdk.live(agent).cancels == 1
        await wait_until(lambda: c.state(agent) == "idle")
        assert (await c.manager.chat(agent, "again")).text == "echo: again"


def never_answered(c: Core) -> tuple[anyio.Event, anyio.Event]:
    """The editor's confirmations get no answer: (asked, ended), set when one is asked
    and when its request ends without an answer."""
    asked, ended = anyio.Event(), anyio.Event()

    async def never_answers(params: ConfirmToolCallParams) -> ConfirmToolCallResult:
        asked.set()
        try:
            await anyio.sleep_forever()
        finally:
            ended.set()
        raise AssertionError("unreachable")

    c.editor.on_confirm = never_answers
    return asked, ended


async def test_a_turn_that_times_out_while_a_confirmation_is_pending_cancels_the_confirmation(core: CoreFactory) -> None:
    async with core(chatTimeoutSecs=0.2) as c:
        _, cancelled = never_answered(c)
        agent = await c.create(policies=[{"tool": "*", "decision": "ask_user"}])
        c.sdk.script(agent, [Tool("run_command"), Say("never")])
        err = await raises(ErrorCode.TIMEOUT, c.manager.chat(agent, "go"))
        assert cancelled.is_set()
        (result,) = c.editor.results(err.data["turnId"])
        assert result.outcome == "cancelled" and result.error == "the turn was cancelled while waiting for your confirmation"


async def test_a_request_cancelled_by_the_client_cancels_a_pending_confirmation(core: CoreFactory) -> None:
    async with core() as c:
        c.editor.on_confirm = lambda params: anyio.sleep_forever()  # type: ignore[assignment, return-value]
        agent = await c.create(policies=[{"tool": "*", "decision": "ask_user"}])
        c.sdk.script(agent, [Tool("run_command"), Say("never")])
        with anyio.move_on_after(0.2):
            await c.manager.chat(agent, "go")
        await wait_until(lambda: c.state(agent) == "idle")
        (result,) = [ch.tool_result for ch in c.editor.chunks if ch.tool_result is not None]
        assert result.outcome == "cancelled" and result.error == "the turn was cancelled while waiting for your confirmation"
        assert (await c.manager.chat(agent, "again")).text == "echo: again"


async def test_a_harness_that_dies_while_a_confirmation_is_pending_withdraws_it(core: CoreFactory) -> None:
    async with core() as c:
        asked, withdrawn = never_answered(c)
        agent = await c.create(policies=[{"tool": "*", "decision": "ask_user"}])
        c.sdk.script(agent, [Tool("run_command"), Say("never")])
        sent = await c.manager.send(agent, "go")
        await asked.wait()
        c.sdk.live(agent).die()
        await c.manager.wait_for_idle(agent)
        with anyio.fail_after(1):
            await withdrawn.wait()  # the dialog does not outlive its turn
        assert c.editor.tool_chunks(sent.turn_id)[-1][2] == "cancelled"


async def test_a_cancelled_first_turn_is_stored_and_resumable(core: CoreFactory) -> None:
    """A first turn cancelled mid-stream (agy-lsp run on SIGTERM) is saved: its
    conversation id comes from the live harness, not from a turn that finished."""
    async with core() as c:
        agent = await c.create()
        c.sdk.script(agent, [Say("so ", "far"), Hang()])
        out: list[ChatResult] = []
        async with anyio.create_task_group() as tg:
            await chat_in_background(c, tg, agent, "go", out)
            await wait_until(lambda: any(ch.text == "far" for ch in c.editor.chunks))
            assert c.manager.cancel(agent)
        assert out[0].stop_reason == "cancelled"
        conversation = c.manager.status(agent).conversation_id
        assert conversation is not None
        assert [m.conversation_id for m in c.manager.sessions.stored()] == [conversation]
        await c.manager.shutdown_agent(agent)
        resumed = await c.create(conversationId=conversation)
        assert c.manager.status(resumed).conversation_id == conversation


async def test_closing_every_agent_stores_a_first_turn_still_running(core: CoreFactory) -> None:
    """SIGTERM over stdio MCP (and any shutdown) closes every agent and then exits at
    once: the running first turn must have saved itself by the time close_all returns,
    not later in its own task (which the exit never lets run)."""
    async with core() as c:
        agent = await c.create()
        c.sdk.script(agent, [Say("so ", "far"), Hang(settle_secs=0.5)])  # the SDK takes a while to stop it
        out: list[ChatResult] = []
        async with anyio.create_task_group() as tg:
            await chat_in_background(c, tg, agent, "count slowly", out)
            await wait_until(lambda: any(ch.text == "far" for ch in c.editor.chunks))
            conversation = c.sdk.live(agent).conversation_id
            await c.manager.close_all()
            (stored,) = c.manager.sessions.stored()  # before the turn's task runs again
            assert stored.conversation_id == conversation and stored.title == "count slowly"
        assert out[0].stop_reason == "cancelled" and out[0].text == "so far"
        assert c.editor.states_of(agent)[-2:] == ["busy", "closed"]
