"""New settings (didChangeConfiguration) reach agents that already live: per-turn
settings are read when a turn starts; a value set on the agent still wins."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import anyio
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.protocol.types import ConfirmToolCallParams, ConfirmToolCallResult, OpenAI
from agy_lsp.settings import SettingsError, check_number, from_environment, merge_initialization_options
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


# ---------------------------------------------------------------- environment and flags, validated


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("AGY_BACKEND", "nonsense", "gemini, vertex, openai, scripted"),
        ("AGY_MAX_LIVE_AGENTS", "-1", "whole number >= 0"),
        ("AGY_MAX_LIVE_AGENTS", "abc", "whole number >= 0"),
        ("AGY_IDLE_TIMEOUT_SECS", "-5", "number >= 0"),
        ("AGY_CHAT_TIMEOUT_SECS", "nan", "number >= 0"),
        ("AGY_PACING_MS", "1.5", "whole number >= 0"),
        ("AGY_BASE_URL", "notaurl", "http(s) URL"),
        ("AGY_LOG_LEVEL", "loud", "debug, info, warning, error, critical"),
    ],
)
def test_a_bad_environment_value_is_an_error_naming_the_variable_the_value_and_what_is_allowed(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, allowed: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        from_environment()
    assert f"{name}={value!r}" in str(caught.value) and allowed in str(caught.value)


def test_good_environment_values_are_used_and_blank_ones_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGY_BACKEND", "OpenAI")
    monkeypatch.setenv("AGY_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("AGY_MAX_LIVE_AGENTS", "0")
    monkeypatch.setenv("AGY_IDLE_TIMEOUT_SECS", "2.5")
    monkeypatch.setenv("AGY_PACING_MS", " ")
    settings = from_environment()
    assert settings.backend == OpenAI(base_url="http://127.0.0.1:9/v1", model="")
    assert settings.max_live_agents == 0 and settings.idle_timeout_secs == 2.5 and settings.pacing_ms == 500


@given(st.text(max_size=12))
def test_check_number_accepts_exactly_the_finite_numbers_from_zero(value: str) -> None:
    try:
        number = float(value)
    except ValueError:
        number = None
    try:
        checked = check_number(value, "AGY_X")
    except SettingsError as e:
        assert number is None or not 0 <= number < float("inf"), e
        assert str(e).startswith(f"AGY_X={value!r}")
    else:
        assert checked == number


@pytest.mark.parametrize(
    ("env", "args"),
    [
        ({"AGY_BACKEND": "nonsense"}, []),
        ({"AGY_MAX_LIVE_AGENTS": "-1"}, []),
        ({}, ["--max-live-agents", "-1"]),
        ({}, ["--idle-timeout-secs", "-5"]),
        ({}, ["--base-url", "notaurl"]),
        ({"AGY_IDLE_TIMEOUT_SECS": "abc"}, ["--mcp"]),
        ({"AGY_BACKEND": "nonsense"}, ["chat", "hello"]),
    ],
)
def test_a_bad_setting_at_start_is_one_line_on_stderr_and_exit_code_2(env: dict[str, str], args: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "agy_lsp", *args],
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert "error:" in last and ("AGY_" in last or "argument --" in last), proc.stderr
    if env:  # an environment value: one line, not a usage text
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_negative_numbers_in_initialization_options_are_refused() -> None:
    base = from_environment()
    with pytest.raises(ValueError, match="maxLiveAgents"):
        merge_initialization_options(base, {"maxLiveAgents": -1})
    with pytest.raises(ValueError, match="idleTimeoutSecs"):
        merge_initialization_options(base, {"idleTimeoutSecs": -5})
    assert merge_initialization_options(base, {"maxLiveAgents": 0}).max_live_agents == 0
