"""Sessions that outlive the process: our metadata beside the SDK's conversation.

The SDK stores the conversation itself in `<state_dir>/conversations/<id>.db`
(its `save_dir`). We keep what the SDK does not know in
`<state_dir>/sessions/<id>.json`: name, title, backend (never its key),
policies, remembered permissions, editor tools, MCP servers (never their `env`
or `headers`, which carry tokens: see `mcp.stored`), times and turn count.
Writes are atomic (temp file + rename); unreadable files are skipped with a
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

from agy_lsp.protocol.types import EditorTool, HookPoint, McpServer, Permission, Policies, PolicyPreset, PolicyRule

log = logging.getLogger(__name__)

TITLE_CHARS = 80


class SessionMeta(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    conversation_id: str
    name: str | None = None
    title: str = ""
    backend: dict[str, Any] = {}
    policies: Policies | list[PolicyRule] | PolicyPreset | None = None
    permissions: list[Permission] = []
    workspaces: list[str] = []
    system_instructions: str | None = None
    tools: list[EditorTool] = []
    hooks: list[HookPoint] = []
    mcp_servers: list[McpServer] = []  # without env and headers
    created_at: float = 0.0
    updated_at: float = 0.0
    turn_count: int = 0


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(SessionMeta)


def shorten(prompt: str) -> str:
    line = " ".join(prompt.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


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
        path = self._path(meta.conversation_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_encoder.encode(meta))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def get(self, conversation_id: str) -> SessionMeta | None:
        try:
            path = self._path(conversation_id)
        except ValueError:
            return None
        return self._read(path)

    def _read(self, path: Path) -> SessionMeta | None:
        try:
            return _decoder.decode(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, msgspec.DecodeError, msgspec.ValidationError) as e:
            log.warning("skipping unreadable session file %s: %s", path, e)
            return None

    def has_conversation(self, conversation_id: str) -> bool:
        return (self.conversations / f"{conversation_id}.db").exists()

    def list(self) -> list[SessionMeta]:
        """Stored sessions, most recently updated first."""
        if not self.sessions.is_dir():
            return []
        metas = [m for p in self.sessions.glob("*.json") if (m := self._read(p)) is not None]
        return sorted(metas, key=lambda m: m.updated_at, reverse=True)

    def delete(self, conversation_id: str) -> None:
        """Remove our metadata and the SDK's conversation files."""
        with contextlib.suppress(ValueError, OSError):
            self._path(conversation_id).unlink(missing_ok=True)
        if self.conversations.is_dir():
            for path in self.conversations.glob(f"{conversation_id}*"):
                with contextlib.suppress(OSError):
                    path.unlink()
