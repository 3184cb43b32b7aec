"""Confirmations and remembered permissions (agents/permissions.py): `*_always`
answers are remembered per tool, not asked again, forgotten on reset, and kept
with the stored session."""

from __future__ import annotations

import anyio

from agy_lsp.protocol.types import ConfirmToolCallParams, ConfirmToolCallResult, Permission
from tests.core.conftest import Core, CoreFactory
from tests.core.fake_sdk import Say, Tool

ASK_ALL = [{"tool": "*", "decision": "ask_user"}]


async def outcome(c: Core, agent: str, tool: str = "run_command") -> tuple[str | None, str | None]:
    c.sdk.script(agent, [Tool(tool, {"x": 1}), Say("done")])
    turn_id = (await c.manager.chat(agent, "go")).turn_id
    (result,) = c.editor.results(turn_id)
    return result.outcome, result.error


async def test_allow_always_is_remembered_for_that_tool_only(core: CoreFactory) -> None:
    async with core() as c:
        c.editor.confirm_answers = ["allow_always"]
        c.editor.confirm_default = "reject_once"
        agent = await c.create(policies=ASK_ALL)
        assert await outcome(c, agent) == ("completed", None)
        assert await outcome(c, agent) == ("completed", None)  # not asked again
        assert len(c.editor.confirms) == 1
        assert c.manager.status(agent).permissions == [Permission(tool="run_command", decision="allow")]
        assert (await outcome(c, agent, "edit_file"))[0] == "denied"  # another tool is still asked
        assert [p.tool_call.name for p in c.editor.confirms] == ["run_command", "edit_file"]


async def test_reject_always_is_remembered_and_denies_without_asking(core: CoreFactory) -> None:
    async with core() as c:
        c.editor.confirm_answers = ["reject_always"]
        agent = await c.create(policies=ASK_ALL)
        assert await outcome(c, agent) == ("denied", "you rejected the tool call")
        assert await outcome(c, agent) == ("denied", "you chose to always reject this tool")
        assert len(c.editor.confirms) == 1
        assert c.manager.status(agent).permissions == [Permission(tool="run_command", decision="deny")]


async def test_reset_forgets_one_tool_or_all(core: CoreFactory) -> None:
    async with core() as c:
        c.editor.confirm_answers = ["allow_always", "reject_always"]
        agent = await c.create(policies=ASK_ALL)
        await outcome(c, agent, "run_command")
        await outcome(c, agent, "edit_file")
        assert [p.tool for p in c.manager.status(agent).permissions] == ["edit_file", "run_command"]
        c.manager.reset_permissions(agent, "run_command")
        assert c.manager.status(agent).permissions == [Permission(tool="edit_file", decision="deny")]
        await outcome(c, agent, "run_command")
        assert len(c.editor.confirms) == 3  # asked again
        c.manager.reset_permissions(agent)
        assert c.manager.status(agent).permissions == []
        await outcome(c, agent, "edit_file")
        assert len(c.editor.confirms) == 4


async def test_remembered_permissions_are_stored_and_come_back_on_resume(core: CoreFactory) -> None:
    async with core() as c:
        c.editor.confirm_answers = ["allow_always"]
        c.editor.confirm_default = "reject_once"
        agent = await c.create(policies=ASK_ALL)
        await outcome(c, agent)
        conversation = c.session(agent).conversation_id
        assert conversation is not None
        await c.manager.shutdown_agent(agent)
        resumed = await c.create(conversationId=conversation)
        assert c.manager.status(resumed).permissions == [Permission(tool="run_command", decision="allow")]
        assert await outcome(c, resumed) == ("completed", None)
        assert len(c.editor.confirms) == 1


async def test_a_reset_is_stored_too(core: CoreFactory) -> None:
    async with core() as c:
        c.editor.confirm_answers = ["allow_always"]
        agent = await c.create(policies=ASK_ALL)
        await outcome(c, agent)
        conversation = c.session(agent).conversation_id
        assert conversation is not None
        c.manager.reset_permissions(agent)
        await c.manager.shutdown_agent(agent)
        resumed = await c.create(conversationId=conversation)
        assert c.manager.status(resumed).permissions == []


async def test_a_client_that_cannot_confirm_gets_every_ask_denied(core: CoreFactory) -> None:
    async with core() as c:
        c.editor.confirm_capable = False
        agent = await c.create(policies=ASK_ALL)
        got, why = await outcome(c, agent)
        assert got == "denied" and why and "cannot ask" in why
        assert c.editor.confirms == []


async def test_no_answer_in_time_denies(core: CoreFactory) -> None:
    async with core(confirmTimeoutSecs=0.1) as c:

        async def silent(params: ConfirmToolCallParams) -> ConfirmToolCallResult:
            await anyio.sleep_forever()
            raise AssertionError("unreachable")

        c.editor.on_confirm = silent
        agent = await c.create(policies=ASK_ALL)
        assert await outcome(c, agent) == ("denied", "no answer to the confirmation within 0.1s")


async def test_an_unusable_answer_denies(core: CoreFactory) -> None:
    async with core() as c:
        c.editor.confirm_answers = ["maybe"]
        agent = await c.create(policies=ASK_ALL)
        assert await outcome(c, agent) == ("denied", "the client answered 'maybe', which is not an option")

        async def broken(params: ConfirmToolCallParams) -> ConfirmToolCallResult:
            raise ConnectionError("client went away")

        c.editor.on_confirm = broken
        got, why = await outcome(c, agent)
        assert got == "denied" and why and "ConnectionError" in why
        assert c.manager.status(agent).permissions == []


async def test_the_person_cancelling_the_confirmation_shows_cancelled(core: CoreFactory) -> None:
    async with core() as c:
        c.editor.confirm_answers = ["cancelled"]
        agent = await c.create(policies=ASK_ALL)
        assert await outcome(c, agent) == ("cancelled", "you cancelled the confirmation")
