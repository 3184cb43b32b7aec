"""`AgentManager.chat(report=)`: the core reports the whole turn (text, calls with their
outcomes, files changed, usage, stop reason), also when the turn fails, so the
front-ends read it instead of rebuilding the turn from chunks; and the session's
title is the core's (`manager.sessions.title`)."""

from __future__ import annotations

import pytest

from agy_lsp.agents.report import TurnReport
from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.types import ContentPart
from tests.core.conftest import CoreFactory
from tests.core.fake_sdk import Say, Tool, backend_error


async def test_the_report_holds_the_whole_turn(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(policies={"preset": "allowAll", "rules": [{"tool": "run_command", "decision": "deny"}]})
        c.sdk.script(
            agent,
            [
                Tool("write_to_file", {"TargetFile": "/w/a.py", "CodeContent": "x"}),
                Tool("run_command", {"CommandLine": "rm -rf /"}),
                Say("all ", "done"),
            ],
        )
        seen: list[int] = []
        report = TurnReport()
        report.on_change = lambda: seen.append(len(report.calls))
        result = await c.manager.chat(agent, "go", report)
        assert report.result == result and report.error is None and report.turn_id == result.turn_id
        assert report.text == "all done" and report.parts == ["all ", "done"]
        assert report.stop_reason == "end_turn" and report.usage is not None and report.usage.total_tokens == 10
        assert report.files_changed == ["/w/a.py"]
        calls = report.tool_calls()
        assert [(k.name, k.outcome, k.depth) for k in calls] == [("write_to_file", "completed", 0), ("run_command", "denied", 0)]
        assert calls[0].args == {"TargetFile": "/w/a.py", "CodeContent": "x"} and calls[1].error == "denied by a policy"
        ids = [r.id for r in c.editor.results(result.turn_id)]
        assert [k.id for k in calls] == ids  # the ids the chunks carried
        assert len(seen) == 6  # each call seen and ended, each text delta


async def test_a_failed_turn_still_reports_what_it_did(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(policies="allowAll")
        c.sdk.script(agent, [Say("half"), Tool("view_file", {"path": "/x"}), backend_error(502)])
        report = TurnReport()
        with pytest.raises(AgyError) as caught:
            await c.manager.chat(agent, "go", report)
        assert report.error is caught.value and report.error.code == ErrorCode.BACKEND_ERROR
        assert report.result is None and report.text == "half" and report.stop_reason is None and report.usage is None
        assert [(k.name, k.outcome) for k in report.tool_calls()] == [("view_file", "completed")]


async def test_a_session_is_titled_by_its_first_prompt_by_the_core(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(policies="allowAll")
        plan = [ContentPart(type="command", text="plan"), ContentPart(type="text", text="build   a\nparser")]
        assert c.manager.sessions.title(agent, plan) == "build a parser"  # a command is not the title
        assert c.manager.sessions.title(agent, "x" * 100) == "x" * 79 + "…"
        c.sdk.script(agent, [Say("ok")])
        await c.manager.chat(agent, plan)
        assert c.manager.sessions.title(agent, "another prompt") is None  # titled once
        (listed,) = c.manager.sessions.listing()
        assert listed.title == "build a parser"  # what the front-end showed is what is stored
