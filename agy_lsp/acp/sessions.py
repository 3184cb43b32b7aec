"""One ACP session <-> one core agent, plus what ACP adds on top: modes, the model
option, and the id index that survives restarts.

A new conversation only gets its SDK conversation id after its first turn, so a
`session/new` answers with an id of ours and we record, in
`<state_dir>/acp/sessions.json`, which conversation it became. `session/list`
and `session/load` accept both that id and the bare conversation id.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from acp.schema import SessionConfigOptionSelect, SessionConfigSelectOption, SessionMode, SessionModeState

from agy_lsp.acp.tools import ToolTracker
from agy_lsp.protocol.types import AnyBackend, Gemini, OpenAI, Vertex

log = logging.getLogger(__name__)

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
MODE_IDS = {m.id for m in MODES}
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
        if isinstance(self.backend, (Gemini, Vertex)):
            return self.backend.model or "gemini-2.5-flash"
        if isinstance(self.backend, OpenAI):
            return self.backend.model or "default"
        return "scripted"

    def models(self) -> list[str]:
        out = [self.model()]
        kind = "gemini" if isinstance(self.backend, Gemini) else "vertex" if isinstance(self.backend, Vertex) else ""
        for m in _CATALOG.get(kind, []) + self.extra_models:
            if m not in out:
                out.append(m)
        return out

    def config_options(self) -> list[Any]:
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


class SessionIndex:
    """ACP session id -> SDK conversation id, on disk (atomic writes)."""

    def __init__(self, state_dir: str) -> None:
        self.path = Path(state_dir) / "acp" / "sessions.json"

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            log.warning("ignoring unreadable %s: %s", self.path, e)
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}  # pyright: ignore

    def conversation(self, session_id: str) -> str:
        return self._read().get(session_id, session_id)

    def session_ids(self) -> dict[str, str]:
        """conversation id -> ACP session id."""
        return {conv: sid for sid, conv in self._read().items()}

    def record(self, session_id: str, conversation_id: str) -> None:
        if session_id == conversation_id:
            return
        data = self._read()
        data[session_id] = conversation_id
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(data, f)
            os.replace(tmp, self.path)
        except OSError as e:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            log.warning("could not record session %s: %s", session_id, e)
