"""History shows a call refused as its turn was cancelled (its confirmation cancelled
while it waited) where the live turn showed it: on the harness's "denied" step after
the turn's last streamed step when the harness wrote one, else on a step of its own
there; never the harness's error text as the agent's words."""

from __future__ import annotations

from agy_lsp.agents.queries import with_refused
from agy_lsp.agents.store import RefusedCall
from agy_lsp.protocol.types import Step, ToolCall

DENIED = 'Denied by user (*). ("denied by pre-tool hook: Denied by user (*).")'
CALL = ToolCall(id="c2", name="run_command", args={"CommandLine": "touch x"}, outcome="cancelled")
LATE = RefusedCall(step_id="", after_step="t:2", call=CALL, reason="the turn was cancelled while waiting for your confirmation")


def turn(*more: Step) -> list[Step]:
    return [
        Step(id="t:0", source="USER", status="DONE", content="make two files"),
        Step(id="t:1", source="MODEL", target="TARGET_USER", status="DONE", content="trying"),
        Step(id="t:2", source="MODEL", target="TARGET_USER", status="DONE", content="trying another"),
        *more,
    ]


def test_the_late_call_takes_the_denied_step_the_harness_wrote() -> None:
    denied = Step(id="t:3", source="MODEL", target="TARGET_USER", status="ERROR", content=DENIED, error=DENIED)
    steps = with_refused(turn(denied, Step(id="t:4", source="USER", status="DONE", content="fine")), [LATE])
    assert [s.id for s in steps] == ["t:0", "t:1", "t:2", "t:3", "t:4"]
    assert steps[3].tool_calls == [CALL] and steps[3].content == "" and steps[3].error == LATE.reason


def test_without_the_denied_step_the_late_call_gets_a_step_of_its_own_before_the_next_turn() -> None:
    steps = with_refused(turn(Step(id="t:4", source="USER", status="DONE", content="fine")), [LATE])
    assert [s.tool_calls for s in steps] == [[], [], [], [CALL], []]
    assert steps[3].status == "ERROR" and steps[3].error == LATE.reason and steps[4].content == "fine"
    assert with_refused(turn(), [LATE])[-1].tool_calls == [CALL]  # at the end of history too


def test_a_refused_call_with_its_step_is_unchanged() -> None:
    denied = Step(id="t:3", source="MODEL", target="TARGET_USER", status="ERROR", content=DENIED, error=DENIED)
    known = RefusedCall(step_id="t:3", call=CALL, reason="you rejected the tool call")
    assert with_refused(turn(denied), [known])[3].tool_calls == [CALL]
    assert with_refused(turn(denied), []) == turn(denied)


def test_a_replay_never_shows_an_error_steps_text_as_the_agents_words() -> None:
    """The live stream shows no text of an ERROR step (sdk/live.py); a replay neither."""
    from agy_lsp.acp.updates import step_updates

    denied = Step(id="t:3", source="MODEL", target="TARGET_USER", status="ERROR", content=DENIED, error=DENIED)
    assert step_updates(denied) == []
    cut = Step(id="t:5", source="MODEL", target="TARGET_USER", status="ERROR", content="partial text", error="stream cut")
    assert [u.content.text for u in step_updates(cut)] == ["partial text"]  # streamed live before the step failed
