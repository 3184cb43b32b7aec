"""The lifecycle table (agents/lifecycle.py), transition by transition, and the real
sequences an agent goes through in the manager."""

from __future__ import annotations

import itertools
from typing import get_args

import anyio
import pytest

from agy_lsp.agents.lifecycle import TRANSITIONS, IllegalTransitionError, Lifecycle
from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.types import AgentState
from tests.core.conftest import CoreFactory, params, raises, wait_until
from tests.core.fake_sdk import Die, Gate, Hang, Say, backend_error

STATES: list[AgentState] = list(get_args(AgentState))
PAIRS = list(itertools.product(STATES, STATES))
LEGAL = [(a, b) for a, b in PAIRS if b in TRANSITIONS[a]]
ILLEGAL = [(a, b) for a, b in PAIRS if b not in TRANSITIONS[a]]


def test_the_table_has_a_row_for_every_state_and_closed_is_final() -> None:
    assert set(TRANSITIONS) == set(STATES) == {"starting", "idle", "busy", "restarting", "hibernated", "failed", "closed"}
    assert TRANSITIONS["closed"] == frozenset()
    assert all("closed" in TRANSITIONS[s] for s in STATES if s != "closed")  # anything can be shut down
    assert len(LEGAL) == 20 and len(ILLEGAL) == 29


@pytest.mark.parametrize(("before", "after"), LEGAL, ids=[f"{a}->{b}" for a, b in LEGAL])
def test_a_transition_in_the_table_is_taken_and_announced(before: AgentState, after: AgentState) -> None:
    seen: list[tuple[AgentState, str | None]] = []
    life = Lifecycle(before, lambda s, r: seen.append((s, r)))
    assert life.can(after)
    life.to(after, "why")
    assert life.state == after
    assert seen == [(after, "why")]
    assert life.has_harness == (after in ("idle", "busy"))


@pytest.mark.parametrize(("before", "after"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL])
def test_a_transition_not_in_the_table_raises_and_changes_nothing(before: AgentState, after: AgentState) -> None:
    seen: list[AgentState] = []
    life = Lifecycle(before, lambda s, r: seen.append(s))
    assert not life.can(after)
    with pytest.raises(IllegalTransitionError, match=f"{before} -> {after}"):
        life.to(after)
    assert life.state == before and seen == []


# ---------------------------------------------------------------------------- through the manager


async def test_create_starts_a_harness_hibernated_to_starting_to_idle(core: CoreFactory) -> None:
    async with core() as c:
        result = await c.manager.create(params(capabilities={"disabledTools": ["run_command"]}))
        agent = result.agent_id
        assert c.editor.states_of(agent) == ["starting", "idle"]
        assert c.state(agent) == "idle" and len(c.sdk.lives_of(agent)) == 1
        assert "run_command" not in result.tools and "view_file" in result.tools


