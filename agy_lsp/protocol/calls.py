"""What a turn is made of: prompt parts, tool calls and results, token usage, the
steps history keeps, and the plans an agent writes."""

from __future__ import annotations

from typing import Any, Literal

from agy_lsp.protocol.wire import Wire

# How a tool call ended: it ran (completed / failed), or it never ran (denied / cancelled).
ToolOutcome = Literal["completed", "failed", "denied", "cancelled"]


class ContentPart(Wire):
    """One part of a prompt: text; an image, document, audio or video given as base64;
    or a command (`text` is its name: "plan" asks the agent to plan first)."""

    type: Literal["text", "image", "document", "audio", "video", "command"] = "text"
    text: str | None = None
    data: str | None = None  # base64
    mime_type: str | None = None


Prompt = str | list[ContentPart]


class ToolCall(Wire):
    """`id` is the call's one id, the same in every message about it (see
    docs/protocol.md#tool-call-ids); `call_id` is the model's own id for the call,
    given only when it is not `id` (a model that repeats ids)."""

    id: str = ""
    name: str = ""
    args: dict[str, Any] = {}
    call_id: str | None = None
    outcome: ToolOutcome | None = None  # in history: how the call ended


class ToolResult(Wire):
    """A call's end. A call that never ran (denied, cancelled) has `error` with the
    reason and no `result`."""

    id: str = ""
    name: str = ""
    result: Any = None
    error: str | None = None
    call_id: str | None = None
    outcome: ToolOutcome | None = None


class Usage(Wire):
    prompt_tokens: int = 0
    cached_tokens: int = 0
    candidates_tokens: int = 0
    thoughts_tokens: int = 0
    total_tokens: int = 0


class Step(Wire):
    """One history step, encoded from the SDK's pydantic Step without pydantic."""

    id: str = ""
    index: int = 0
    type: str = ""
    source: str = ""
    target: str = ""
    status: str = ""
    content: str = ""
    thinking: str = ""
    tool_calls: list[ToolCall] = []
    error: str = ""
    is_complete_response: bool | None = None
    structured_output: Any = None
    usage: Usage | None = None


class PlanEntry(Wire, omit_defaults=False):
    content: str
    status: Literal["pending", "in_progress", "completed"]


class Plan(Wire):
    """A plan the agent wrote (its implementation plan or task list artifact): the
    Markdown, the file, and the checklist items as entries."""

    path: str
    markdown: str
    entries: list[PlanEntry] = []
