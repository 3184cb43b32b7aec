"""Acknowledged means stored: a turn whose session cannot be saved (a full disk, a
read-only state directory) still answers, says in its answer and to the editor that
it was not stored, and the next save that succeeds stores everything. The faults are
real (tests/disk_faults.py); only the SDK is the fake one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import msgspec
import pytest

from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.protocol.types import ChatResult
from tests.core.conftest import CoreFactory, raises, wait_until
from tests.core.fake_sdk import Say, Tool, backend_error
from tests.disk_faults import Fault, can_mount, inject_enospc, read_only, small_disk

ASK_ALL = [{"tool": "*", "decision": "ask_user"}]


@pytest.fixture(params=["read-only", "full"])
def fault(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fault]:
    """On the core fixture's state directory (tmp_path/state)."""
    state = tmp_path / "state"
    if request.param == "read-only":
        with read_only(state / "sessions") as f:
            yield f
    elif can_mount():
        with small_disk(state, 4) as f:
            yield f
    else:  # no mount for a normal user: the fault-injecting fallback
        state.mkdir()
        yield inject_enospc(monkeypatch, state)


def stored(path: Path) -> dict[str, object]:
    return msgspec.json.decode(path.read_bytes())


def not_saved(result: ChatResult, fault: Fault, conversation_id: str | None) -> None:
    warning = result.warning
    assert warning is not None and warning.code == ErrorCode.PERSIST_FAILED == -32013
    assert warning.data["code"] == "PERSIST_FAILED" and warning.data["errno"] == fault.errno
    assert warning.data["turnId"] == result.turn_id and warning.data["conversationId"] == conversation_id
    assert warning.data["cause"] and warning.data["hint"] and result.turn_id in warning.message


async def test_a_turn_not_saved_says_so_and_the_next_save_stores_everything(core: CoreFactory, fault: Fault) -> None:
    async with core() as c:
        agent = await c.create(policies=ASK_ALL)
        first = await c.manager.chat(agent, "first prompt")
        session = c.session(agent)
        conversation = session.conversation_id
        path = c.state_dir / "sessions" / f"{conversation}.json"
        assert first.warning is None
        before = path.read_bytes()

        fault.on()
        c.editor.confirm_answers = ["allow_always"]  # remembered during the fault
        c.sdk.script(agent, [Tool("run_command", {"x": 1}), Say("ran it")])
        second = await c.manager.chat(agent, "second")
        assert second.text == "ran it" and second.stop_reason == "end_turn", "the agent did answer, and says why it stopped"
        not_saved(second, fault, conversation)
        errors = [m for level, m in c.editor.logs if level == "error"]
        assert len(errors) == 1 and "PERSIST_FAILED -32013" in errors[0] and second.turn_id in errors[0]
        assert fault.errno in errors[0] and second.warning is not None and second.warning.data["hint"] in errors[0]
        assert second.warning.data["path"] == str(path)
        assert path.read_bytes() == before, "what was stored before is untouched"
        assert sorted(p.name for p in path.parent.iterdir()) == [path.name], "no temp file left behind"

        third = await c.manager.chat(agent, "third")  # it goes on working, in memory
        assert third.text == "echo: third"
        not_saved(third, fault, conversation)
        assert c.manager.status(agent).permissions[0].tool == "run_command"
        assert not await session.hibernate("test"), "its harness may hold the only copy"
        assert session.live is not None and not session.can_hibernate()  # kept live; retried at a later tick
        assert path.read_bytes() == before

        fault.off()
        fourth = await c.manager.chat(agent, "fourth")
        assert fourth.warning is None
        assert c.editor.logs[-1][0] == "info" and "saved again" in c.editor.logs[-1][1]
        saved = stored(path)
        assert saved["turnCount"] == 4 and saved["title"] == "first prompt"
        assert saved["permissions"] == [{"tool": "run_command", "decision": "allow"}], "what the fault-time turns changed is stored"
        assert session.can_hibernate()

        await c.manager.shutdown_agent(agent)
        resumed = await c.create(conversationId=conversation)
        status = c.manager.status(resumed)
        assert status.turn_count == 4 and [p.tool for p in status.permissions] == ["run_command"]


async def test_a_first_turn_not_saved_and_a_failed_turn_say_so_too(core: CoreFactory, fault: Fault) -> None:
    async with core() as c:
        fault.on()
        agent = await c.create()
        first = await c.manager.chat(agent, "the very first prompt")
        conversation = c.session(agent).conversation_id
        not_saved(first, fault, conversation)
        path = c.state_dir / "sessions" / f"{conversation}.json"
        assert not path.exists()

        c.sdk.script(agent, [Say("half"), backend_error(500)])
        failed = await raises(ErrorCode.BACKEND_ERROR, c.manager.chat(agent, "fails"))
        warning = failed.data["warning"]
        assert warning["code"] == -32013 and warning["data"]["code"] == "PERSIST_FAILED"
        assert warning["data"]["turnId"] == failed.data["turnId"]

        fault.off()
        assert (await c.manager.chat(agent, "again")).warning is None
        saved = stored(path)
        assert saved["title"] == "the very first prompt" and saved["turnCount"] == c.manager.status(agent).turn_count >= 2


async def test_an_agent_whose_save_fails_is_kept_live_and_hibernates_once_a_retry_saves(core: CoreFactory, fault: Fault) -> None:
    """The hibernation timer retries the save: while it fails the agent stays live
    (its harness may hold the only copy of the last turns), told once, retried with a
    backoff (0.2 s idle timeout: 0.2, 0.4, 0.8 s ...), not at every 0.05 s tick; once a
    save succeeds it hibernates with everything stored, and wakes with it."""
    async with core(idleTimeoutSecs=0.2) as c:
        agent = await c.create()
        await c.manager.chat(agent, "first")
        session = c.session(agent)
        path = c.state_dir / "sessions" / f"{session.conversation_id}.json"
        fault.on()
        assert (await c.manager.chat(agent, "second")).warning is not None
        await anyio.sleep(1.0)
        assert c.state(agent) == "idle" and not c.sdk.live(agent).closed, "hibernated without a save: turns may be lost"
        assert 2 <= session.save_retry.failures <= 3, "the save is retried, with a backoff"
        kept = [(level, m) for level, m in c.editor.logs if "kept live" in m]
        assert len(kept) == 1 and kept[0][0] == "warning" and "PERSIST_FAILED -32013" in kept[0][1]
        assert stored(path)["turnCount"] == 1

        fault.off()
        await wait_until(lambda: c.state(agent) == "hibernated", within=5)
        assert c.sdk.live(agent).closed and stored(path)["turnCount"] == 2
        assert any(level == "info" and "saved again" in m for level, m in c.editor.logs)
        assert (await c.manager.chat(agent, "third")).text == "echo: third"  # woken on the same conversation
        assert c.manager.status(agent).turn_count == 3 and session.save_retry.failures == 0


async def test_an_agent_whose_save_fails_does_not_block_making_room(core: CoreFactory, fault: Fault) -> None:
    """Under maxLiveAgents an unsaved agent is tried once (its save fails), then the
    next least recently used one makes way: no spinning on the one that cannot."""
    async with core(maxLiveAgents=2) as c:
        unsaved, other = await c.create(), await c.create()  # other: no turn yet, nothing of it to store
        fault.on()
        assert (await c.manager.chat(unsaved, "not stored")).warning is not None
        c.session(unsaved).last_active = 0  # the least recently used
        third = await c.create()
        assert [c.state(a) for a in (unsaved, other, third)] == ["idle", "hibernated", "idle"]
        assert c.session(unsaved).save_retry.failures == 1