async def test_create_without_start_stays_hibernated_until_the_first_turn(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(start=False)
        assert c.state(agent) == "hibernated" and c.sdk.lives == [] and c.editor.states_of(agent) == []
        assert (await c.manager.chat(agent, "hi")).text == "echo: hi"
        assert c.editor.states_of(agent) == ["starting", "idle", "busy", "idle"]


async def test_a_turn_is_busy_then_idle(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        gate = anyio.Event()
        c.sdk.script(agent, [Say("a"), Gate(gate), Say("b")])
        await c.manager.send(agent, "go")
        await wait_until(lambda: c.state(agent) == "busy")
        assert not c.manager.status(agent).idle
        gate.set()
        await c.manager.wait_for_idle(agent)
        assert c.editor.states_of(agent) == ["starting", "idle", "busy", "idle"]
        assert c.manager.status(agent).idle and c.manager.status(agent).turn_count == 1


async def test_a_harness_that_will_not_start_fails_create_and_leaves_no_agent(core: CoreFactory) -> None:
    async with core() as c:
        c.sdk.fail_start("", AgyError(ErrorCode.BACKEND_ERROR, "the model backend refused the credentials (HTTP 401)"))
        err = await raises(ErrorCode.BACKEND_ERROR, c.create())
        assert err.data["backend"]["type"] == "openai"  # which backend, never its key
        assert "sk-" not in repr(err.data)
        assert c.manager.list() == []
        assert [n.state for n in c.editor.states] == ["starting", "failed", "closed"]


async def test_a_model_failure_restarts_the_harness_on_the_same_conversation(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.sdk.script(agent, [Say("one")], [Say("half"), backend_error(503)])
        await c.manager.chat(agent, "first")
        err = await raises(ErrorCode.BACKEND_ERROR, c.manager.chat(agent, "second"))
        assert err.data["partialText"] == "half" and err.data["httpStatus"] == 503
        assert c.editor.states_of(agent) == ["starting", "idle", "busy", "idle", "busy", "restarting", "starting", "idle"]
        old, new = c.sdk.lives_of(agent)
        assert old.closed and new.spec.resume and new.spec.conversation_id == old.conversation_id
        assert (await c.manager.chat(agent, "third")).text == "echo: third"
        contents = [s.content for s in c.manager.history(agent).steps]
        assert contents == ["first", "one", "second", "half", "third", "echo: third"]  # the history survived


async def test_a_model_failure_in_the_first_turn_keeps_the_conversation(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.sdk.script(agent, [Say("half"), backend_error()])
        await raises(ErrorCode.BACKEND_ERROR, c.manager.chat(agent, "first"))
        old, new = c.sdk.lives_of(agent)
        assert new.spec.conversation_id == old.conversation_id is not None
        await c.manager.chat(agent, "second")
        assert [s.content for s in c.manager.history(agent).steps] == ["first", "half", "second", "echo: second"]


async def test_a_harness_that_died_while_idle_heals_on_the_next_chat(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        await c.manager.chat(agent, "first")
        c.sdk.live(agent).die()
        assert (await c.manager.chat(agent, "second")).text == "echo: second"
        assert c.editor.states_of(agent)[-5:] == ["failed", "starting", "idle", "busy", "idle"]
        healed = c.sdk.live(agent)
        assert healed.spec.resume and healed.spec.conversation_id == c.session(agent).conversation_id
        assert [s.content for s in c.manager.history(agent).steps][:2] == ["first", "echo: first"]


async def test_the_watcher_notices_a_harness_that_died_while_nobody_talked_to_it(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.sdk.live(agent).die()
        await wait_until(lambda: c.state(agent) == "failed", within=2)
        assert c.editor.states[-1].reason == "the harness process exited"
        assert (await c.manager.chat(agent, "hi")).text == "echo: hi"
        assert c.state(agent) == "idle"


async def test_a_harness_that_dies_during_a_turn_fails_that_turn_and_the_next_chat_heals(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.sdk.script(agent, [Say("partial"), Die()])
        err = await raises(ErrorCode.AGENT_FAILED, c.manager.chat(agent, "first"))
        assert err.data["partialText"] == "partial"
        assert c.state(agent) == "failed"
        assert (await c.manager.chat(agent, "second")).text == "echo: second"
        assert c.editor.states_of(agent) == ["starting", "idle", "busy", "failed", "starting", "idle", "busy", "idle"]


async def test_a_harness_killed_while_a_turn_hangs_fails_the_turn(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.sdk.script(agent, Hang())
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: raises(ErrorCode.AGENT_FAILED, c.manager.chat(agent, "first")))
            await wait_until(lambda: c.state(agent) == "busy")
            c.sdk.live(agent).die()
        assert c.state(agent) == "failed"
        assert (await c.manager.chat(agent, "again")).text == "echo: again"


async def test_agent_failed_only_when_the_restart_itself_fails(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.sdk.live(agent).die()
        c.sdk.fail_start(agent, AgyError(ErrorCode.BACKEND_ERROR, "no model"))
        err = await raises(ErrorCode.AGENT_FAILED, c.manager.chat(agent, "hi"))
        assert err.data["cause"] == "no model" and err.data["agentId"] == agent
        assert c.state(agent) == "failed"
        assert (await c.manager.chat(agent, "hi")).text == "echo: hi"  # the cause went away: it heals
        assert c.editor.states_of(agent)[-7:] == ["failed", "starting", "failed", "starting", "idle", "busy", "idle"]


async def test_hibernate_then_wake_on_the_same_conversation(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        await c.manager.chat(agent, "first")
        assert await c.session(agent).hibernate("test")
        assert c.state(agent) == "hibernated" and c.sdk.running() == []
        assert c.manager.history(agent).total == 2  # answered from the kept conversation, no harness
        await c.manager.chat(agent, "second")
        assert c.editor.states_of(agent)[-5:] == ["hibernated", "starting", "idle", "busy", "idle"]
        assert c.manager.status(agent).turn_count == 2
        assert [s.content for s in c.manager.history(agent).steps] == ["first", "echo: first", "second", "echo: second"]


async def test_shutdown_closes_the_harness_and_the_agent_is_gone(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        live = c.sdk.live(agent)
        await c.manager.shutdown_agent(agent)
        assert live.closed and c.editor.states_of(agent)[-1] == "closed"
        await raises(ErrorCode.AGENT_NOT_FOUND, c.manager.chat(agent, "hi"))
        await raises(ErrorCode.AGENT_NOT_FOUND, c.manager.send(agent, "hi"))


async def test_a_chat_still_waiting_when_its_agent_closes_gets_agent_closed(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.sdk.script(agent, Hang(settle_secs=0.3))  # the cancelled turn takes a while to stop
        await c.manager.send(agent, "first")
        await wait_until(lambda: c.state(agent) == "busy")
        c.manager.cancel(agent)
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: raises(ErrorCode.AGENT_CLOSED, c.manager.chat(agent, "second")))
            await anyio.sleep(0.05)  # the second chat waits for the cancelled one
            await c.manager.shutdown_agent(agent)
        assert c.editor.states_of(agent)[-1] == "closed"


async def test_closing_a_busy_agent_ends_its_turn(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.sdk.script(agent, [Say("so far"), Hang()])
        results = []

        async def chat() -> None:
            results.append(await c.manager.chat(agent, "go"))

        async with anyio.create_task_group() as tg:
            tg.start_soon(chat)
            await wait_until(lambda: c.state(agent) == "busy")
            await c.manager.shutdown_agent(agent)
        assert results[0].stop_reason == "cancelled" and results[0].text == "so far"
        assert c.editor.states_of(agent)[-2:] == ["busy", "closed"]


async def test_close_all_closes_every_harness_and_refuses_new_agents(core: CoreFactory) -> None:
    async with core() as c:
        a, b = await c.create(), await c.create()
        await c.manager.close_all()
        assert c.sdk.running() == [] and c.manager.list() == []
        assert c.editor.states_of(a)[-1] == c.editor.states_of(b)[-1] == "closed"
        await raises(ErrorCode.SERVER_SHUTTING_DOWN, c.create())
