"""The requests the core makes of the editor (`agy/confirmToolCall`, `agy/runTool`,
`agy/hook`): their params and results (docs/protocol.md). Re-exported by types.py."""

from __future__ import annotations

from typing import Any, Literal

from agy_lsp.protocol.calls import ToolCall
from agy_lsp.protocol.wire import Wire

HookPoint = Literal[
    "preTurn",
    "postTurn",
    "preToolCall",
    "postToolCall",
    "onToolError",
    "onCompaction",
    "onSessionStart",
    "onSessionEnd",
    "onInteraction",
    "stop",
]


PermissionKind = Literal["allow_once", "allow_always", "reject_once", "reject_always"]


class PermissionOption(Wire, omit_defaults=False):
    option_id: str
    kind: PermissionKind
    name: str


class ConfirmToolCallParams(Wire):
    agent_id: str
    turn_id: str
    tool_call: ToolCall
    options: list[PermissionOption]
    reason: str | None = None


class ConfirmToolCallResult(Wire):
    outcome: str  # an optionId, a kind, or "cancelled"


class RunToolParams(Wire):
    agent_id: str
    turn_id: str
    tool_call: ToolCall
    state: dict[str, Any] = {}


class RunToolResult(Wire):
    content: Any = None
    error: str | None = None
    state: dict[str, Any] | None = None


class HookParams(Wire):
    agent_id: str
    point: HookPoint
    turn_id: str | None = None
    data: Any = None


class HookResult(Wire):
    allow: bool = True
    message: str = ""
    modified_args: dict[str, Any] | None = None
    answer: Any = None  # onInteraction: the person's answers
