"""One ACP session <-> one core agent, plus what ACP shows on top: the mode, the
config options' values, the session's commands, its message ids and its running cost.

A new conversation only gets its SDK conversation id after its first turn, so a
`session/new` answers with an id of ours; the core stores it with the session as
an alias, and `session/list` / `session/load` accept both ids.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import msgspec

from agy_lsp.acp import options
from agy_lsp.acp.tool_tracker import ToolTracker
from agy_lsp.acp.updates import Replay
from agy_lsp.backends.identity import model_name
from agy_lsp.protocol.types import AnyBackend, Gemini, HookPoint, ModelOptions, OpenAI, RunCommand, Vertex


@dataclass
class Binding:
    """The ACP side of one session."""

    session_id: str
    agent_id: str
    cwd: str
    backend: AnyBackend
    mode: str = options.DEFAULT_MODE
    extra_models: list[str] = field(default_factory=list[str])
    listed_models: list[str] = field(default_factory=list[str])  # from the backend
    model_options: ModelOptions | None = None
    run_command: RunCommand | None = None
    sandbox_note: str | None = None  # why the sandbox is unavailable, once the harness said
    booleans: bool = False  # the client takes boolean config options
    client_hooks: frozenset[HookPoint] = frozenset()  # `_agy/hook` points the client subscribed
    skills: dict[str, str] = field(default_factory=dict[str, str])  # name -> description
    tools: ToolTracker = field(default_factory=ToolTracker)
    cost: float | None = None  # USD so far, where the model's price is known
    message_id: str | None = None  # of the agent message being streamed
    thought_id: str | None = None
    last_kind: str = ""  # "text" | "thought" | other: a change starts a new message
    replay: Replay = field(default_factory=Replay)  # session/load's updates, each step's made once

    def modes(self) -> options.SessionModeState:
        return options.modes(self.mode)

    def model(self) -> str:
        return model_name(self.backend)

    def models(self) -> list[str]:
        out = [self.model()]
        for m in self.listed_models + self.extra_models:
            if m not in out:
                out.append(m)
        return out

    @property
    def sandbox(self) -> bool:
        return bool(self.run_command and self.run_command.sandbox)

    def config_options(self) -> list[options.Option]:
        return options.config_options(
            backend=self.backend,
            model=self.model(),
            models=self.models(),
            mode=self.mode,
            thought_level=self.model_options.thinking_level if self.model_options else None,
            sandbox=self.sandbox,
            sandbox_note=self.sandbox_note,
            booleans=self.booleans,
        )

    def with_model(self, model: str) -> AnyBackend:
        """The backend on another model. ValueError for a backend without models."""
        if isinstance(self.backend, (Gemini, Vertex, OpenAI)):
            return msgspec.structs.replace(self.backend, model=model)
        if model == self.model():
            return self.backend
        raise ValueError("the scripted backend has a single model")

    def next_message_id(self, kind: str) -> str:
        """The messageId of a chunk: the same for a run of chunks of one kind, new
        after anything else (a tool call, the other kind, a new turn)."""
        if kind != self.last_kind:
            self.last_kind = kind
            if kind == "text":
                self.message_id = uuid.uuid4().hex
            else:
                self.thought_id = uuid.uuid4().hex
        return (self.message_id if kind == "text" else self.thought_id) or ""
