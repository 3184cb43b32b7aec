"""New settings (didChangeConfiguration) reach agents that already live: per-turn
settings are read when a turn starts; a value set on the agent still wins."""

from __future__ import annotations

from typing import Any

import anyio
import msgspec

from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.protocol.types import ConfirmToolCallParams, ConfirmToolCallResult
from tests.core.conftest import Clock, Core, CoreFactory, raises
from tests.core.fake_sdk import Gate, Hang, Say, Tool, quota


def reconfigure(c: Core, **changes: Any) -> None:
    c.manager.reconfigure(msgspec.structs.replace(c.manager.settings, **changes))


async def test_a_new_chat_timeout_applies_to_the_next_turn_of_an_existing_agent(core: CoreFactory) -> None:
    async with core(chatTimeoutSecs=30) as c:
        agent = await c.create()
        await c.manager.chat(agent, "warm up")
        reconfigure(c, chat_timeout_secs=0.2)
        c.sdk.script(agent, [Say("partial"), Hang()])
        clock = Clock()
        err = await raises(ErrorCode.TIMEOUT, c.manager.chat(agent, "slow"))
        assert clock() < 2 and err.data["timeoutSecs"] == 0.2 and err.data["partialText"] == "partial"
        assert (await c.manager.chat(agent, "after")).text == "echo: after"
        assert len(c.sdk.lives_of(agent)) == 2  # a turn abandoned by our timeout leaves the SDK agent unusable


async def test_a_chat_timeout_set_on_the_agent_wins_over_the_settings(core: CoreFactory) -> None:
    async with core(chatTimeoutSecs=30) as c:
        agent = await c.create(chatTimeoutSecs=5)
        reconfigure(c, chat_timeout_secs=0.1)
        gate = anyio.Event()
        c.sdk.script(agent, [Gate(gate), Say("made it")])
        async with anyio.create_task_group() as tg:

            async def open_gate() -> None:
                await anyio.sleep(0.3)
                gate.set()

            tg.start_soon(open_gate)
            assert (await c.manager.chat(agent, "slow")).text == "made it"


async def test_new_max_quota_retries_apply_to_the_next_turn_of_an_existing_agent(core: CoreFactory) -> None:
    async with core(maxQuotaRetries=5) as c:
        agent = await c.create()
        reconfigure(c, max_quota_retries=0)
        c.sdk.script(agent, quota(retry_after_ms=10), [Say("not reached")])
        await raises(ErrorCode.QUOTA_EXCEEDED, c.manager.chat(agent, "go"))
        assert len(c.sdk.sends_of(agent)) == 1


async def test_max_quota_retries_set_on_the_agent_win_over_the_settings(core: CoreFactory) -> None:
    async with core(maxQuotaRetries=5) as c:
        agent = await c.create(maxQuotaRetries=2)
        reconfigure(c, max_quota_retries=0)
        c.sdk.script(agent, quota(retry_after_ms=10), quota(retry_after_ms=10), [Say("third time")])
        assert (await c.manager.chat(agent, "go")).text == "third time"
        assert len(c.sdk.sends_of(agent)) == 3


async def test_a_new_confirm_timeout_applies_to_an_existing_agent(core: CoreFactory) -> None:
    async with core(confirmTimeoutSecs=60) as c:

        async def silent(params: ConfirmToolCallParams) -> ConfirmToolCallResult:
            await anyio.sleep_forever()
            raise AssertionError("unreachable")

        c.editor.on_confirm = silent
        agent = await c.create(policies=[{"tool": "*", "decision": "ask_user"}])
        reconfigure(c, confirm_timeout_secs=0.1)
        c.sdk.script(agent, [Tool("run_command"), Say("done")])
        turn = (await c.manager.chat(agent, "go")).turn_id
        (result,) = c.editor.results(turn)
        assert result.error == "no answer to the confirmation within 0.1s"


async def test_new_pacing_spaces_the_next_model_requests(core: CoreFactory) -> None:
    async with core() as c:
        a, b = await c.create(), await c.create()
        reconfigure(c, pacing_ms=150)
        async with anyio.create_task_group() as tg:
            tg.start_soon(c.manager.chat, a, "a")
            tg.start_soon(c.manager.chat, b, "b")
        (sent_a,), (sent_b,) = c.sdk.sends_of(a), c.sdk.sends_of(b)
        # Pacing spaces the turns' start slots; the sends follow them through a few awaits,
        # which a loaded machine can stretch for one and not the other (unpaced: ~0 s apart).
        assert abs(sent_a - sent_b) >= 0.1


async def test_the_scripted_fallback_is_announced_once_after_the_keyring_was_asked(core: CoreFactory, monkeypatch: Any) -> None:
    """No backend and no key: at initialize the keyring was not asked yet (it may hold a
    key `agy-lsp login` stored), so the warning waits for the first agent, which asks."""
    monkeypatch.setenv("AGY_KEYRING", "")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")  # a keyring with nothing in it
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    async with core() as c:
        c.manager.announce_fallback()
        warned = lambda: [m for level, m in c.editor.logs if level == "warning" and "built-in scripted model" in m]  # noqa: E731
        assert warned() == []
        await c.create(backend=None)
        await c.create(backend=None)
        assert len(warned()) == 1, c.editor.logs
