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
- `app_data_dir`, `transcript`: the harness's own record of a trajectory, one JSON
  line per step, `<app_data_dir>/brain/<trajectory>/.system_generated/logs/
  transcript_full.jsonl` (the harness tells the model about this file for reading
  its subagents' work). It is the only place that holds what a built-in tool really
  returned: the SDK's step and post-tool hook carry the call's `toolSummary`
  argument there. Keys used: `step_index` (the hooks' numbering), `type`, `status`,
  `content`, `error`, `thinking`, and a model reply's `tool_calls` (`[{name, args}]`).
- `read_deep_records`: the SDK parses each message of the harness (the live steps and
  the stored history a resume gets) with `json_format.Parse`, a module global of its
  `local_connection`; that global becomes a stand-in whose `Parse` retries a message
  too deep for protobuf with its too deep values cut (`tool_args.cut_deep`).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from typing import Any

from google.antigravity import Agent
from google.antigravity import types as sdk
from google.antigravity.connections.local import local_connection
from google.protobuf import json_format

from agy_lsp.sdk import tool_args


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


def app_data_dir(agent: Agent) -> str | None:
    """The harness's app data directory (the config the SDK copied at `Agent()`)."""
    try:
        value = agent._config.app_data_dir  # pyright: ignore[reportPrivateUsage]
    except Exception:
        return None
    return value if isinstance(value, str) and value else None


TRANSCRIPT = os.path.join(".system_generated", "logs", "transcript_full.jsonl")
_TAIL = 1 << 20  # the steps a hook asks about were just written: the file's end has them


def transcript(app_dir: str, trajectory_id: str, want: int | None = None, tail: bool = False) -> dict[int, dict[str, Any]]:
    """A trajectory's transcript entries by step index ({} when there is none yet).

    The harness appends a step's line when the step ends (so not in index order),
    and may be writing while we read: a line that does not parse is skipped. With
    `want`, only the file's last MiB is read when it holds that step; with `tail`,
    only the last MiB (the latest steps)."""
    path = os.path.join(app_dir, "brain", trajectory_id, TRANSCRIPT)
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            if (tail or want is not None) and size > _TAIL:
                f.seek(size - _TAIL)
                entries = _entries(f.read().split(b"\n")[1:])
                if tail or want in entries:
                    return entries
            f.seek(0)
            return _entries(f.read().split(b"\n"))
    except OSError:
        return {}


def _entries(lines: list[bytes]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for line in lines:
        try:
            entry = json.loads(line)
            index = int(entry["step_index"])
        except (ValueError, KeyError, TypeError, RecursionError):  # a model's call nested too deep: its line is skipped
            continue
        if isinstance(entry, dict):
            out[index] = entry  # pyright: ignore[reportUnknownArgumentType]
    return out


class _TolerantJsonFormat:
    """`json_format` for the SDK's `local_connection`, except that `Parse` reads a
    record that nests too deep (a model's call with deep arguments) with the deep
    values cut, instead of failing: a failure there kills the live agent and every
    later resume of the conversation."""

    def __getattr__(self, name: str) -> Any:
        return getattr(json_format, name)

    @staticmethod
    def Parse(text: Any, message: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 (protobuf's name)
        try:
            return json_format.Parse(text, message, *args, **kwargs)
        except (json_format.ParseError, RecursionError) as e:
            if not too_deep(e):
                raise
            message.Clear()
            return json_format.Parse(tool_args.cut_deep(text), message, *args, **kwargs)


def too_deep(error: BaseException) -> bool:
    """A parse failure of protobuf's recursion limit (or Python's)."""
    return isinstance(error, RecursionError) or "too deep" in str(error) or "recursion" in str(error).lower()


def read_deep_records() -> None:
    """Install the tolerant parse in the SDK (idempotent)."""
    if not isinstance(local_connection.json_format, _TolerantJsonFormat):
        local_connection.json_format = _TolerantJsonFormat()  # pyright: ignore[reportAttributeAccessIssue]
