"""Every tool call the model makes is visible with its outcome: a toolCall and a
toolResult chunk under one id, live and in history, and no internal `rule:` text."""

from __future__ import annotations

from typing import Any

import anyio

from agy_lsp.protocol.types import ExportSessionParams, HookParams, HookResult, RunToolParams, RunToolResult, Step
from tests.core.conftest import Core, CoreFactory, wait_until
from tests.core.fake_sdk import Hang, Say, Tool

WORD_COUNT = {"name": "word_count", "description": "Counts words", "parameters": {"type": "object"}}


async def turn(c: Core, agent: str, *acts: Any) -> str:
    c.sdk.script(agent, [*acts, Say("done")])
    return (await c.manager.chat(agent, "go")).turn_id


def call_steps(c: Core, agent: str) -> list[Step]:
    return [s for s in c.manager.history(agent).steps if s.tool_calls]


def assert_refused(c: Core, agent: str, turn_id: str, outcome: str, reason: str) -> None:
    """One toolCall + one toolResult chunk with the same id and the outcome; history agrees."""
    (call_chunk,) = [ch for ch in c.editor.turn_chunks(turn_id) if ch.kind == "toolCall"]
    (result,) = c.editor.results(turn_id)
    assert call_chunk.tool_call is not None and result.id == call_chunk.tool_call.id
    assert result.outcome == outcome and result.error == reason and result.result is None
    (step,) = call_steps(c, agent)
    assert step.tool_calls[0].id == result.id and step.tool_calls[0].outcome == outcome
    assert step.error == reason and "rule:" not in step.error and "pre-tool hook" not in step.error


