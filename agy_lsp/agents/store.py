"""Sessions that outlive the process: our metadata beside the SDK's conversation.

The SDK stores the conversation itself in `<state_dir>/conversations/<id>.db` (its
`save_dir`). We keep what the SDK does not know in `<state_dir>/sessions/<id>.json`:
the agent's whole spec (never a key, never MCP `env` or `headers`), its backend as
described (no key), remembered permissions, the editor tools' state, the tool
calls that never ran (the harness keeps only an error text for them), the ids a
front-end knows the session by (an ACP session id), times and turn count.
Writes are atomic (temp file, fsync, rename); unreadable files are skipped with a
warning and never stop the server.

Ids come from clients. The store touches only paths it built itself from an id
that passes `protocol.ids` (an invalid one is simply not there: nothing is stat'ed),
and only inside the state dir (each path resolved and compared; a symlink is never
followed out of it). Deleting removes a conversation's exact files, never a pattern.
Everything under the state dir is the owner's only (docs/reliability.md).

An internal agent (the inline completions') is never stored: its harness saves
into a scratch folder of its own, `internal/<pid>-<agent id>`, which is removed when
it closes, so no listing, resume or front-end ever sees it (`scratch_dir`).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec

from agy_lsp import parent_process
from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.ids import SessionId, is_session_id
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
    conversation_id: SessionId  # a file with a bad one is unreadable, and skipped
    title: str = ""
    spec: CreateAgentParams = msgspec.field(default_factory=CreateAgentParams)
    backend: dict[str, Any] = {}
    permissions: list[Permission] = []
    tool_state: dict[str, Any] = {}
    refused: list[RefusedCall] = []
    aliases: list[SessionId] = []  # other ids a front-end knows this session by
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
    """All of `data` at `path`, or an OSError (ENOSPC, EROFS, EACCES ...) and the file
    as it was: the new bytes go to a temp file beside it, synced, then renamed over it,
    and the directory is synced so the rename itself survives a crash."""
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
    _sync_dir(path.parent)


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOTSUP):  # a file system that cannot sync a directory
            raise
    finally:
        os.close(fd)


# agy-lsp 0.1 kept these spec fields at the top level.
_V1_SPEC_FIELDS = ("name", "policies", "workspaces", "systemInstructions", "tools", "hooks", "mcpServers")


def _from_v1(data: bytes) -> SessionMeta:
    raw: dict[str, Any] = msgspec.json.decode(data)
    raw["spec"] = {k: raw.pop(k) for k in _V1_SPEC_FIELDS if k in raw}
    return msgspec.convert(raw, SessionMeta)


# The SDK's files of a conversation in `conversations/` (sqlite and its journals).
_CONVERSATION_FILES = (".db", ".db-wal", ".db-shm", ".db-journal")


class SessionStore:
    def __init__(self, state_dir: str) -> None:
        self.root = Path(state_dir)
        self.sessions = self.root / "sessions"
        self.conversations = self.root / "conversations"
        self.brain = self.root / "app" / "brain"  # the harness's per-conversation folder (sdk/config.py app_data_dir)

    def _inside(self, path: Path) -> Path | None:
        """`path` when it is (resolved) inside the state dir, else None: a folder of
        ours that is a symlink out of it is not followed."""
        try:
            return path if path.resolve().is_relative_to(self.root.resolve()) else None
        except (OSError, RuntimeError):  # a symlink loop
            return None

    def _path(self, conversation_id: str) -> Path:
        if not is_session_id(conversation_id):
            raise ValueError("bad conversation id")
        return self.sessions / f"{conversation_id}.json"

    def save(self, meta: SessionMeta) -> None:
        meta.updated_at = time.time()
        if not meta.created_at:
            meta.created_at = meta.updated_at
        del meta.refused[:-MAX_REFUSED]
        path = self._path(meta.conversation_id)
        if self._inside(path.parent) is None:
            raise OSError(f"{self.sessions} leads out of the state dir")
        atomic_write(path, _encoder.encode(meta))
        self.tighten(meta.conversation_id)

    def tighten(self, conversation_id: str) -> None:
        """Take group and other access off what the harness wrote for this conversation
        (its database, its brain folder with the transcripts). The harness writes with the
        process's umask, which we leave alone because it also writes the user's project
        files; the 0700 state dir already shields these, this keeps them 0600 as well."""
        if not is_session_id(conversation_id):
            return
        paths = [self.root, *(self.root / d for d in ("sessions", "conversations", "app"))]
        paths += [self.conversations / f"{conversation_id}{s}" for s in _CONVERSATION_FILES]
        brain = self.brain / conversation_id
        if self._inside(self.brain) is not None and brain.is_dir() and not brain.is_symlink():
            paths.append(self.brain)
            for folder, dirs, files in os.walk(brain, followlinks=False):
                paths += [Path(folder), *(Path(folder, n) for n in (*dirs, *files))]
        for p in paths:
            _owner_only(p)

    def get(self, conversation_id: str) -> SessionMeta | None:
        if not is_session_id(conversation_id) or (path := self._inside(self._path(conversation_id))) is None:
            return None
        return self._read(path)

    def find(self, session_id: str) -> SessionMeta | None:
        """By conversation id, or by an alias a front-end gave it."""
        if not is_session_id(session_id):
            return None
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
        if not is_session_id(conversation_id):
            return False
        path = self._inside(self.conversations / f"{conversation_id}.db")
        return path is not None and path.is_file()

    def list(self, cwd: str | None = None) -> list[SessionMeta]:
        """Stored sessions, most recently updated first; with `cwd`, only those whose
        first workspace it is."""
        if self._inside(self.sessions) is None or not self.sessions.is_dir():
            return []
        metas = [m for p in self.sessions.glob("*.json") if (m := self._read(p)) is not None]
        if cwd is not None:
            metas = [m for m in metas if m.cwd == cwd]
        return sorted(metas, key=lambda m: m.updated_at, reverse=True)

    def delete(self, conversation_id: str) -> None:
        """Remove our metadata, the SDK's conversation files and the harness's folder
        for it: exactly those paths, each only when it is inside the state dir."""
        if not is_session_id(conversation_id):
            return
        files = [self.sessions / f"{conversation_id}.json", *(self.conversations / f"{conversation_id}{s}" for s in _CONVERSATION_FILES)]
        for path in files:
            if self._inside(path.parent) is not None:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)  # a symlink is removed, not what it points to
        brain = self.brain / conversation_id
        if self._inside(self.brain) is not None:
            with contextlib.suppress(OSError):
                if brain.is_symlink():
                    brain.unlink()
                elif brain.is_dir():
                    shutil.rmtree(brain)  # does not follow symlinks inside it


def _owner_only(path: Path | str) -> bool:
    """chmod go-rwx, never through a symlink; True when the mode changed."""
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode) or not st.st_mode & 0o077:
            return False
        os.chmod(path, stat.S_IMODE(st.st_mode) & 0o700)
        return True
    except OSError:
        return False


def scratch_dir(state_dir: str, agent_id: str) -> str:
    """A new folder for an internal agent's harness to save into; first the folders of
    servers that are gone (they died before closing their agents) are removed."""
    root = Path(state_dir) / "internal"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    if root.is_symlink():
        raise OSError(f"{root} is a symlink")
    for old in root.iterdir():
        pid = old.name.split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not parent_process.alive(int(pid)):
            remove_scratch(str(old))
    path = root / f"{os.getpid()}-{agent_id}"
    path.mkdir(mode=0o700, exist_ok=True)
    return str(path)


def remove_scratch(path: str | None) -> None:
    if path is not None and not os.path.islink(path):  # rmtree never follows one inside; the folder itself is ours
        shutil.rmtree(path, ignore_errors=True)


def secure_state_dir(state_dir: str) -> int:
    """Make the state dir the owner's only: create it 0700, and when it is open to
    group or others (an install from before this rule), take their bits off every
    folder and file under it (symlinks are neither followed nor changed). Returns how
    many modes changed. A 0700 state dir already shields what is in it."""
    root = Path(state_dir)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(root.stat().st_mode) & 0o077 == 0:
        return 0
    changed = 0
    for folder, dirs, files in os.walk(root.resolve(), followlinks=False):
        for path in [folder, *(os.path.join(folder, n) for n in (*dirs, *files))]:
            changed += _owner_only(path)
    return changed


# What a person can do about a failed save, by errno.
_HINTS = {
    errno.ENOSPC: "The disk is full: free space on it, and the next turn saves the session again. Turns that ran while it was "
    "full stay in the agent's memory but are missing from its stored conversation (docs/reliability.md).",
    errno.EDQUOT: "The disk quota is used up: free space, and the next turn saves the session again. Turns that ran meanwhile "
    "stay in the agent's memory but are missing from its stored conversation (docs/reliability.md).",
    errno.EROFS: "The file system is read-only: remount it read-write, or restart the server with AGY_STATE_DIR elsewhere.",
    errno.EACCES: "The server may not write there: fix the directory's permissions. The next turn saves the session again.",
    errno.EPERM: "The server may not write there: fix the directory's permissions. The next turn saves the session again.",
}


def persist_failed(e: OSError, agent_id: str, conversation_id: str, where: Path, turn_id: str | None) -> AgyError:
    """PERSIST_FAILED for a save of `where` that raised `e`: the cause, the errno's name and a hint.
    The agent goes on in memory; see docs/reliability.md for what a restart keeps."""
    name = errno.errorcode.get(e.errno or 0, "EIO")
    what = f"agent {agent_id}, turn {turn_id}" if turn_id else f"agent {agent_id}"
    data: dict[str, Any] = {
        "agentId": agent_id,
        "conversationId": conversation_id,
        "path": str(where),
        "errno": name,
        "cause": e.strerror or str(e),
        "hint": _HINTS.get(e.errno or 0, f"Check that the server can write {where}. The next turn saves the session again."),
    }
    if turn_id:
        data["turnId"] = turn_id
    return AgyError(ErrorCode.PERSIST_FAILED, f"{what}: the session was not saved: {e.strerror or e} ({name})", data)
