"""Core events and history -> ACP `session/update` payloads (pure functions).

Tool calls get a kind from the tool's name, a title, `rawInput`, locations (file
paths found in the arguments) and, for file writes, diff content (the whole file
before and after, when the old text could be read). Outputs are bounded: the tail,
and a note of how much was cut, so a huge output never floods the stream.
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

from agy_lsp.protocol.shown import action_text, fence, visible
from agy_lsp.protocol.types import Step, ToolCall, ToolResult

# Our editor-delegated tools (editor_tools.py) next to the SDK's built-ins.
FS_READ_TOOL = "read_file"
FS_WRITE_TOOL = "write_file"
TERMINAL_TOOL = "run_in_terminal"  # run_command in the editor's terminal (editor_tools.py)

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
    TERMINAL_TOOL: "execute",
}
_WRITES = ("write_to_file", "create_file")
_EDITS = ("replace_file_content", "edit_file")
_IN_DIFF = ("CodeContent", "TargetContent", "ReplacementContent", "ReplacementChunks", "content")  # a diff holds them whole

MAX_OUTPUT = 20_000  # characters of a tool's output shown in its update (the tail)


def kind_of(name: str) -> ToolKind:
    return _KINDS.get(name, "other")


def title_of(call: ToolCall) -> str:
    """Control characters escaped: a title may reach a terminal."""
    args = call.args
    command = args.get("CommandLine", args.get("command_line"))
    if call.name in ("run_command", TERMINAL_TOOL) and isinstance(command, str):
        return visible(f"Run `{command}`")
    paths = [loc.path for loc in locations_of(call)]
    return visible(f"{call.name} {paths[0]}" if paths else call.name)


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


def written_path(call: ToolCall) -> str | None:
    """The file a write or edit (as the model wrote it) changes."""
    key = "path" if call.name == FS_WRITE_TOOL else "TargetFile" if call.name in _WRITES + _EDITS else None
    path = call.args.get(key) if key else None
    return path if isinstance(path, str) and path else None


def diff_of(call: ToolCall, old: str | None = None) -> list[FileEditToolCallContent]:
    """Diff content for file writes (as the model wrote them: a confirmation's
    arguments): write_to_file, replace_file_content and our write_file. `old`: the
    file's text before the call (read from the editor), for a whole-file diff."""
    args, path = call.args, written_path(call)
    if path is None:
        return []
    if call.name == FS_WRITE_TOOL:
        return [helpers.tool_diff_content(path, str(args.get("content", "")), old)]
    if call.name in _WRITES:
        new = str(args.get("CodeContent", ""))
        return [helpers.tool_diff_content(path, old + new if old is not None and args.get("Append") else new, old)]
    chunks = _chunks(args)
    if old is not None:
        new = old
        for target, replacement in chunks:
            if target is None or target not in new:
                break
            new = new.replace(target, replacement) if args.get("AllowMultiple") else new.replace(target, replacement, 1)
        else:
            return [helpers.tool_diff_content(path, new, old)]
    return [helpers.tool_diff_content(path, replacement, target) for target, replacement in chunks]


def _chunks(args: dict[str, Any]) -> list[tuple[str | None, str]]:
    chunks: Any = args.get("ReplacementChunks") or [args]
    items: list[Any] = chunks if isinstance(chunks, list) else []  # pyright: ignore[reportUnknownVariableType]
    out: list[tuple[str | None, str]] = []
    for item in items:
        chunk: dict[str, Any] = item if isinstance(item, dict) else {}  # pyright: ignore[reportUnknownVariableType]
        if "ReplacementContent" in chunk:
            old = chunk.get("TargetContent")
            out.append((None if old is None else str(old), str(chunk["ReplacementContent"])))
    return out


def tool_call_start(
    call_id: str, call: ToolCall, status: Any = "pending", diff: list[Any] | None = None, meta: Any = None
) -> ToolCallStart:
    start = helpers.start_tool_call(
        call_id,
        title_of(call),
        kind=kind_of(call.name),
        status=status,
        content=diff or diff_of(call) or None,
        locations=locations_of(call) or None,
        raw_input=call.args,
    )
    start.field_meta = meta
    return start


def permission_title(call: ToolCall) -> str:
    """A one-line title (control characters escaped); a longer one's first line says
    the rest is in the content, where the whole call is."""
    title = title_of(call)
    first, _, rest = title.partition("\n")
    return f"{first} … (+{rest.count(chr(10)) + 1} lines, in full below)" if rest else first


