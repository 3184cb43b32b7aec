"""msgspec Structs for agy/* payloads. camelCase on the wire (rename="camel")."""

from __future__ import annotations

from typing import Any, Literal

# Re-exported: every payload is importable from here.
from agy_lsp.protocol.backends import AnyBackend as AnyBackend
from agy_lsp.protocol.backends import Backend as Backend
from agy_lsp.protocol.backends import Gemini as Gemini
from agy_lsp.protocol.backends import OpenAI as OpenAI
from agy_lsp.protocol.backends import Scripted as Scripted
from agy_lsp.protocol.backends import Vertex as Vertex
from agy_lsp.protocol.wire import Wire

AgentState = Literal["starting", "idle", "busy", "restarting", "failed", "closed", "hibernated"]
ChunkKind = Literal["text", "thought", "toolCall", "toolResult"]
# How a tool call ended: it ran (completed / failed), or it never ran (denied / cancelled).
ToolOutcome = Literal["completed", "failed", "denied", "cancelled"]


# ---------------------------------------------------------------------------- content


class ContentPart(Wire):
    """One part of a prompt: text, or an image/document given as base64."""

    type: Literal["text", "image", "document"] = "text"
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


# ---------------------------------------------------------------------------- createAgent


class Capabilities(Wire):
    enabled_tools: list[str] | None = None
    disabled_tools: list[str] | None = None
    # "interactive" lets the agent ask the person questions (ask_question + onInteraction);
    # the default is "interactive" when onInteraction is subscribed, else "autonomous".
    agent_behavior: Literal["autonomous", "interactive", "minimal"] | None = None


class ArgMatcher(Wire):
    """Matches a named argument of a tool call by regular expression."""

    arg: str
    pattern: str


class PolicyRule(Wire):
    tool: str = "*"
    decision: Literal["allow", "deny", "ask_user"] = "ask_user"
    when: list[ArgMatcher] = []
    reason: str | None = None


PolicyPreset = Literal["safeDefaults", "confirmRunCommand", "allowAll", "denyAll", "workspaceOnly"]


class Policies(Wire):
    preset: PolicyPreset | None = None
    rules: list[PolicyRule] = []


class EditorTool(Wire):
    name: str
    description: str = ""
    parameters: dict[str, Any] = {}
    timeout_secs: float | None = None


class McpServer(Wire):
    """An MCP server for the agent: a stdio command, or a Streamable HTTP url.
    `name` must match ^[a-zA-Z0-9_-]+$; its tools are called `name/tool`."""

    name: str
    type: Literal["stdio", "http"] = "stdio"
    command: str | None = None
    args: list[str] = []
    env: dict[str, str] | None = None
    url: str | None = None
    headers: dict[str, str] | None = None
    enabled_tools: list[str] | None = None
    disabled_tools: list[str] | None = None
    timeout_secs: int | None = None


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
]


class CreateAgentParams(Wire):
    backend: AnyBackend | None = None
    name: str | None = None
    system_instructions: str | None = None
    workspaces: list[str] = []
    capabilities: Capabilities | None = None
    conversation_id: str | None = None
    response_schema: dict[str, Any] | None = None
    max_quota_retries: int | None = None
    chat_timeout_secs: float | None = None
    policies: Policies | list[PolicyRule] | PolicyPreset | None = None
    tools: list[EditorTool] = []
    hooks: list[HookPoint] = []
    # None: none given (a resumed conversation keeps its stored servers); []: none at all.
    mcp_servers: list[McpServer] | None = None


class CreateAgentResult(Wire, omit_defaults=False):
    agent_id: str
    conversation_id: str | None
    tools: list[str]


# ---------------------------------------------------------------------------- chat


class AgentRef(Wire):
    agent_id: str


class ChatParams(Wire):
    agent_id: str
    prompt: Prompt


class ChatResult(Wire, omit_defaults=False):
    turn_id: str
    text: str
    stop_reason: str
    usage: Usage | None
    structured_output: Any = None


class SendResult(Wire, omit_defaults=False):
    turn_id: str


class ChatChunk(Wire):
    agent_id: str
    turn_id: str
    seq: int
    kind: ChunkKind
    text: str | None = None
    tool_call: ToolCall | None = None
    tool_result: ToolResult | None = None


class WaitForWakeupParams(Wire):
    agent_id: str
    timeout_secs: float = 300.0


class WaitForWakeupResult(Wire, omit_defaults=False):
    woke_up: bool


class CancelResult(Wire, omit_defaults=False):
    cancelled: bool


# ---------------------------------------------------------------------------- queries


class Permission(Wire, omit_defaults=False):
    tool: str
    decision: Literal["allow", "deny"]


class StatusResult(Wire, omit_defaults=False):
    agent_id: str
    name: str | None
    state: AgentState
    idle: bool
    turn_count: int
    conversation_id: str | None
    last_response: str
    compaction_indices: list[int]
    total_usage: Usage
    last_turn_usage: Usage | None
    permissions: list[Permission] = []


class HistoryParams(Wire):
    agent_id: str
    offset: int = 0
    limit: int | None = None


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


class HistoryResult(Wire, omit_defaults=False):
    steps: list[Step]
    total: int


class UsageResult(Wire, omit_defaults=False):
    total_usage: Usage
    last_turn_usage: Usage | None


class StructuredOutputResult(Wire, omit_defaults=False):
    structured_output: Any


class AgentSummary(Wire, omit_defaults=False):
    agent_id: str
    name: str | None
    state: AgentState
    conversation_id: str | None
    turn_count: int


class ListAgentsResult(Wire, omit_defaults=False):
    agents: list[AgentSummary]


class OkResult(Wire, omit_defaults=False):
    ok: bool = True


class ServerInfoResult(Wire, omit_defaults=False):
    name: str
    version: str
    sdk_version: str | None
    default_backend: str
    state_dir: str


# ---------------------------------------------------------------------------- notifications


class AgentStateNotice(Wire):
    agent_id: str
    state: AgentState
    reason: str | None = None


class QuotaNotice(Wire):
    key: str
    state: Literal["backoff", "clear"]
    retry_after_ms: int = 0


# ---------------------------------------------------------------------------- editor callbacks

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


class ResetPermissionsParams(Wire):
    agent_id: str
    tool: str | None = None  # None: forget every remembered choice


# ---------------------------------------------------------------------------- stored sessions


class ListSessionsParams(Wire):
    offset: int = 0
    limit: int = 50


class SessionSummary(Wire, omit_defaults=False):
    conversation_id: str
    name: str | None
    title: str
    updated_at: float  # epoch seconds
    turn_count: int


class ListSessionsResult(Wire, omit_defaults=False):
    sessions: list[SessionSummary]
    total: int


class ExportSessionParams(Wire):
    agent_id: str | None = None
    conversation_id: str | None = None


class ExportSessionResult(Wire, omit_defaults=False):
    conversation_id: str | None
    markdown: str
    steps: list[Step]
