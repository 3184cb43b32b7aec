"""The agent options of a `StartSpec` -> the SDK's config objects: capabilities
(tools, behaviour, subagents, run_command, output caps), budgets, compaction,
subagents, skills, system instructions and Gemini model options.

Each SDK model validates its own values; a value it refuses is InvalidParams with
the field named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from google.antigravity import CapabilitiesConfig
from google.antigravity import types as sdk
from google.antigravity.models import GeminiModelOptions, ServiceTier, ThinkingLevel

from agy_lsp.protocol.agent_options import Budget, Compaction, ModelOptions, Skills, Subagents, SystemInstructions
from agy_lsp.protocol.errors import invalid_params
from agy_lsp.sdk.port import StartSpec
from agy_lsp.sdk.to_wire import SDK_NAMES, model_name

T = TypeVar("T")


def checked(field: str, make: Callable[[], T]) -> T:
    """The SDK object, or InvalidParams naming the field (pydantic's errors are ValueErrors)."""
    try:
        return make()
    except (ValueError, TypeError) as e:
        raise invalid_params(f"invalid {field}: {e}", field=field, cause=str(e)) from e


def capabilities(spec: StartSpec) -> CapabilitiesConfig | None:
    wanted, subagents, run, output = spec.capabilities, spec.subagents, spec.run_command, spec.tool_output
    behavior = wanted.agent_behavior if wanted else None
    if behavior is None and ("onInteraction" in spec.hooks or spec.ask_questions):
        behavior = "interactive"  # the harness lets only an interactive agent ask questions
    enabled = _sdk_names(wanted.enabled_tools) if wanted else None
    disabled = _sdk_names(wanted.disabled_tools) if wanted else None
    if spec.ask_questions:
        enabled, disabled = _with_ask_question(enabled, disabled)
    fields: dict[str, Any] = {
        "enabled_tools": enabled,
        "disabled_tools": disabled,
        "agent_behavior": sdk.AgentBehavior(behavior) if behavior else None,
        "enable_subagents": subagents.enabled if subagents else None,
        "max_subagent_depth": subagents.max_depth if subagents else None,
        "allowed_subagents": subagents.allowed if subagents else None,
        "run_command_config": sdk.RunCommandConfig(
            enable_daemons=run.enable_daemons, timeout_seconds=run.timeout_secs, enable_sandbox=run.sandbox
        )
        if run
        else None,
        "tool_output_truncation_config": output.max_tokens if output else None,
        "mcp_max_output_bytes": output.mcp_max_bytes if output else None,
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    if not fields:
        return None
    return checked("capabilities", lambda: CapabilitiesConfig(**fields))


def _sdk_names(names: list[str] | None) -> list[str] | None:
    """Tools may be named as the model sees them or as the SDK does."""
    return None if names is None else [SDK_NAMES.get(n, n) for n in names]


def _with_ask_question(enabled: list[str] | None, disabled: list[str] | None) -> tuple[list[str], None]:
    """`ask_question` is off by default; an agent someone can answer gets it."""
    tools = list(enabled) if enabled is not None else [t.value for t in sdk.BuiltinTools.default() if t.value not in (disabled or [])]
    if sdk.BuiltinTools.ASK_QUESTION.value not in tools:
        tools.append(sdk.BuiltinTools.ASK_QUESTION.value)
    return tools, None


def builtin_tools(spec: StartSpec) -> list[str]:
    """The built-in tools an agent with these options has."""
    from google.antigravity.connections.connection import resolve_active_tools

    caps = capabilities(spec) or sdk.CapabilitiesConfig()
    try:
        names = [str(getattr(t, "value", t)) for t in resolve_active_tools(caps)]
    except Exception:
        names = [t.value for t in sdk.BuiltinTools.default()]
    return sorted(model_name(n) for n in names)  # as the model sees them (write_to_file, not create_file)


def budget(b: Budget | None) -> sdk.BudgetConfig | None:
    if b is None:
        return None
    scope = sdk.BudgetScope.FORWARD_LOOKING if b.scope == "forwardLooking" else sdk.BudgetScope.LIFETIME
    return checked(
        "budget",
        lambda: sdk.BudgetConfig(
            max_model_calls=b.max_model_calls,
            max_tool_calls=b.max_tool_calls,
            max_input_tokens=b.max_input_tokens,
            max_output_tokens=b.max_output_tokens,
            max_total_tokens=b.max_total_tokens,
            scope=scope,
        ),
    )


def compaction(c: Compaction | None) -> sdk.CompactionConfig | None:
    return None if c is None else checked("compaction", lambda: sdk.CompactionConfig(token_threshold=c.token_threshold))


def subagents(s: Subagents | None) -> list[sdk.SubagentConfig] | None:
    if s is None or not s.custom:
        return None
    return [
        checked(
            f"subagents.custom[{a.name!r}]",
            lambda a=a: sdk.SubagentConfig(
                name=a.name,
                description=a.description,
                system_instructions=a.instructions,
                model=a.model,
                capabilities=sdk.SubagentCapabilities(enabled_tools=a.enabled_tools, disabled_tools=a.disabled_tools)  # pyright: ignore[reportArgumentType]
                if a.enabled_tools is not None or a.disabled_tools is not None
                else None,
            ),
        )
        for a in s.custom
    ]


def skills(s: Skills | None) -> tuple[list[str] | None, list[sdk.InlineSkill] | None]:
    if s is None:
        return None, None
    inline = [
        checked(
            f"skills.inline[{k.name!r}]",
            lambda k=k: sdk.InlineSkill(name=k.name, description=k.description, content=k.content, allowed_tools=k.allowed_tools),
        )
        for k in s.inline
    ]
    return s.paths or None, inline or None


def system_instructions(value: str | SystemInstructions | None) -> Any:
    """A string is added to the SDK's own prompt as a section (as before); `custom`
    replaces the prompt; `identity` / `sections` are added."""
    if value is None or isinstance(value, str):
        return value
    if value.custom is not None:
        return checked("systemInstructions.custom", lambda: sdk.CustomSystemInstructions(text=value.custom or ""))
    sections = [sdk.SystemInstructionSection(title=s.title, content=s.content) for s in value.sections]
    return checked("systemInstructions", lambda: sdk.TemplatedSystemInstructions(identity=value.identity, sections=sections))


def model_options(options: ModelOptions | None) -> GeminiModelOptions | None:
    if options is None or (options.thinking_level is None and options.service_tier is None and options.max_output_tokens is None):
        return None
    return checked(
        "modelOptions",
        lambda: GeminiModelOptions(
            thinking_level=ThinkingLevel(options.thinking_level) if options.thinking_level else None,
            service_tier=ServiceTier(options.service_tier) if options.service_tier else None,
            max_output_tokens=options.max_output_tokens,
        ),
    )
