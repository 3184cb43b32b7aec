"""The contract between the core and the SDK adapter, in plain Python.

The core (agy_lsp/agents) speaks only these types; `agy_lsp.sdk.adapter` implements
them on google-antigravity, and the core's tests implement them with an in-memory
fake. Nothing here imports the SDK, so importing this module costs nothing.

- `StartSpec` says what agent to start; `HarnessCallbacks` is how the SDK's hooks,
  policies and custom tools reach the core while a turn runs.
- `LiveAgent` is one started agent (one `localharness`): send a prompt, iterate the
  turn's `StepEvent`s, cancel, read history and usage, close.
- A tool call shows up several times while a turn runs (the pre-tool hook, a
  confirmation, its streamed step, an editor tool's body, the post-tool hook). Each
  sighting is a `ToolSighting` with whatever ids the SDK gave that view; the core's
  `ToolCalls` (agents/tool_calls.py) matches the sightings of one call to one id and
  hands that id back with `LiveAgent.label`, so history shows it too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

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
from agy_lsp.protocol.types import (
    AnyBackend,
    Capabilities,
    EditorTool,
    HookPoint,
    HookResult,
    McpServer,
    Prompt,
    SandboxStatus,
    Step,
    ToolCall,
    TrajectoryUsage,
    Usage,
)

Decision = Literal["allow", "deny", "ask_user"]


@dataclass(frozen=True)
class Rule:
    """One resolved policy rule (agents/policies.py made it; the adapter maps it to
    the SDK's policy objects). `tool` is a name, `server/tool`, `server/*` or `*`;
    `tool_glob` further restricts an MCP rule by the tool's name; `when` holds
    (argument, regular expression) pairs that must all match."""

    tool: str
    decision: Decision
    when: tuple[tuple[str, str], ...] = ()
    tool_glob: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Preset:
    """A built-in SDK policy set appended after the rules."""

    name: Literal["allowAll", "denyAll", "confirmRunCommand", "workspaceOnly", "safeDefaults", "auto"]


@dataclass
class StartSpec:
    """Everything the adapter needs to start one agent."""

    backend: AnyBackend  # never Scripted: the core registers scripts first
    state_dir: str
    system_instructions: str | SystemInstructions | None = None
    workspaces: list[str] = field(default_factory=list[str])
    capabilities: Capabilities | None = None
    editor_tools: list[EditorTool] = field(default_factory=list[EditorTool])
    hooks: list[HookPoint] = field(default_factory=list[HookPoint])
    rules: list[Rule] = field(default_factory=list[Rule])
    presets: list[Preset] = field(default_factory=list[Preset])
    mcp_servers: list[McpServer] = field(default_factory=list[McpServer])
    response_schema: dict[str, Any] | None = None
    conversation_id: str | None = None
    resume: bool = False
    start_timeout_secs: float = 30.0
    model_options: ModelOptions | None = None
    budget: Budget | None = None
    compaction: Compaction | None = None
    run_command: RunCommand | None = None
    subagents: Subagents | None = None
    skills: Skills | None = None
    tool_output: ToolOutput | None = None
    ask_questions: bool = False  # offer the model `ask_question` (someone can answer)


@dataclass
class ToolSighting:
    """One view of a tool call. `name` is the wire name: the name the model called
    (`server/tool` for MCP); `sdk_name` is the name this view gave (the SDK calls
    some built-ins otherwise, and a step may stand for more than one tool, see
    docs/protocol.md#built-in-tools). `call_id` is the model's call id and `step_id`
    the SDK's step id, each when this view carries it. `hookless`: a call no hook
    saw (the harness runs some built-ins without hooks), known only from its step
    and the harness's transcript. `key` is the adapter's handle for `LiveAgent.label`."""

    name: str
    args: dict[str, Any]
    call_id: str = ""
    step_id: str = ""
    key: Any = None
    sdk_name: str = ""
    hookless: bool = False


@dataclass
class ToolEnd:
    """A call's end as the SDK reported it (the wire's `ToolOutcome` is the verdict
    the core derives from it): what the post-tool hook or onToolError reported, or what
    the harness's transcript says. `result` is the call's output (a built-in's: the
    text the harness gave the model, bounded)."""

    sighting: ToolSighting
    result: Any = None
    error: str | None = None
    delegated: list[str] = field(default_factory=list[str])  # the subagents' trajectories it started


@dataclass(slots=True)
class StepEvent:
    """One streamed step (the SDK streams a step again each time it grows).

    `text` / `thought`: the deltas of the model talking to the person. `calls`: the
    tool calls the step carries; `ended`: calls that ended with it and that no
    post-tool hook reports (`finish`, and the calls the harness runs without hooks). `kind`: "custom_tool" for the step the harness makes
    for an editor tool (without its call), "denied" for the error step that is all
    the harness keeps of a call a hook or policy refused (`error`: the policy's own
    reason, "" when it gave none), "compaction" when older
    history was summarised (`text` holds the summary), "retry" when the harness
    retries a failed model request (`attempt`: the one starting now, `error`: why
    the last failed), else "step". A subagent's
    steps carry its trajectory, the one that delegated to it, and the depth."""

    kind: Literal["step", "custom_tool", "denied", "compaction", "retry"]
    step_id: str = ""
    first: bool = True  # the first time this step is streamed
    text: str = ""
    thought: str = ""
    calls: list[ToolSighting] = field(default_factory=list[ToolSighting])
    ended: list[ToolEnd] = field(default_factory=list[ToolEnd])  # calls no post-tool hook ends
    error: str = ""
    trajectory_id: str = ""
    parent_trajectory_id: str = ""
    depth: int = 0
    attempt: int = 0  # kind "retry"


@dataclass
class Snapshot:
    """A conversation's state, readable with or without a live harness."""

    conversation_id: str | None
    turn_count: int
    last_response: str
    compaction_indices: list[int]
    total_usage: Usage
    last_turn_usage: Usage | None
    sandbox: SandboxStatus | None = None
    trajectory_usage: list[TrajectoryUsage] = field(default_factory=list[TrajectoryUsage])


HookTurn = Literal["live", "cancelled", "ended"]


class HarnessCallbacks(Protocol):
    """The core's side of the SDK's callbacks during a turn. They may raise;
    the adapter fails closed (a failed decision denies)."""

    async def before_tool(self, call: ToolSighting) -> HookResult: ...
    async def confirm_tool(self, call: ToolSighting, reason: str | None) -> bool: ...
    async def run_editor_tool(self, call: ToolSighting) -> Any: ...
    def after_tool(self, end: ToolEnd) -> None: ...
    async def tool_failed(self, end: ToolEnd) -> str | None: ...
    async def decide(self, point: HookPoint, data: Any) -> HookResult | None: ...
    def notice(self, point: HookPoint, data: Any) -> None: ...
    def hook_arrived(self, *, tool: bool) -> Callable[[], HookTurn]:
        """Asked when a hook request arrives: how its turn stands, asked again at
        answer time. Only a "live" turn's harness waits for the answer (a cancelled
        run drops its pending hooks); an "ended" turn's hook records nothing."""
        ...


class EditorToolError(RuntimeError):
    """Raised by `run_editor_tool`; the model sees its message as the tool's error."""


class TurnCancelledError(Exception):
    """The turn's stream ended because `LiveAgent.cancel` stopped it."""


class LiveAgent(Protocol):
    """One started agent. Failures raise AgyError with a classified code (a cut
    stream or HTTP error: BACKEND_ERROR, 429: QUOTA_EXCEEDED, a dead harness:
    AGENT_FAILED). After `close`, `history`, `snapshot` and `label` still work:
    a hibernated agent answers queries from them."""

    @property
    def conversation_id(self) -> str | None: ...
    def harness_alive(self) -> bool: ...
    def harness_pid(self) -> int | None: ...
    async def send(self, prompt: Prompt) -> None: ...
    def events(self) -> AsyncIterator[StepEvent]: ...
    def stop_reason(self) -> str: ...
    def structured_output(self) -> Any: ...
    async def cancel(self) -> None: ...
    async def wait_for_idle(self) -> None: ...
    def history(self) -> list[Step]: ...
    def snapshot(self) -> Snapshot: ...
    def label(self, key: Any, call: ToolCall) -> None: ...
    def clear_history(self) -> None: ...
    async def disconnect(self) -> None: ...
    async def close(self, timeout_secs: float) -> None: ...


class Sdk(Protocol):
    """The SDK as the core sees it."""

    def version(self) -> str | None: ...
    def builtin_tools(self, spec: StartSpec) -> list[str]: ...
    def check(self, spec: StartSpec, callbacks: HarnessCallbacks) -> None:
        """Raises InvalidParams for a spec the SDK would refuse, without starting anything."""
        ...

    async def start(self, spec: StartSpec, callbacks: HarnessCallbacks) -> LiveAgent: ...