async def test_an_allowed_builtin_call_shows_its_result(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(policies="allowAll")
        turn_id = await turn(c, agent, Tool("run_command", {"CommandLine": "ls"}, result={"stdout": "a b"}))
        kinds = [ch.kind for ch in c.editor.turn_chunks(turn_id)]
        assert kinds == ["toolCall", "toolResult", "text"]
        assert [ch.seq for ch in c.editor.turn_chunks(turn_id)] == [1, 2, 3]
        (result,) = c.editor.results(turn_id)
        assert result.outcome == "completed" and result.result == {"stdout": "a b"} and result.error is None
        (step,) = call_steps(c, agent)
        assert step.tool_calls[0].id == result.id and step.tool_calls[0].args == {"CommandLine": "ls"}


async def test_a_builtin_call_that_fails_shows_failed(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(policies="allowAll")
        turn_id = await turn(c, agent, Tool("view_file", {"path": "/nope"}, result=None, error="no such file"))
        (result,) = c.editor.results(turn_id)
        assert result.outcome == "failed" and result.error == "no such file"


async def test_a_call_denied_by_a_policy_is_shown_denied_with_a_clean_reason(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(policies={"preset": "allowAll", "rules": [{"tool": "run_command", "decision": "deny"}]})
        turn_id = await turn(c, agent, Tool("run_command", {"CommandLine": "rm -rf /"}))
        assert_refused(c, agent, turn_id, "denied", "denied by a policy")
        assert c.editor.confirms == []


async def test_a_call_the_person_rejected_is_shown_denied(core: CoreFactory) -> None:
    async with core() as c:
        c.editor.confirm_answers = ["reject_once"]
        agent = await c.create(policies=[{"tool": "run_command", "decision": "ask_user", "reason": "it runs code"}])
        turn_id = await turn(c, agent, Tool("run_command", {"CommandLine": "make"}))
        assert_refused(c, agent, turn_id, "denied", "you rejected the tool call")
        (asked,) = c.editor.confirms
        assert asked.reason == "it runs code" and asked.tool_call.id == c.editor.results(turn_id)[0].id
        assert asked.turn_id == turn_id and asked.options[0].option_id == "allow_once"


async def test_a_call_a_pre_tool_hook_denied_is_shown_denied_with_the_hooks_message(core: CoreFactory) -> None:
    async with core() as c:

        async def deny(params: HookParams) -> HookResult:
            return HookResult(allow=False, message="not on Fridays")

        c.editor.on_hook = deny
        agent = await c.create(policies="allowAll", hooks=["preToolCall"])
        turn_id = await turn(c, agent, Tool("run_command", {"CommandLine": "deploy"}))
        assert_refused(c, agent, turn_id, "denied", "not on Fridays")
        (hook,) = c.editor.hooks
        assert hook.point == "preToolCall" and hook.turn_id == turn_id and hook.data.name == "run_command"


async def test_a_pre_tool_hook_that_fails_denies(core: CoreFactory) -> None:
    async with core() as c:

        async def broken(params: HookParams) -> HookResult:
            raise RuntimeError("editor crashed")

        c.editor.on_hook = broken
        agent = await c.create(policies="allowAll", hooks=["preToolCall"])
        turn_id = await turn(c, agent, Tool("run_command"))
        assert_refused(c, agent, turn_id, "denied", "the editor's preToolCall hook did not answer")


async def test_a_pre_tool_hook_may_change_the_arguments(core: CoreFactory) -> None:
    async with core() as c:

        async def sandbox(params: HookParams) -> HookResult:
            return HookResult(allow=True, modified_args={"Cwd": "/sandbox"})

        c.editor.on_hook = sandbox
        agent = await c.create(policies="allowAll", hooks=["preToolCall"])
        await turn(c, agent, Tool("run_command", {"CommandLine": "ls", "Cwd": "/"}))
        (step,) = call_steps(c, agent)
        assert step.tool_calls[0].args == {"CommandLine": "ls", "Cwd": "/sandbox"}


async def test_an_editor_tool_has_one_id_in_confirmation_chunks_run_and_history(core: CoreFactory) -> None:
    async with core() as c:

        async def run(params: RunToolParams) -> RunToolResult:
            return RunToolResult(content="2 words", state={"runs": params.state.get("runs", 0) + 1})

        c.editor.on_run = run
        agent = await c.create(tools=[WORD_COUNT], hooks=["postToolCall"])  # safe defaults: it asks first
        turn_id = await turn(c, agent, Tool("word_count", {"text": "a b"}, call_id="model-1"))
        (asked,) = c.editor.confirms
        (ran,) = c.editor.runs
        (result,) = c.editor.results(turn_id)
        (step,) = call_steps(c, agent)
        ids = {asked.tool_call.id, ran.tool_call.id, result.id, step.tool_calls[0].id}
        assert ids == {"model-1"}
        assert result.outcome == "completed" and result.result == "2 words"
        assert ran.tool_call.args == {"text": "a b"} and ran.state == {}
        (notice,) = c.editor.notices
        assert notice.point == "postToolCall" and notice.data.id == "model-1"
        await turn(c, agent, Tool("word_count", {"text": "c"}, call_id="model-1"))
        assert c.editor.runs[1].state == {"runs": 1}  # the editor tools' state carries over


async def test_an_editor_tool_error_is_shown_failed(core: CoreFactory) -> None:
    async with core() as c:

        async def fail(params: RunToolParams) -> RunToolResult:
            return RunToolResult(error="the buffer is gone")

        c.editor.on_run = fail
        agent = await c.create(policies="allowAll", tools=[WORD_COUNT])
        turn_id = await turn(c, agent, Tool("word_count", {"text": "x"}))
        (result,) = c.editor.results(turn_id)
        assert result.outcome == "failed" and result.error == "the buffer is gone"


async def test_an_editor_tool_that_does_not_answer_times_out(core: CoreFactory) -> None:
    async with core(toolTimeoutSecs=0.1) as c:

        async def hang(params: RunToolParams) -> RunToolResult:
            await anyio.sleep_forever()
            raise AssertionError("unreachable")

        c.editor.on_run = hang
        agent = await c.create(policies="allowAll", tools=[WORD_COUNT])
        turn_id = await turn(c, agent, Tool("word_count", {"text": "x"}))
        (result,) = c.editor.results(turn_id)
        assert result.outcome == "failed" and result.error == "the editor did not answer within 0.1s"


async def test_a_model_that_repeats_call_ids_still_gets_one_id_per_call(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(policies="allowAll")
        first = await turn(
            c, agent, Tool("run_command", {"CommandLine": "a"}, call_id="c1"), Tool("run_command", {"CommandLine": "b"}, call_id="c1")
        )
        second = await turn(c, agent, Tool("run_command", {"CommandLine": "c"}, call_id="c1"))
        ids = [r.id for t in (first, second) for r in c.editor.results(t)]
        assert len(set(ids)) == 3 and ids[0] == "c1"
        assert [s.tool_calls[0].id for s in call_steps(c, agent)] == ids
        assert all(r.call_id == "c1" for t in (first, second) for r in c.editor.results(t)[1:] if r.id != "c1")


async def test_history_shows_refused_and_completed_calls_side_by_side(core: CoreFactory) -> None:
    async with core() as c:
        c.editor.confirm_answers = ["reject_once"]
        agent = await c.create(policies={"rules": [{"tool": "edit_file", "decision": "deny"}]})
        turn_id = await turn(
            c, agent, Tool("view_file", {"path": "a"}), Tool("edit_file", {"path": "a"}), Tool("run_command", {"CommandLine": "x"})
        )
        got = [(r.name, r.outcome, r.error) for r in c.editor.results(turn_id)]
        assert got == [
            ("view_file", "completed", None),
            ("edit_file", "denied", "denied by a policy"),
            ("run_command", "denied", "you rejected the tool call"),
        ]
        history = [(s.tool_calls[0].name, s.tool_calls[0].outcome, s.error) for s in call_steps(c, agent)]
        assert history[0][0] == "view_file" and history[0][1] in (None, "completed") and history[0][2] == ""
        assert history[1:] == [("edit_file", "denied", "denied by a policy"), ("run_command", "denied", "you rejected the tool call")]
        export = await c.manager.export_session(ExportSessionParams(agent_id=agent))
        assert "> tool `edit_file`(path='a') (denied)" in export.markdown and "rule:" not in export.markdown


async def test_a_refused_call_is_shown_even_when_the_turn_is_cancelled_right_after(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(policies=[{"tool": "run_command", "decision": "deny"}])
        c.sdk.script(agent, [Tool("run_command"), Hang()])
        sent = await c.manager.send(agent, "go")
        await wait_until(lambda: c.editor.results(sent.turn_id) != [])
        c.manager.cancel(agent)
        await c.manager.wait_for_idle(agent)
        assert c.editor.tool_chunks(sent.turn_id) == [("toolCall", "call_1", None), ("toolResult", "call_1", "denied")]
