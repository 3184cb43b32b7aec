"""Sessions that outlive the process: our metadata beside the SDK's conversation.

The SDK stores the conversation itself in `<state_dir>/conversations/<id>.db` (its
`save_dir`). We keep what the SDK does not know in `<state_dir>/sessions/<id>.json`:
the agent's whole spec (never a key, never MCP `env` or `headers`), its backend as
described (no key), remembered permissions, the editor tools' state, the tool
calls that never ran (the harness keeps only an error text for them), the ids a
front-end knows the session by (an ACP session id), times and turn count.
Writes are atomic (temp file, fsync, rename); unreadable files are skipped with a
warning and never stop the server.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec

from agy_lsp.protocol.types import CreateAgentParams, Permission, ToolCall

log = logging.getLogger(__name__)

TITLE_CHARS = 80
MAX_REFUSED = 1000  # refused calls kept per conversation, newest last


class RefusedCall(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    """A tool call that never ran, as the live turn showed it; `step_id` is the
    harness's error step that stands for it. A call refused as its turn was cancelled
    has no step yet (""): `after_step` is the last step its turn showed, and its error
    step is the next "denied" one, when the harness wrote it (queries.with_refused)."""

    step_id: str
    call: ToolCall
    reason: str
    after_step: str = ""


class SessionMeta(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    conversation_id: str
    title: str = ""
    spec: CreateAgentParams = msgspec.field(default_factory=CreateAgentParams)
    backend: dict[str, Any] = {}
    permissions: list[Permission] = []
    tool_state: dict[str, Any] = {}
    refused: list[RefusedCall] = []
    aliases: list[str] = []  # other ids a front-end knows this session by
    created_at: float = 0.0
    updated_at: float = 0.0
    turn_count: int = 0

    @property
    def name(self) -> str | None:
        return self.spec.name

    @property
    def cwd(self) -> str | None:
        return self.spec.workspaces[0] if self.spec.workspaces else None


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(SessionMeta)


def shorten(prompt: str) -> str:
    line = " ".join(prompt.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# agy-lsp 0.1 kept these spec fields at the top level.
_V1_SPEC_FIELDS = ("name", "policies", "workspaces", "systemInstructions", "tools", "hooks", "mcpServers")


def _from_v1(data: bytes) -> SessionMeta:
    raw: dict[str, Any] = msgspec.json.decode(data)
    raw["spec"] = {k: raw.pop(k) for k in _V1_SPEC_FIELDS if k in raw}
    return msgspec.convert(raw, SessionMeta)


class SessionStore:
    def __init__(self, state_dir: str) -> None:
        self.root = Path(state_dir)
        self.sessions = self.root / "sessions"
        self.conversations = self.root / "conversations"

    def _path(self, conversation_id: str) -> Path:
        if not conversation_id or "/" in conversation_id or conversation_id.startswith("."):
            raise ValueError(f"bad conversation id {conversation_id!r}")
        return self.sessions / f"{conversation_id}.json"

    def save(self, meta: SessionMeta) -> None:
        meta.updated_at = time.time()
        if not meta.created_at:
            meta.created_at = meta.updated_at
        del meta.refused[:-MAX_REFUSED]
        atomic_write(self._path(meta.conversation_id), _encoder.encode(meta))

    def get(self, conversation_id: str) -> SessionMeta | None:
        try:
            path = self._path(conversation_id)
        except ValueError:
            return None
        return self._read(path)

    def find(self, session_id: str) -> SessionMeta | None:
        """By conversation id, or by an alias a front-end gave it."""
        meta = self.get(session_id)
        if meta is not None:
            return meta
        found = next((m for m in self.list() if session_id in m.aliases), None)
        if found is None and (legacy := self._v1_aliases().get(session_id)):
            found = self.get(legacy)
        return found

    def _v1_aliases(self) -> dict[str, str]:
        """agy-lsp 0.1 kept ACP session ids in `acp/sessions.json` (id -> conversation)."""
        try:
            data = msgspec.json.decode((self.root / "acp" / "sessions.json").read_bytes(), type=dict[str, str])
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return {}
        return data

    def _read(self, path: Path) -> SessionMeta | None:
        try:
            data = path.read_bytes()
            return _decoder.decode(data) if b'"spec"' in data else _from_v1(data)
        except FileNotFoundError:
            return None
        except (OSError, msgspec.DecodeError, msgspec.ValidationError) as e:
            log.warning("skipping unreadable session file %s: %s", path, e)
            return None

    def has_conversation(self, conversation_id: str) -> bool:
        return (self.conversations / f"{conversation_id}.db").exists()

    def list(self, cwd: str | None = None) -> list[SessionMeta]:
        """Stored sessions, most recently updated first; with `cwd`, only those whose
        first workspace it is."""
        if not self.sessions.is_dir():
            return []
        metas = [m for p in self.sessions.glob("*.json") if (m := self._read(p)) is not None]
        if cwd is not None:
            metas = [m for m in metas if m.cwd == cwd]
        return sorted(metas, key=lambda m: m.updated_at, reverse=True)

    def delete(self, conversation_id: str) -> None:
        """Remove our metadata and the SDK's conversation files."""
        with contextlib.suppress(ValueError, OSError):
            self._path(conversation_id).unlink(missing_ok=True)
        if self.conversations.is_dir():
            for path in self.conversations.glob(f"{conversation_id}*"):
                with contextlib.suppress(OSError):
                    path.unlink()
