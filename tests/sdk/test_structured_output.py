"""agy/structuredOutput answers from the last turn only, never an earlier one."""

from __future__ import annotations

from typing import Any

from google.antigravity import types as sdk

from agy_lsp.sdk.live import GoogleLiveAgent


def step(source: sdk.StepSource, kind: sdk.StepType, structured: Any = None) -> sdk.Step:
    return sdk.Step(
        id=f"t:{kind.value}",
        type=kind,
        source=source,
        target=sdk.StepTarget.USER,
        status=sdk.StepStatus.DONE,
        structured_output=structured,
    )


class Conversation:
    def __init__(self, history: list[sdk.Step]) -> None:
        self.history = history


def live_with(history: list[sdk.Step]) -> GoogleLiveAgent:
    live = GoogleLiveAgent.__new__(GoogleLiveAgent)
    live._conv = Conversation(history)  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]
    return live


def test_the_last_turns_structured_output() -> None:
    first_turn = [step(sdk.StepSource.USER, sdk.StepType.TEXT_RESPONSE), step(sdk.StepSource.MODEL, sdk.StepType.FINISH, {"answer": 1})]
    assert live_with(first_turn).structured_output() == {"answer": 1}
    second_turn = [step(sdk.StepSource.USER, sdk.StepType.TEXT_RESPONSE), step(sdk.StepSource.MODEL, sdk.StepType.TEXT_RESPONSE)]
    assert live_with(first_turn + second_turn).structured_output() is None, "the earlier turn's output is not this turn's"
    third_turn = [step(sdk.StepSource.USER, sdk.StepType.TEXT_RESPONSE), step(sdk.StepSource.MODEL, sdk.StepType.FINISH, {"answer": 3})]
    assert live_with(first_turn + second_turn + third_turn).structured_output() == {"answer": 3}