def permission_subject(call_id: str, call: ToolCall, diff: list[Any] | None = None) -> ToolCallUpdate:
    """The `toolCall` of a `session/request_permission`: its content is the whole
    call, every argument in full (control characters escaped), then the diff of a
    file write, which holds the written text whole."""
    diff = diff or list(diff_of(call))
    whole = _text(fence(action_text(call, skip=_IN_DIFF if diff else ())))
    return ToolCallUpdate(
        tool_call_id=call_id,
        title=permission_title(call),
        kind=kind_of(call.name),
        status="pending",
        content=[whole, *diff],
        locations=locations_of(call) or None,
        raw_input=call.args,
    )


def tool_status(call_id: str, status: Any, text: str | None = None) -> ToolCallProgress:
    return helpers.update_tool_call(call_id, status=status, content=[_text(text)] if text else None)


def tool_finished(call_id: str, result: ToolResult, keep_content: bool = False) -> ToolCallProgress:
    """The update that ends a call. `keep_content`: the call shows a terminal, which
    stays its content."""
    if result.outcome in ("denied", "cancelled"):  # it never ran: say why, nothing else
        return tool_status(call_id, "failed", refusal(result.outcome, result.error))
    failed = result.error is not None
    value = _unwrap(result.result)
    rendered = _render(result.error if failed else value)
    return helpers.update_tool_call(
        call_id,
        status="failed" if failed else "completed",
        content=None if keep_content else [_text(rendered)],
        raw_output={"error": rendered} if failed else (rendered if isinstance(value, str) else value),
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
    return tail(text)


def tail(text: str, limit: int = MAX_OUTPUT) -> str:
    """At most `limit` characters: the end of the text, after a note of what was cut."""
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    return f"… ({cut:,} earlier characters cut; the agent saw its own copy)\n" + text[cut:]


def _text(text: str | None) -> ContentToolCallContent:
    return helpers.tool_content(helpers.text_block(text or ""))


_OUTPUT_ARGS = ("combined_output", "diff_block", "output", "results")  # where a stored step keeps its output


class Replay:
    """A session's stored conversation replayed as the updates a live turn would have
    sent (`step_updates`), each step's made once: the core hands back the same Step
    object for as long as the step is unchanged (sdk/history.py), so a replay after
    one more turn converts only that turn's steps."""

    def __init__(self) -> None:
        self._by_step: dict[int, tuple[Step, list[Any]]] = {}

    def updates(self, steps: list[Step]) -> list[Any]:
        known, kept, out = self._by_step, {}, []
        for step in steps:
            hit = known.get(id(step))
            if hit is None or hit[0] is not step:
                hit = (step, step_updates(step))
            kept[id(step)] = hit
            out += hit[1]
        self._by_step = kept
        return out


def step_updates(step: Step) -> list[Any]:
    """One step as updates: its message (one messageId per step), its thought, and
    each tool call with its outcome (the output the stored step kept, or why it never ran)."""
    out: list[Any] = []
    message_id = step.id or None
    if step.type == "COMPACTION":  # older history was summarised: as live, a marked message
        return [chunk(helpers.update_agent_message_text(step.content), message_id, {"agy": {"compaction": True}})] if step.content else []
    if step.source == "USER":
        if step.content:
            out.append(chunk(helpers.update_user_message_text(step.content), message_id))
        return out
    if step.source != "MODEL":
        return out
    if step.thinking:
        out.append(chunk(helpers.update_agent_thought_text(step.thinking), f"{message_id}:thought" if message_id else None))
    error_text = step.status == "ERROR" and step.content == step.error  # a refusal's or failure's record: never streamed live
    if step.content and step.target == "TARGET_USER" and not error_text:
        out.append(chunk(helpers.update_agent_message_text(step.content), message_id))
    for n, call in enumerate(step.tool_calls):
        call_id = call.id or f"{step.id}:{n}"
        out.append(tool_call_start(call_id, call, status="pending"))
        if call.outcome in ("denied", "cancelled"):  # it never ran: as the live turn ended it
            out.append(tool_status(call_id, "failed", refusal(call.outcome, step.error)))
            continue
        failed = call.outcome == "failed" or step.status not in ("DONE", "")
        output = next((v for k in _OUTPUT_ARGS if isinstance(v := call.args.get(k), str) and v), None)
        text = step.error if failed and step.error else output
        out.append(tool_status(call_id, "failed" if failed else "completed", tail(text) if text else None))
    return out


def chunk(update: Any, message_id: str | None, meta: Any = None) -> Any:
    """A message or thought chunk with its messageId (and `_meta`, when given)."""
    update.message_id = message_id
    update.field_meta = meta
    return update


def refusal(outcome: str, reason: str | None) -> str:
    return f"{outcome.capitalize()}: {reason}" if reason else outcome.capitalize()
