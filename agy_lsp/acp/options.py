"""What an ACP session lets the person choose: modes (policy presets of the core, and
planning) and config options (`model`, `thought_level`, `mode`, `sandbox`).

Each mode is a policy of the core (the SDK's policy engine decides, nothing beside
it), applied from the next prompt; `plan` also makes every prompt a `/plan` prompt.
"""

from __future__ import annotations

from typing import Any

from acp.schema import (
    SessionConfigOptionBoolean,
    SessionConfigOptionSelect,
    SessionConfigSelectOption,
    SessionMode,
    SessionModeState,
)

from agy_lsp.acp.updates import FS_READ_TOOL
from agy_lsp.protocol.types import Gemini, Policies, PolicyRule, Vertex

ASK_EVERY_TIME = "ask_every_time"
AUTO_ALLOW_READS = "auto_allow_reads"
AUTO = "auto"
ALLOW_ALL = "allow_all"
PLAN = "plan"
_READS = PolicyRule(tool=FS_READ_TOOL, decision="allow")  # our editor read tool is a read like view_file
_ASK = PolicyRule(tool="ask_question", decision="allow")  # a question asks the person anyway
MODES = [
    SessionMode(id=ASK_EVERY_TIME, name="Ask every time", description="Every tool call asks for permission, reads included."),
    SessionMode(
        id=AUTO_ALLOW_READS,
        name="Auto-allow reads",
        description="Reading files and directories runs without asking; edits and commands ask.",
    ),
    SessionMode(
        id=AUTO,
        name="Auto",
        description="A safety model approves routine calls and asks you about the rest (the SDK's policy.auto).",
    ),
    SessionMode(id=ALLOW_ALL, name="Allow all", description="Every tool call runs without asking."),
    SessionMode(
        id=PLAN,
        name="Plan",
        description="The agent writes a plan first (the SDK's /plan) and waits for your go-ahead; reads run, edits ask.",
    ),
]
MODE_POLICIES: dict[str, Policies] = {
    ASK_EVERY_TIME: Policies(rules=[PolicyRule(tool="*", decision="ask_user")]),
    AUTO_ALLOW_READS: Policies(preset="safeDefaults", rules=[_READS, _ASK]),
    AUTO: Policies(preset="auto", rules=[_READS, _ASK]),
    ALLOW_ALL: Policies(preset="allowAll"),
    PLAN: Policies(preset="safeDefaults", rules=[_READS, _ASK]),
}
DEFAULT_MODE = AUTO_ALLOW_READS

THOUGHT_LEVELS = ["default", "minimal", "low", "medium", "high", "extra_high"]
_THOUGHT_NAMES = {"default": "Model default", "extra_high": "Extra high"}

Option = SessionConfigOptionSelect | SessionConfigOptionBoolean


def modes(current: str) -> SessionModeState:
    return SessionModeState(current_mode_id=current, available_modes=MODES)


def _select(id: str, name: str, category: Any, current: str, values: list[tuple[str, str]], description: str | None = None) -> Option:
    return SessionConfigOptionSelect(
        id=id,
        name=name,
        category=category,
        type="select",
        description=description,
        current_value=current,
        options=[SessionConfigSelectOption(value=v, name=n) for v, n in values],
    )


def config_options(
    *,
    backend: Any,
    model: str,
    models: list[str],
    mode: str,
    thought_level: str | None,
    sandbox: bool,
    sandbox_note: str | None,
    booleans: bool,
) -> list[Option]:
    """Every option of a session with its current value. `booleans`: the client takes
    `type: "boolean"` options; otherwise `sandbox` is an on/off select."""
    out = [_select("model", "Model", "model", model, [(m, m) for m in models])]
    if isinstance(backend, (Gemini, Vertex)):  # the SDK has model options for Gemini models only
        levels = [(v, _THOUGHT_NAMES.get(v, v.capitalize())) for v in THOUGHT_LEVELS]
        out.append(_select("thought_level", "Thinking", "thought_level", thought_level or "default", levels))
    out.append(_select("mode", "Mode", "mode", mode, [(m.id, m.name) for m in MODES]))
    about = "Run shell commands in the OS sandbox." + (f" {sandbox_note}" if sandbox_note else "")
    if booleans:
        out.append(SessionConfigOptionBoolean(id="sandbox", name="Sandbox", type="boolean", current_value=sandbox, description=about))
    else:
        out.append(_select("sandbox", "Sandbox", None, "on" if sandbox else "off", [("off", "Off"), ("on", "On")], about))
    return out


def sandbox_value(value: str | bool) -> bool | None:
    """A `sandbox` value as the client sent it (a boolean, or the select's on/off)."""
    if isinstance(value, bool):
        return value
    return {"on": True, "off": False, "true": True, "false": False}.get(value)
