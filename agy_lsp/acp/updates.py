"""Core events and history -> ACP `session/update` payloads (pure functions).

Tool calls get a kind from the tool's name, a title, `rawInput`, locations (file
paths found in the arguments) and, for file writes, diff content.
"""

from __future__ import annotations

import json
from typing import Any

from acp import helpers
from acp.schema import (
    ContentToolCallContent,
    FileEditToolCallContent,
    ToolCallLocation,
    ToolCallProgress,
    ToolCallStart,
    ToolCallUpdate,
    ToolKind,
)

from agy_lsp.protocol.types import Step, ToolCall, ToolResult

# Our editor-delegated file tools (see bridge.py) next to the SDK's built-ins.
FS_READ_TOOL = "read_file"
FS_WRITE_TOOL = "write_file"

# Every built-in the harness offers, as the model calls it (docs/protocol.md#built-in-tools);
# then the SDK's names, which history shows for steps from before a server restart.
_KINDS: dict[str, ToolKind] = {
    "view_file": "read",
    "list_dir": "read",
    "find_by_name": "search",
    "grep_search": "search",
    "write_to_file": "edit",
    "replace_file_content": "edit",
    "run_command": "execute",
    "run_workflow": "execute",
    "manage_task": "execute",
    "read_url_content": "fetch",
    "search_web": "fetch",
    "generate_image": "other",
    "invoke_subagent": "other",
    "define_subagent": "other",
    "manage_subagents": "other",
    "send_message": "other",
    "ask_question": "other",
    "schedule": "other",
    "finish": "other",
    "list_directory": "read",
    "find_file": "search",
    "search_directory": "search",
    "create_file": "edit",
    "edit_file": "edit",
    FS_READ_TOOL: "read",
    FS_WRITE_TOOL: "edit",
}
_WRITES = ("write_to_file", "create_file")
_EDITS = ("replace_file_content", "edit_file")

_MAX_OUTPUT = 20_000


def kind_of(name: str) -> ToolKind:
    return _KINDS.get(name, "other")


def title_of(call: ToolCall) -> str:
    args = call.args
    command = args.get("CommandLine", args.get("command_line"))
    if call.name == "run_command" and isinstance(command, str):
        return f"Run `{command}`"
    paths = [loc.path for loc in locations_of(call)]
    return f"{call.name} {paths[0]}" if paths else call.name


def locations_of(call: ToolCall) -> list[ToolCallLocation]:
    out: list[ToolCallLocation] = []
    line = call.args.get("StartLine") or call.args.get("line")
    for key, value in call.args.items():
        lowered = key.lower()
        if isinstance(value, str) and value and any(word in lowered for word in ("file", "path", "directory", "cwd")):
            if "\n" in value or lowered in ("codecontent",):
                continue
            out.append(ToolCallLocation(path=value, line=line if isinstance(line, int) and line >= 0 else None))
    return out


def diff_of(call: ToolCall) -> list[FileEditToolCallContent]:
    """Diff content for file writes (as the model wrote them: a confirmation's
    arguments): write_to_file, replace_file_content and our write_file."""
    args = call.args
    if call.name == FS_WRITE_TOOL and isinstance(args.get("path"), str):
        return [helpers.tool_diff_content(args["path"], str(args.get("content", "")))]
    path = args.get("TargetFile")
    if not isinstance(path, str):
        return []
    if call.name in _WRITES:
        return [helpers.tool_diff_content(path, str(args.get("CodeContent", "")))]
    if call.name in _EDITS:
        chunks: Any = args.get("ReplacementChunks") or [args]
        out: list[FileEditToolCallContent] = []
        items: list[Any] = chunks if isinstance(chunks, list) else []  # pyright: ignore[reportUnknownVariableType]
        for item in items:
            chunk: dict[str, Any] = item if isinstance(item, dict) else {}  # pyright: ignore[reportUnknownVariableType]
            if "ReplacementContent" in chunk:
                old = chunk.get("TargetContent")
                out.append(helpers.tool_diff_content(path, str(chunk["ReplacementContent"]), None if old is None else str(old)))
        return out
    return []


def tool_call_start(call_id: str, call: ToolCall, status: Any = "pending") -> ToolCallStart:
    return helpers.start_tool_call(
        call_id,
        title_of(call),
        kind=kind_of(call.name),
        status=status,
        content=diff_of(call) or None,
        locations=locations_of(call) or None,
        raw_input=call.args,
    )


def permission_subject(call_id: str, call: ToolCall) -> ToolCallUpdate:
    """The `toolCall` of a `session/request_permission`."""
    return ToolCallUpdate(
        tool_call_id=call_id,
        title=title_of(call),
        kind=kind_of(call.name),
        status="pending",
        content=list(diff_of(call)) or None,
        locations=locations_of(call) or None,
        raw_input=call.args,
    )


def tool_status(call_id: str, status: Any, text: str | None = None) -> ToolCallProgress:
    return helpers.update_tool_call(call_id, status=status, content=[_text(text)] if text else None)


def tool_finished(call_id: str, result: ToolResult) -> ToolCallProgress:
    if result.outcome in ("denied", "cancelled"):  # it never ran: say why, nothing else
        return tool_status(call_id, "failed", refusal(result.outcome, result.error))
    failed = result.error is not None
    value = _unwrap(result.result)
    return helpers.update_tool_call(
        call_id,
        status="failed" if failed else "completed",
        content=[_text(result.error if failed else _render(value))],
        raw_output={"error": result.error} if failed else value,
    )


def _unwrap(value: Any) -> Any:
    """Custom tools come back as '{"result": ...}' text, run_command as {"output": ...}."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict):
        items: list[tuple[Any, Any]] = list(value.items())  # pyright: ignore[reportUnknownArgumentType, reportUnknownMemberType]
        if len(items) == 1 and items[0][0] in ("result", "output"):
            return items[0][1]
    return value  # pyright: ignore[reportUnknownVariableType]


def _render(value: Any) -> str:
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, indent=1)
        except (TypeError, ValueError):
            text = str(value)
    return text if len(text) <= _MAX_OUTPUT else text[:_MAX_OUTPUT] + "\n… (truncated)"


def _text(text: str | None) -> ContentToolCallContent:
    return helpers.tool_content(helpers.text_block(text or ""))


def history(steps: list[Step]) -> list[Any]:
    """A stored conversation replayed as the updates a live turn would have sent."""
    out: list[Any] = []
    for step in steps:
        if step.source == "USER":
            if step.content:
                out.append(helpers.update_user_message_text(step.content))
            continue
        if step.source != "MODEL":
            continue
        if step.thinking:
            out.append(helpers.update_agent_thought_text(step.thinking))
        if step.content and step.target == "TARGET_USER":
            out.append(helpers.update_agent_message_text(step.content))
        for n, call in enumerate(step.tool_calls):
            call_id = call.id or f"{step.id}:{n}"
            if call.outcome in ("denied", "cancelled"):  # it never ran: as the live turn ended it
                start = tool_call_start(call_id, call, status="failed")
                start.content = [_text(refusal(call.outcome, step.error))]
                out.append(start)
            else:
                out.append(tool_call_start(call_id, call, status="completed" if step.status == "DONE" else "failed"))
    return out


def refusal(outcome: str, reason: str | None) -> str:
    return f"{outcome.capitalize()}: {reason}" if reason else outcome.capitalize()
