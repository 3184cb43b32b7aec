"""Synthetic SDK history: realistic `google.antigravity.types.Step` objects."""

from __future__ import annotations

from typing import Any


def make_steps(n: int) -> list[Any]:
    """`n` steps cycling through a user prompt, a thought + answer, a tool call and
    a finished answer with usage, like a long agent session."""
    from google.antigravity import types as sdk

    usage = sdk.UsageMetadata(
        prompt_token_count=1200, cached_content_token_count=800, candidates_token_count=240, thoughts_token_count=64, total_token_count=1504
    )
    answer = "Here is the change you asked for. " * 6
    steps: list[Any] = []
    for i in range(n):
        kind = i % 4
        common: dict[str, Any] = {"id": f"step-{i:06d}", "step_index": i, "trajectory_id": "traj-1"}
        if kind == 0:
            step = sdk.Step(
                **common,
                type=sdk.StepType.USER_INPUT if hasattr(sdk.StepType, "USER_INPUT") else sdk.StepType.TEXT_RESPONSE,
                source=sdk.StepSource.USER,
                target=sdk.StepTarget.ENVIRONMENT,
                status=sdk.StepStatus.DONE,
                content=f"Please refactor function number {i} in src/module_{i % 50}.py",
            )
        elif kind == 1:
            step = sdk.Step(
                **common,
                type=sdk.StepType.TEXT_RESPONSE,
                source=sdk.StepSource.MODEL,
                target=sdk.StepTarget.USER,
                status=sdk.StepStatus.DONE,
                thinking="Let me look at the file first. " * 3,
                content=answer,
            )
        elif kind == 2:
            step = sdk.Step(
                **common,
                type=sdk.StepType.TOOL_CALL,
                source=sdk.StepSource.MODEL,
                target=sdk.StepTarget.ENVIRONMENT,
                status=sdk.StepStatus.DONE,
                tool_calls=[
                    sdk.ToolCall(id=f"call-{i}", name="view_file", args={"path": f"src/module_{i % 50}.py", "start": 1, "end": 120})
                ],
            )
        else:
            step = sdk.Step(
                **common,
                type=sdk.StepType.TEXT_RESPONSE,
                source=sdk.StepSource.MODEL,
                target=sdk.StepTarget.USER,
                status=sdk.StepStatus.DONE,
                content=answer,
                is_complete_response=True,
                usage_metadata=usage,
            )
        steps.append(step)
    return steps


def delta_steps(n: int) -> list[Any]:
    """Streaming deltas as the SDK yields them during a turn."""
    from google.antigravity import types as sdk

    return [
        sdk.Step(
            id="s-stream",
            step_index=1,
            type=sdk.StepType.TEXT_RESPONSE,
            source=sdk.StepSource.MODEL,
            target=sdk.StepTarget.USER,
            status=sdk.StepStatus.ACTIVE,
            content_delta=f"w{i:04d} ",
        )
        for i in range(n)
    ]


def turn_snapshots(start: int, deltas: int = 30) -> list[Any]:
    """One more turn as the SDK records it: every streamed snapshot of its four steps
    (the prompt, an answer in `deltas` deltas, a tool call, the final answer)."""
    from google.antigravity import types as sdk

    common: dict[str, Any] = {"trajectory_id": "traj-1"}
    out: list[Any] = []

    def step(i: int, **fields: Any) -> Any:
        return sdk.Step(id=f"step-{start + i:06d}", step_index=start + i, **common, **fields)

    out.append(
        step(0, type=sdk.StepType.TEXT_RESPONSE, source=sdk.StepSource.USER, target=sdk.StepTarget.ENVIRONMENT,
             status=sdk.StepStatus.DONE, content="And now the tests, please.")
    )  # fmt: skip
    text = ""
    for k in range(deltas):
        text += f"w{k:04d} "
        status = sdk.StepStatus.DONE if k == deltas - 1 else sdk.StepStatus.ACTIVE
        out.append(
            step(1, type=sdk.StepType.TEXT_RESPONSE, source=sdk.StepSource.MODEL, target=sdk.StepTarget.USER,
                 status=status, content=text, content_delta=f"w{k:04d} ")
        )  # fmt: skip
    call = sdk.ToolCall(id="call-new", name="view_file", args={"path": "tests/test_module.py"})
    for status in (sdk.StepStatus.ACTIVE, sdk.StepStatus.ACTIVE, sdk.StepStatus.DONE):
        out.append(
            step(2, type=sdk.StepType.TOOL_CALL, source=sdk.StepSource.MODEL, target=sdk.StepTarget.ENVIRONMENT,
                 status=status, tool_calls=[call])
        )  # fmt: skip
    out.append(
        step(3, type=sdk.StepType.TEXT_RESPONSE, source=sdk.StepSource.MODEL, target=sdk.StepTarget.USER,
             status=sdk.StepStatus.DONE, content="Done: the tests pass.", is_complete_response=True)
    )  # fmt: skip
    return out
