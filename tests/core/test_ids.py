"""Hostile session ids (issue #25, defects 1-3): an id is parsed once where it enters
(protocol/ids.py); the store touches only paths it built from a valid id, inside
the state dir; nothing outside it is created, deleted, read or even stat'ed."""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agy_lsp.agents.manager import AgentManager
from agy_lsp.agents.store import SessionMeta, SessionStore
from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.ids import is_session_id, parse_session_id
from agy_lsp.protocol.types import CreateAgentParams, ExportSessionParams
from agy_lsp.settings import Settings
from tests.core.conftest import RecordingEditor

STORED = "5" * 32  # a stored session in the scratch state dir


def test_every_id_we_or_the_sdk_mint_passes() -> None:
    minted = [
        uuid.uuid4().hex,  # ACP and MCP session ids, the SDK's conversation ids
        str(uuid.uuid4()),  # the SDK also takes a uuid with dashes
        "12345678901234567890123456789012",
        "0001" + "c" * 32,  # the fake SDK's
        "a" * 128,
    ]
    for value in minted:
        assert is_session_id(value) and parse_session_id(value, "sessionId") == value


@pytest.mark.parametrize(
    "value",
    ["", ".", "..", "../../proj/app", "/etc/passwd", "a/b", "a\\b", "a\x00b", "a\n", "a\x1bb", "*", "a*", "a?", "[a]", ".hidden", "-a",
     "é", "a b", "a" * 129, "a" * 5000],
)  # fmt: skip
def test_anything_else_is_invalid_params_naming_the_field_not_the_value(value: str) -> None:
    with pytest.raises(AgyError) as caught:
        parse_session_id(value, "conversationId")
    err = caught.value
    assert err.code == ErrorCode.INVALID_PARAMS and err.data["field"] == "conversationId"
    assert (value not in err.message or len(value) < 2) and "proj" not in err.message and len(err.message) < 200


def test_wire_structs_refuse_a_bad_id_at_decode_time() -> None:
    for cls in (CreateAgentParams, ExportSessionParams):
        with pytest.raises(msgspec.ValidationError, match=r"\$\.conversationId"):
            msgspec.convert({"conversationId": "../../x/secret"}, cls)
        assert msgspec.convert({"conversationId": STORED}, cls).conversation_id == STORED


# ---------------------------------------------------------------------------- the store


