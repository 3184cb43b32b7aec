"""Hostile session ids and the state dir's permissions over LSP (issue #25): ids
that are paths or not ids at all are -32602 naming the field, nothing outside the
state dir is touched or reveals itself, and what the server and its harness write
is the owner's only."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from tests.e2e.conftest import start_client
from tests.e2e.test_sessions import stop
from tests.helpers import request, request_error, scripted

INVALID_PARAMS = -32602


def scratch() -> tuple[Path, Path]:
    """A state dir and, beside it, files an attacker may name (`../../proj/app`, `../../x/secret`)."""
    root = Path(tempfile.mkdtemp(prefix="agy-hostile-"))
    for name in ("proj/app.db", "proj/app.db-wal", "proj/app-notes.txt", "x/secret.db"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("canary")
    return root, root / "state"


async def test_ids_that_are_paths_or_not_ids_are_invalid_params() -> None:
    root, state = scratch()
    client = await start_client({"AGY_STATE_DIR": str(state)})
    try:
        # A stored conversation first: `conversations/` exists, so `conversations/../..` resolves.
        agent = (await request(client, "agy/createAgent", {"backend": scripted({"text": "fine"})}))["agentId"]
        assert (await request(client, "agy/chat", {"agentId": agent, "prompt": "hi"}))["text"] == "fine"
        for value in ("../../proj/app", str(root / "proj" / "app"), "../../proj/*", "a" * 5000, "a\x00b"):
            for method in ("agy/createAgent", "agy/exportSession"):
                error = await request_error(client, method, {"conversationId": value})
                assert error.code == INVALID_PARAMS, (method, value[:20], error)
                assert error.data["field"] == "conversationId" and str(root) not in error.message, error
        assert sorted(p.name for p in (root / "proj").iterdir()) == ["app-notes.txt", "app.db", "app.db-wal"]
        # The same answer whether `../../x/secret.db` exists or not: no existence oracle.
        present = await request_error(client, "agy/createAgent", {"conversationId": "../../x/secret"})
        (root / "x" / "secret.db").unlink()
        absent = await request_error(client, "agy/createAgent", {"conversationId": "../../x/secret"})
        assert (present.code, present.message, present.data) == (absent.code, absent.message, absent.data)
        # The server goes on, and a valid id still works.
        conversation = (await request(client, "agy/status", {"agentId": agent}))["conversationId"]
        exported = await request(client, "agy/exportSession", {"conversationId": conversation})
        assert "fine" in exported["markdown"]
    finally:
        await stop(client)


def loose(state: Path) -> list[str]:
    """Everything under `state` that group or others may read, write or enter."""
    out: list[str] = []
    for folder, dirs, files in os.walk(state):
        for path in [Path(folder), *(Path(folder, n) for n in (*dirs, *files))]:
            st = path.lstat()
            if not stat.S_ISLNK(st.st_mode) and st.st_mode & 0o077:
                out.append(f"{path.relative_to(state)} {oct(stat.S_IMODE(st.st_mode))}")
    return out


async def test_state_is_the_owners_only() -> None:
    """A turn with tool output writes the SDK's conversation, our session file and the
    harness's transcript: none of it is open to group or others, the state dir is 0700.
    An existing state dir left 0755 with 0644 files by an older version is tightened."""
    root, state = scratch()
    workspace = root / "ws"
    workspace.mkdir()
    (workspace / "a.txt").write_text("alpha\n")
    old = state / "sessions" / "old.json"
    old.parent.mkdir(parents=True)
    old.write_text("{}")
    os.chmod(state, 0o755)
    os.chmod(old.parent, 0o755)
    os.chmod(old, 0o644)
    client = await start_client({"AGY_STATE_DIR": str(state)})
    try:
        assert stat.S_IMODE(state.stat().st_mode) == 0o700 and not loose(state)
        write = {"TargetFile": str(workspace / "new.txt"), "CodeContent": "hi\n", "Overwrite": False, "Description": "d"}
        backend = scripted(
            {"toolCalls": [{"name": "list_dir", "args": {"DirectoryPath": str(workspace)}}]},
            {"toolCalls": [{"name": "write_to_file", "args": write}]},
            {"text": "listed"},
        )
        spec = {"backend": backend, "workspaces": [str(workspace)], "policies": "allowAll"}
        agent = (await request(client, "agy/createAgent", spec))["agentId"]
        assert (await request(client, "agy/chat", {"agentId": agent, "prompt": "list it"}))["text"] == "listed"
        conversation = (await request(client, "agy/status", {"agentId": agent}))["conversationId"]
    finally:
        await stop(client)
    transcripts = list((state / "app" / "brain").glob(f"{conversation}/.system_generated/logs/transcript*.jsonl"))
    assert transcripts and (state / "conversations" / f"{conversation}.db").exists()
    assert (state / "sessions" / f"{conversation}.json").exists()
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert not loose(state), loose(state)
    # The user's project keeps the modes the user's umask gives: the server leaves the umask alone.
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((workspace / "new.txt").stat().st_mode) == 0o666 & ~umask
