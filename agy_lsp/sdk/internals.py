"""Every read of the SDK's private state, in one place (google-antigravity 0.1.22).

Each function here has a test in tests/sdk/test_internals.py that fails loudly when
an SDK upgrade moves what it reads, instead of letting agy-lsp quietly degrade.

- `harness_process`: the `localharness` Popen (the SDK keeps it on its connection).
- `last_stop_reason`: the last turn's stop reason (only the private property has it).
- `pending_policy_ids`, `running_tool_call`: the ids of a tool call that the SDK
  drops before calling our ask_user handler or editor tool body. The harness sends
  them; they survive only in the local variables of the SDK coroutine that runs our
  callback, so we read that coroutine's frame.
- `step_fields`: a Step's fields straight from its `__dict__` (history is a hot path:
  a deprecated pydantic field's attribute access goes through the warnings
  machinery; enums are read by `_value_`).
"""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

from google.antigravity import Agent
from google.antigravity import types as sdk


def harness_process(agent: Agent) -> subprocess.Popen[bytes] | None:
    try:
        process = agent.conversation.connection._process  # pyright: ignore[reportAttributeAccessIssue]
    except Exception:
        return None
    return process if isinstance(process, subprocess.Popen) else None


def last_stop_reason(conversation: Any) -> str:
    """The SDK's StopReason value of the last turn ("end_turn" when unspecified)."""
    stop = conversation._last_turn_stop_reason
    return "end_turn" if stop == sdk.StopReason.UNSPECIFIED else str(stop.value)


def _task_locals() -> dict[str, Any]:
    """The local variables of the coroutine the current task runs: the SDK's handler
    of the harness event that led to our callback. {} when there is none."""
    try:
        task = asyncio.current_task()
        frame = task.get_coro().cr_frame if task is not None else None  # pyright: ignore[reportAttributeAccessIssue]
        return dict(frame.f_locals) if frame is not None else {}  # pyright: ignore[reportUnknownArgumentType]
    except Exception:
        return {}


def pending_policy_ids() -> tuple[str, str]:
    """(call id, step id) of the PolicyDecisionRequest an ask_user handler runs for.
    The SDK's `make_step_id` spelling: `<trajectory>:<index>`."""
    request = _task_locals().get("request")
    args = getattr(request, "tool_args", None)
    if args is None or type(request).__name__ != "PolicyDecisionRequest":
        return "", ""
    trajectory, index = str(getattr(args, "trajectory_id", "") or ""), getattr(args, "step_index", 0)
    try:
        has_index = bool(args.HasField("step_index"))
    except Exception:
        has_index = False
    step_id = (f"{trajectory}:{index}" if trajectory else str(index)) if trajectory or has_index else ""
    return str(getattr(args, "call_id", "") or ""), step_id


def running_tool_call() -> sdk.ToolCall | None:
    """The SDK ToolCall an editor tool's function runs for (the SDK's tool runner
    gives each call a task running `_execute_one(tc)`)."""
    call = _task_locals().get("tc")
    return call if isinstance(call, sdk.ToolCall) else None


def step_fields(model: Any) -> dict[str, Any]:
    """A pydantic model's field values (a Step or a ToolCall)."""
    return model.__dict__


def enum_value(member: Any) -> Any:
    return member._value_