def canary_tree(root: Path) -> Path:
    """`root/state` (the state dir, one stored session) and, beside it, files an
    attacker may name: `proj/app*` (defect 1), `x/secret.db` (defect 2)."""
    state = root / "state"
    (state / "sessions").mkdir(parents=True)
    (state / "conversations").mkdir()
    store = SessionStore(str(state))
    store.save(SessionMeta(conversation_id=STORED, aliases=["alias-1"]))
    (state / "conversations" / f"{STORED}.db").write_bytes(b"db")
    for name in ("proj/app.db", "proj/app.db-wal", "proj/app-notes.txt", "proj/app.json", "x/secret.db", "x/secret.json"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("canary")
    (root / "state" / "conversations" / "app.json").symlink_to(root / "proj" / "app.json")  # a trap, never to follow
    return state


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    out: dict[str, tuple[int, str]] = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            data = path.read_bytes() if not path.is_symlink() else os.readlink(path).encode()
            out[str(path.relative_to(root))] = (path.lstat().st_mode, hashlib.sha256(data).hexdigest())
    return out


def test_delete_session_with_a_relative_id_leaves_files_outside_alone(tmp_path: Path) -> None:
    """Defect 1: `../../proj/app` deleted every `proj/app*` (glob by prefix, `..` followed)."""
    state = canary_tree(tmp_path)
    before = snapshot(tmp_path)
    manager = AgentManager(Settings(state_dir=str(state)), RecordingEditor(), sdk=_no_sdk)
    for hostile in ("../../proj/app", str(tmp_path / "proj" / "app"), "../../proj/*"):
        with pytest.raises(AgyError) as caught:
            manager.sessions.delete(hostile)
        assert caught.value.code == ErrorCode.INVALID_PARAMS
    assert snapshot(tmp_path) == before


def test_delete_removes_exactly_the_conversations_files(tmp_path: Path) -> None:
    state = canary_tree(tmp_path)
    other = "5" * 31 + "6"  # shares a prefix with STORED: a glob `<id>*` would take it too
    (state / "conversations" / f"{STORED}5.db").write_bytes(b"other")
    (state / "conversations" / f"{other}.db").write_bytes(b"other")
    for suffix in ("-wal", "-shm"):
        (state / "conversations" / f"{STORED}.db{suffix}").write_bytes(b"j")
    brain = state / "app" / "brain" / STORED / ".system_generated" / "logs"
    brain.mkdir(parents=True)
    (brain / "transcript_full.jsonl").write_text("{}")
    (brain / "outside").symlink_to(tmp_path / "proj")  # rmtree removes the link, not proj/
    manager = AgentManager(Settings(state_dir=str(state)), RecordingEditor(), sdk=_no_sdk)
    assert manager.sessions.delete("alias-1")
    left = sorted(p.name for p in (state / "conversations").iterdir())
    assert left == sorted([f"{STORED}5.db", f"{other}.db", "app.json"])
    assert not (state / "sessions" / f"{STORED}.json").exists() and not (state / "app" / "brain" / STORED).exists()
    assert sorted(p.name for p in (tmp_path / "proj").iterdir()) == ["app-notes.txt", "app.db", "app.db-wal", "app.json"]
    assert not manager.sessions.delete(STORED)


def test_a_state_folder_that_is_a_symlink_out_is_not_followed(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / f"{STORED}.db").write_text("canary")
    (state / "conversations").symlink_to(tmp_path / "elsewhere")
    store = SessionStore(str(state))
    assert not store.has_conversation(STORED)
    store.delete(STORED)
    assert (tmp_path / "elsewhere" / f"{STORED}.db").read_text() == "canary"


async def test_no_existence_oracle_outside_the_state_dir(tmp_path: Path) -> None:
    """Defect 2: whether `../../x/secret.db` exists must not change the answer."""
    state = canary_tree(tmp_path)
    manager = AgentManager(Settings(state_dir=str(state)), RecordingEditor(), sdk=_no_sdk)

    async def answers() -> list[Any]:
        return [await outcome(manager, "../../x/secret", op) for op in OPS]

    present = await answers()
    shutil.rmtree(tmp_path / "x")
    assert await answers() == present
    assert all(a[0] == "INVALID_PARAMS" for a in present), present


@pytest.mark.parametrize("value", ["a" * 5000, "a\x00b", "\x00"])
async def test_ids_that_are_not_ids_are_invalid_params_not_internal_errors(tmp_path: Path, value: str) -> None:
    """Defect 3: a 5000-char id was "File name too long" (with the state path), a NUL
    one "embedded null byte", both -32603."""
    manager = AgentManager(Settings(state_dir=str(canary_tree(tmp_path))), RecordingEditor(), sdk=_no_sdk)
    for op in OPS:
        code, message = await outcome(manager, value, op)
        assert code == "INVALID_PARAMS", (op, code, message)
        assert str(tmp_path) not in message and len(message) < 200


# ---------------------------------------------------------------------------- property


def _no_sdk() -> Any:
    raise AssertionError("a bad or unknown id reached the SDK")


OPS = ("find", "delete", "create", "export")


async def outcome(manager: AgentManager, value: str, op: str) -> tuple[str, str]:
    """What the core answers for `value` in `op`: ("ok", result) or (code name, message)."""
    try:
        if op == "find":
            meta = manager.sessions.find(value)
            return "ok", meta.conversation_id if meta else "None"
        if op == "delete":
            return "ok", str(manager.sessions.delete(value))
        if op == "create":
            await manager.create(CreateAgentParams(conversation_id=value), start=False)
        else:
            await manager.export_session(ExportSessionParams(conversation_id=value))
        return "ok", "created"
    except AgyError as e:
        return e.code.name, e.message


TOKENS = ["../", "..", "/", "\\", ".", "\x00", "\n", "\x1b", "*", "?", "[", "]", "~", " ", "é", "𝔘", "a", "Z", "0", "-", "_",
          "proj", "app", "x", "secret", "state", "conversations", "sessions", ".db", ".json", STORED[:8]]  # fmt: skip
HOSTILE = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=12).map("".join),
    st.text(max_size=40),
    st.sampled_from(["../../proj/app", "../proj/app", "../../proj/app*", "../../x/secret", "/", "a" * 5000, "a" * 129]),
    st.builds(lambda n: "a" * n, st.integers(min_value=120, max_value=300)),
)

_ROOT = Path(tempfile.mkdtemp(prefix="agy-ids-"))  # hypothesis runs many examples in one test: one scratch tree
atexit.register(shutil.rmtree, _ROOT, True)
_STATE = canary_tree(_ROOT)
_touched: list[tuple[str, str]] = []
_watching = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Records what the process opens, lists, removes or changes under the scratch
    root but outside its state dir, while a check runs."""
    if not _watching or event not in ("open", "os.remove", "os.rmdir", "os.rename", "os.listdir", "os.scandir", "shutil.rmtree",
                                      "os.chmod", "os.mkdir", "glob.glob", "os.symlink", "os.link", "os.truncate"):  # fmt: skip
        return
    target = args[0] if args else None
    if isinstance(target, (str, bytes, os.PathLike)):
        path = os.path.abspath(os.fsdecode(target))  # pyright: ignore[reportUnknownArgumentType]
        if path.startswith(str(_ROOT)) and not path.startswith(str(_STATE)):
            _touched.append((event, path))


sys.addaudithook(_audit)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=HOSTILE)
def test_hostile_ids_touch_nothing_outside_the_state_dir(value: str) -> None:
    global _watching
    if value in (STORED, "alias-1"):
        return
    before = snapshot(_ROOT)
    manager = AgentManager(Settings(state_dir=str(_STATE)), RecordingEditor(), sdk=_no_sdk)
    _touched.clear()
    _watching = True
    try:
        answers = [asyncio.run(outcome(manager, value, op)) for op in OPS]
    finally:
        _watching = False
    assert not _touched, _touched
    assert snapshot(_ROOT) == before
    for (code, message), op in zip(answers, OPS, strict=True):
        if is_session_id(value):  # a valid id that is not stored
            assert (code, message) in (("ok", "None"), ("ok", "False")) or code == "INVALID_PARAMS", (op, code, message)
        else:
            assert code == "INVALID_PARAMS" and str(_ROOT) not in message, (op, code, message)
