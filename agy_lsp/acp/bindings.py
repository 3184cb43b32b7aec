"""One ACP session <-> one core agent, plus what ACP shows on top: modes (which are
policy presets of the core, applied from the next turn) and the model option.

A new conversation only gets its SDK conversation id after its first turn, so a
`session/new` answers with an id of ours; the core stores it with the session as
an alias, and `session/list` / `session/load` accept both ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec
from acp.schema import (
    SessionConfigOptionBoolean,
    SessionConfigOptionSelect,
    SessionConfigSelectOption,
    SessionMode,
    SessionModeState,
)

from agy_lsp.acp.tool_tracker import ToolTracker
from agy_lsp.acp.updates import FS_READ_TOOL
from agy_lsp.backends.identity import model_name
from agy_lsp.protocol.types import AnyBackend, Gemini, OpenAI, Policies, PolicyRule, Vertex

ASK_EVERY_TIME = "ask_every_time"
AUTO_ALLOW_READS = "auto_allow_reads"
MODES = [
    SessionMode(id=ASK_EVERY_TIME, name="Ask every time", description="Every tool call asks for permission, reads included."),
    SessionMode(
        id=AUTO_ALLOW_READS,
        name="Auto-allow reads",
        description="Reading files and directories runs without asking; edits and commands ask.",
    ),
]
# Each mode is a policy of the core: the SDK's policy engine decides, nothing else.
MODE_POLICIES: dict[str, Policies] = {
    ASK_EVERY_TIME: Policies(rules=[PolicyRule(tool="*", decision="ask_user")]),
    AUTO_ALLOW_READS: Policies(preset="safeDefaults", rules=[PolicyRule(tool=FS_READ_TOOL, decision="allow")]),
}
DEFAULT_MODE = AUTO_ALLOW_READS

# Models offered besides the current one, per backend type.
_CATALOG: dict[str, list[str]] = {
    "gemini": ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite"],
    "vertex": ["gemini-2.5-flash", "gemini-2.5-pro"],
}


@dataclass
class Binding:
    """The ACP side of one session."""

    session_id: str
    agent_id: str
    cwd: str
    backend: AnyBackend
    mode: str = DEFAULT_MODE
    extra_models: list[str] = field(default_factory=list[str])
    tools: ToolTracker = field(default_factory=ToolTracker)

    def modes(self) -> SessionModeState:
        return SessionModeState(current_mode_id=self.mode, available_modes=MODES)

    def model(self) -> str:
        return model_name(self.backend)

    def models(self) -> list[str]:
        out = [self.model()]
        kind = "gemini" if isinstance(self.backend, Gemini) else "vertex" if isinstance(self.backend, Vertex) else ""
        for m in _CATALOG.get(kind, []) + self.extra_models:
            if m not in out:
                out.append(m)
        return out

    def config_options(self) -> list[SessionConfigOptionSelect | SessionConfigOptionBoolean]:
        return [
            SessionConfigOptionSelect(
                id="model",
                name="Model",
                category="model",
                type="select",
                current_value=self.model(),
                options=[SessionConfigSelectOption(value=m, name=m) for m in self.models()],
            )
        ]

    def with_model(self, model: str) -> AnyBackend:
        """The backend on another model. ValueError for a backend without models."""
        if isinstance(self.backend, (Gemini, Vertex, OpenAI)):
            return msgspec.structs.replace(self.backend, model=model)
        if model == self.model():
            return self.backend
        raise ValueError("the scripted backend has a single model")
