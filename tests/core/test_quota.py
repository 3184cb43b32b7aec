"""Quota backoff, shared by every agent on one key (agents/quota.py, agents/chat.py)."""

from __future__ import annotations

import itertools

import anyio

from agy_lsp.backends.identity import quota_key
from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.protocol.types import ChatResult, OpenAI
from tests.core.conftest import BACKEND, CoreFactory, raises, wait_until
from tests.core.fake_sdk import Gate, Say, Stop, quota

KEY = quota_key(BACKEND)


async def test_retry_after_is_waited_out_then_the_turn_succeeds_and_the_backoff_clears(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.sdk.script(agent, quota(retry_after_ms=150), [Say("made it")])
        result = await c.manager.chat(agent, "go")
        assert result.text == "made it"
        first, second = c.sdk.sends_of(agent)
        assert second - first >= 0.148
        assert [(n.key, n.state, n.retry_after_ms) for n in c.editor.quotas] == [(KEY, "backoff", 150), (KEY, "clear", 0)]
        assert c.manager.quota.remaining_ms(KEY) == 0
        assert len(c.sdk.lives_of(agent)) == 2  # a failed SDK agent is replaced before the retry


async def test_without_retry_after_the_backoff_is_exponential(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.sdk.script(agent, quota(), quota(), quota(), [Say("ok")])
        assert (await c.manager.chat(agent, "go")).text == "ok"
        assert [n.retry_after_ms for n in c.editor.quotas if n.state == "backoff"] == [20, 40, 80]
        sends = c.sdk.sends_of(agent)
        gaps = [b - a for a, b in itertools.pairwise(sends)]
        assert len(gaps) == 3 and all(gap >= wait - 0.002 for gap, wait in zip(gaps, (0.02, 0.04, 0.08), strict=True))
        assert c.editor.quotas[-1].state == "clear"


async def test_exhausted_retries_are_quota_exceeded_with_the_backoff_in_data(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(maxQuotaRetries=1)
        c.sdk.script(agent, quota(retry_after_ms=30), quota(retry_after_ms=50))
        err = await raises(ErrorCode.QUOTA_EXCEEDED, c.manager.chat(agent, "go"))
        assert err.data["retryAfterMs"] == 50 and err.data["agentId"] == agent
        assert len(c.sdk.sends_of(agent)) == 2
        assert [n.state for n in c.editor.quotas] == ["backoff", "backoff"]  # no success, no clear
        assert c.manager.quota.remaining_ms(KEY) > 0
        assert c.state(agent) == "idle"  # the agent itself is fine


async def test_zero_retries_fail_at_the_first_429(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(maxQuotaRetries=0)
        c.sdk.script(agent, quota(retry_after_ms=10))
        await raises(ErrorCode.QUOTA_EXCEEDED, c.manager.chat(agent, "go"))
        assert len(c.sdk.sends_of(agent)) == 1


async def test_a_quota_stop_reason_is_retried_like_a_429(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.sdk.script(agent, [Say("cut"), Stop("QUOTA_EXHAUSTED")], [Say("whole")])
        assert (await c.manager.chat(agent, "go")).text == "cutwhole"
        assert [n.state for n in c.editor.quotas] == ["backoff", "clear"]


async def test_two_agents_on_one_key_share_the_backoff(core: CoreFactory) -> None:
    async with core() as c:
        a, b = await c.create(), await c.create()
        c.sdk.script(a, quota(retry_after_ms=300), [Say("a done")])
        out: list[ChatResult] = []
        async with anyio.create_task_group() as tg:

            async def chat_a() -> None:
                out.append(await c.manager.chat(a, "a"))

            tg.start_soon(chat_a)
            await wait_until(lambda: c.manager.quota.remaining_ms(KEY) > 0)
            failed_at = c.sdk.sends_of(a)[0]
            assert (await c.manager.chat(b, "b")).text == "echo: b"
        (b_sent,) = c.sdk.sends_of(b)
        assert b_sent - failed_at >= 0.298  # b waited out a's backoff before reaching the model
        assert out[0].text == "a done"


async def test_an_agent_on_another_key_does_not_wait(core: CoreFactory) -> None:
    async with core() as c:
        a = await c.create()
        other = await c.create(backend={"type": "openai", "baseUrl": "http://other.test/v1", "apiKey": "sk-other"})
        assert quota_key(OpenAI(base_url="http://other.test/v1", api_key="sk-other")) != KEY
        c.manager.quota.backoff(KEY, 60_000, c.editor)
        with anyio.fail_after(2):
            assert (await c.manager.chat(other, "hi")).text == "echo: hi"
        assert c.sdk.sends_of(a) == []


async def test_a_later_failure_on_the_key_extends_the_wait_of_an_agent_already_waiting(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.manager.quota.backoff(KEY, 100, c.editor)
        async with anyio.create_task_group() as tg:

            async def chat() -> None:
                await c.manager.chat(agent, "go")

            tg.start_soon(chat)
            await anyio.sleep(0.05)
            c.manager.quota.backoff(KEY, 300, c.editor)  # another agent's 429 while this one waits
            extended_at = anyio.current_time()
            await wait_until(lambda: c.sdk.sends_of(agent) != [])
            assert anyio.current_time() - extended_at >= 0.29
        assert c.editor.quotas[-1].state == "clear"


async def test_a_gated_turn_keeps_its_harness_while_other_agents_wait_on_the_key(core: CoreFactory) -> None:
    """Backoff is per key, not per agent: a turn already streaming is not interrupted by another's 429."""
    async with core() as c:
        a, b = await c.create(), await c.create()
        gate = anyio.Event()
        c.sdk.script(a, [Say("streaming"), Gate(gate), Say(" on")])
        sent = await c.manager.send(a, "go")
        await wait_until(lambda: any(ch.turn_id == sent.turn_id for ch in c.editor.chunks))
        c.sdk.script(b, quota(retry_after_ms=50), [Say("b")])
        assert (await c.manager.chat(b, "b")).text == "b"
        gate.set()
        await c.manager.wait_for_idle(a)
        assert "".join(ch.text or "" for ch in c.editor.turn_chunks(sent.turn_id)) == "streaming on"
        assert len(c.sdk.lives_of(a)) == 1
