"""The agent options beyond the basics of `agy/createAgent`: what the SDK can do
(docs/protocol.md, "SDK capabilities", maps each field to the SDK and to ACP).
All optional; an unset field leaves the SDK's default."""

from __future__ import annotations

from typing import Literal

from agy_lsp.protocol.wire import Wire

ThinkingLevel = Literal["minimal", "low", "medium", "high", "extra_high"]
ServiceTier = Literal["standard", "priority", "flex"]


class ModelOptions(Wire):
    """Gemini model options (the SDK's `GeminiModelOptions`); the SDK has no such
    options for OpenAI-compatible servers, so there they are refused."""

    thinking_level: ThinkingLevel | None = None
    service_tier: ServiceTier | None = None
    max_output_tokens: int | None = None


class Budget(Wire):
    """Limits on the agent's spend (the SDK's `BudgetConfig`). A turn that hits one
    ends with the SDK's stop reason (MAX_TOKENS for the token limits)."""

    max_model_calls: int | None = None
    max_tool_calls: int | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    max_total_tokens: int | None = None
    scope: Literal["lifetime", "forwardLooking"] = "lifetime"


class Compaction(Wire):
    """When older history is summarised (the SDK's `CompactionConfig`)."""

    token_threshold: int | None = None


class RunCommand(Wire):
    """The `run_command` tool (the SDK's `RunCommandConfig`)."""

    timeout_secs: float | None = None
    enable_daemons: bool = False
    sandbox: bool = False  # run commands in the OS sandbox when the harness has one


class CustomSubagent(Wire):
    """A subagent the agent may delegate to by name (the SDK's `SubagentConfig`)."""

    name: str
    description: str
    instructions: str | None = None
    enabled_tools: list[str] | None = None
    disabled_tools: list[str] | None = None
    model: str | None = None


class Subagents(Wire):
    enabled: bool = True
    max_depth: int | None = None
    allowed: list[str] | None = None  # by name; None: any
    custom: list[CustomSubagent] = []


class InlineSkill(Wire):
    name: str
    description: str
    content: str
    allowed_tools: list[str] = []


class Skills(Wire):
    """Skill folders (each with a SKILL.md) and skills given inline."""

    paths: list[str] = []
    inline: list[InlineSkill] = []


class InstructionSection(Wire):
    title: str
    content: str


class SystemInstructions(Wire):
    """The system prompt: `custom` replaces it entirely; otherwise `identity` and
    `sections` are added to the SDK's own (a plain string adds one section)."""

    custom: str | None = None
    identity: str | None = None
    sections: list[InstructionSection] = []


class ToolOutput(Wire):
    """How much of a tool's output the model sees (the rest is cut)."""

    max_tokens: int | None = None
    mcp_max_bytes: int | None = None
