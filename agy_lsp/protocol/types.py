"""msgspec Structs for agy/* payloads. camelCase on the wire (rename="camel")."""

from __future__ import annotations

from typing import Any, Literal

from agy_lsp.protocol.agent_options import (
    Budget,
    Compaction,
    ModelOptions,
    RunCommand,
    Skills,
    Subagents,
    SystemInstructions,
    ToolOutput,
)

# Re-exported: every payload is importable from here.
from agy_lsp.protocol.backends import AnyBackend as AnyBackend
from agy_lsp.protocol.backends import Backend as Backend
from agy_lsp.protocol.backends import Gemini as Gemini
from agy_lsp.protocol.backends import OpenAI as OpenAI
from agy_lsp.protocol.backends import Scripted as Scripted
from agy_lsp.protocol.backends import Vertex as Vertex
from agy_lsp.protocol.calls import ContentPart as ContentPart
from agy_lsp.protocol.calls import Plan as Plan
from agy_lsp.protocol.calls import PlanEntry as PlanEntry
from agy_lsp.protocol.calls import Prompt as Prompt
from agy_lsp.protocol.calls import Step as Step
from agy_lsp.protocol.calls import ToolCall as ToolCall
from agy_lsp.protocol.calls import ToolOutcome as ToolOutcome
from agy_lsp.protocol.calls import ToolResult as ToolResult
from agy_lsp.protocol.calls import Usage as Usage
from agy_lsp.protocol.editor_calls import ConfirmToolCallParams as ConfirmToolCallParams
from agy_lsp.protocol.editor_calls import ConfirmToolCallResult as ConfirmToolCallResult
from agy_lsp.protocol.editor_calls import HookParams as HookParams
from agy_lsp.protocol.editor_calls import HookPoint as HookPoint
from agy_lsp.protocol.editor_calls import HookResult as HookResult
from agy_lsp.protocol.editor_calls import PermissionKind as PermissionKind
from agy_lsp.protocol.editor_calls import PermissionOption as PermissionOption
from agy_lsp.protocol.editor_calls import RunToolParams as RunToolParams
from agy_lsp.protocol.editor_calls import RunToolResult as RunToolResult
from agy_lsp.protocol.ids import SessionId
from agy_lsp.protocol.wire import Wire

AgentState = Literal["starting", "idle", "busy", "restarting", "failed", "closed", "hibernated"]
ChunkKind = Literal["text", "thought", "toolCall", "toolResult", "compaction", "plan", "retry"]


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


PolicyPreset = Literal["safeDefaults", "confirmRunCommand", "allowAll", "denyAll", "workspaceOnly", "auto"]


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


class CreateAgentParams(Wire):
    backend: AnyBackend | None = None
    name: str | None = None
    system_instructions: str | SystemInstructions | None = None
    workspaces: list[str] = []
    capabilities: Capabilities | None = None
    conversation_id: SessionId | None = None
    response_schema: dict[str, Any] | None = None
    max_quota_retries: int | None = None
    chat_timeout_secs: float | None = None
    policies: Policies | list[PolicyRule] | PolicyPreset | None = None
    tools: list[EditorTool] = []
    hooks: list[HookPoint] = []
    # None: none given (a resumed conversation keeps its stored servers); []: none at all.
    mcp_servers: list[McpServer] | None = None
    model_options: ModelOptions | None = None
    budget: Budget | None = None
    compaction: Compaction | None = None
    run_command: RunCommand | None = None
    subagents: Subagents | None = None
    skills: Skills | None = None
    tool_output: ToolOutput | None = None


class ConfigureAgentParams(Wire):
    """`agy/configureAgent`: change a live agent between turns. Given fields replace
    the agent's; the next turn runs on them (a new harness on the same conversation)."""

    agent_id: str
    backend: AnyBackend | None = None
    policies: Policies | list[PolicyRule] | PolicyPreset | None = None
    capabilities: Capabilities | None = None
    model_options: ModelOptions | None = None
    budget: Budget | None = None
    compaction: Compaction | None = None
    run_command: RunCommand | None = None
    tool_output: ToolOutput | None = None


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


class TurnWarning(Wire, omit_defaults=False):
    """What went wrong beside a turn that ran, shaped as a JSON-RPC error (`data.code` is
    the code's name): PERSIST_FAILED, its session was not saved."""

    code: int
    message: str
    data: dict[str, Any]


class ChatResult(Wire, omit_defaults=False):
    turn_id: str
    text: str
    stop_reason: str
    usage: Usage | None
    structured_output: Any = None
    warning: TurnWarning | None = None  # the answer stands; null when all went well


class SendResult(Wire, omit_defaults=False):
    turn_id: str


class RetryInfo(Wire):
    """The harness retrying a failed model request (chunk kind "retry"): which attempt
    starts now and why the last one failed (short, without secrets)."""

    attempt: int
    reason: str
    next_in_secs: float | None = None  # the wait before it; null: not known (the harness says so only once it retries)


class ChatChunk(Wire):
    agent_id: str
    turn_id: str
    seq: int
    kind: ChunkKind
    text: str | None = None
    tool_call: ToolCall | None = None
    tool_result: ToolResult | None = None
    # The streamed step this chunk came from: a new id is a new paragraph of the answer.
    step_id: str | None = None
    # Work a subagent did: its trajectory, the one that delegated to it, and how deep.
    trajectory_id: str | None = None
    parent_trajectory_id: str | None = None
    depth: int | None = None
    parent_call_id: str | None = None  # the invoke_subagent call that started this subagent
    plan: Plan | None = None  # kind "plan"
    retry: RetryInfo | None = None  # kind "retry"


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


class SandboxStatus(Wire, omit_defaults=False):
    """Whether `run_command` runs in the OS sandbox (asked for with runCommand.sandbox)."""

    available: bool
    reason: str | None = None


class TrajectoryUsage(Wire, omit_defaults=False):
    trajectory_id: str
    usage: Usage


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
    sandbox: SandboxStatus | None = None
    trajectory_usage: list[TrajectoryUsage] = []  # the agent's own trajectory and each subagent's
    spec: CreateAgentParams | None = None  # what the agent runs with now: no key, no MCP env or headers


class HistoryParams(Wire):
    agent_id: str
    offset: int = 0
    limit: int | None = None


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


class ModelEntry(Wire, omit_defaults=False):
    id: str
    context_window: int | None = None  # input tokens, where known


class ListModelsResult(Wire, omit_defaults=False):
    """`agy/listModels`: the models the agent's backend offers, its own first."""

    models: list[ModelEntry]


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


class ResetPermissionsParams(Wire):
    agent_id: str
    tool: str | None = None  # None: forget every remembered choice


# ---------------------------------------------------------------------------- stored sessions


class ListSessionsParams(Wire):
    offset: int = 0
    limit: int = 50
    cwd: str | None = None  # only the sessions whose first workspace this is


class DeleteSessionParams(Wire):
    conversation_id: SessionId


class DeleteSessionResult(Wire, omit_defaults=False):
    deleted: bool  # False: nothing was stored under that id


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
    conversation_id: SessionId | None = None


class ExportSessionResult(Wire, omit_defaults=False):
    conversation_id: str | None
    markdown: str
    steps: list[Step]
