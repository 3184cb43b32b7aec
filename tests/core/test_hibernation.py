"""Hibernation: the LRU under maxLiveAgents, waiting for room, idle timeout, and
queries that never wake an agent (agents/hibernation.py)."""

from __future__ import annotations

import anyio
import msgspec

from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.protocol.types import ChatResult
from tests.core.conftest import Clock, CoreFactory, raises, wait_until
from tests.core.fake_sdk import Gate, Hang, Say


async def test_max_live_agents_hibernates_the_least_recently_used_idle_agent(core: CoreFactory) -> None:
    async with core(maxLiveAgents=2) as c:
        a, b = await c.create(), await c.create()
        await c.manager.chat(a, "a is the most recent now")
        third = await c.create()
        assert c.state(b) == "hibernated" and c.state(a) == "idle" and c.state(third) == "idle"
        assert len(c.sdk.running()) == 2
        (made_way,) = [n for n in c.editor.states if n.agent_id == b and n.state == "hibernated"]
        assert made_way.reason == f"maxLiveAgents=2: making room for agent {third}"


async def test_a_busy_agent_is_never_hibernated(core: CoreFactory) -> None:
    async with core(maxLiveAgents=2) as c:
        busy, idle = await c.create(), await c.create()
        gate = anyio.Event()
        c.sdk.script(busy, Gate(gate))
        await c.manager.send(busy, "hold")  # busy is the least recently used by creation order, but busy
        await wait_until(lambda: c.state(busy) == "busy")
        c.session(busy).last_active = 0  # the oldest of all
        await c.create()
        assert c.state(busy) == "busy" and c.state(idle) == "hibernated"
        gate.set()
        await c.manager.wait_for_idle(busy)
        assert c.sdk.live(busy).prompts == ["hold"] and not c.sdk.live(busy).closed


async def test_when_every_live_agent_is_busy_a_start_waits_for_a_turn_to_end(core: CoreFactory) -> None:
    async with core(maxLiveAgents=1) as c:
        busy = await c.create()
        gate = anyio.Event()
        c.sdk.script(busy, [Say("working"), Gate(gate)])
        await c.manager.send(busy, "hold")
        waiting = await c.create(start=False)
        out: list[ChatResult] = []
        async with anyio.create_task_group() as tg:

            async def chat() -> None:
                out.append(await c.manager.chat(waiting, "go"))

            tg.start_soon(chat)
            await wait_until(lambda: c.state(waiting) == "starting")
            await anyio.sleep(0.05)
            assert c.sdk.lives_of(waiting) == [] and out == []  # still waiting for room
            gate.set()
        assert out[0].text == "echo: go"
        assert c.state(busy) == "hibernated"  # its turn ended, then it made way
        assert len(c.sdk.running()) == 1


async def test_when_every_live_agent_stays_busy_the_start_fails_with_agent_limit(core: CoreFactory) -> None:
    async with core(maxLiveAgents=1, chatTimeoutSecs=0.2) as c:
        busy = await c.create(chatTimeoutSecs=30)  # its own turn may run long
        c.sdk.script(busy, Hang())
        await c.manager.send(busy, "hold")
        await wait_until(lambda: c.state(busy) == "busy")
        waiting = await c.create(start=False)
        clock = Clock()
        err = await raises(ErrorCode.AGENT_LIMIT, c.manager.chat(waiting, "go"))
        assert 0.15 < clock() < 2
        assert err.data["maxLiveAgents"] == 1
        assert c.state(waiting) == "hibernated" and c.state(busy) == "busy"
        c.manager.cancel(busy)


async def test_create_fails_with_agent_limit_when_no_room_comes(core: CoreFactory) -> None:
    async with core(maxLiveAgents=1, chatTimeoutSecs=0.1) as c:
        busy = await c.create(chatTimeoutSecs=30)
        c.sdk.script(busy, Hang())
        await c.manager.send(busy, "hold")
        await wait_until(lambda: c.state(busy) == "busy")
        await raises(ErrorCode.AGENT_LIMIT, c.create())
        assert len(c.manager.list()) == 1  # the agent that found no room is not kept
        c.manager.cancel(busy)


async def test_lowering_the_cap_hibernates_idle_agents_least_recently_used_first(core: CoreFactory) -> None:
    async with core(maxLiveAgents=3) as c:
        a, b, d = await c.create(), await c.create(), await c.create()
        await c.manager.chat(a, "a is the newest")
        c.manager.reconfigure(msgspec.structs.replace(c.manager.settings, max_live_agents=1))
        await wait_until(lambda: len(c.sdk.running()) == 1, within=2)  # the watcher trims
        assert [c.state(x) for x in (a, b, d)] == ["idle", "hibernated", "hibernated"]


async def test_an_agent_idle_past_the_timeout_hibernates_and_the_next_chat_wakes_it(core: CoreFactory) -> None:
    async with core(idleTimeoutSecs=0.15) as c:
        agent = await c.create()
        await c.manager.chat(agent, "first")
        clock = Clock()
        await wait_until(lambda: c.state(agent) == "hibernated", within=2)
        assert clock() >= 0.1
        assert c.sdk.running() == []
        assert (await c.manager.chat(agent, "second")).text == "echo: second"
        assert [s.content for s in c.manager.history(agent).steps] == ["first", "echo: first", "second", "echo: second"]


async def test_a_busy_agent_is_not_hibernated_by_the_idle_timeout(core: CoreFactory) -> None:
    async with core(idleTimeoutSecs=0.1) as c:
        agent = await c.create()
        gate = anyio.Event()
        c.sdk.script(agent, Gate(gate))
        await c.manager.send(agent, "long")
        await anyio.sleep(0.4)
        assert c.state(agent) == "busy"
        gate.set()
        await c.manager.wait_for_idle(agent)


async def test_a_cancelled_first_turn_survives_hibernation(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.sdk.script(agent, [Say("partial"), Hang()])
        await c.manager.send(agent, "first")
        await wait_until(lambda: any(ch.text == "partial" for ch in c.editor.chunks))
        c.manager.cancel(agent)
        await c.manager.wait_for_idle(agent)
        assert await c.session(agent).hibernate("test")
        await c.manager.chat(agent, "second")
        assert c.manager.history(agent).steps[0].content == "first"


async def test_wait_for_wakeup_answers_false_without_waking_a_hibernated_agent(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(start=False)
        clock = Clock()
        assert await c.manager.wait_for_wakeup(agent, 5) is False
        assert clock() < 1
        assert c.state(agent) == "hibernated" and c.sdk.starts == []
        awake = await c.create()
        assert await c.manager.wait_for_wakeup(awake, 5) is False
        assert len(c.sdk.starts) == 1
        await raises(ErrorCode.AGENT_NOT_FOUND, c.manager.wait_for_wakeup("nobody", 1))


async def test_queries_on_a_hibernated_agent_do_not_wake_it(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        await c.manager.chat(agent, "hi")
        assert await c.session(agent).hibernate("test")
        starts = len(c.sdk.starts)
        status = c.manager.status(agent)
        assert status.state == "hibernated" and status.turn_count == 1 and status.last_response == "echo: hi"
        assert c.manager.history(agent).total == 2
        assert c.manager.usage(agent).total_usage.total_tokens == 10
        assert [s.agent_id for s in c.manager.list()] == [agent]
        assert len(c.sdk.starts) == starts and c.state(agent) == "hibernated"
