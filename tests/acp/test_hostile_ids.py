"""Hostile session ids over ACP (issue #25): `session/delete {"sessionId":
"../../proj/app"}` answered `{}` and deleted every `proj/app*` beside the state dir;
a 5000-character or NUL id was an internal error. Now each is -32602 naming the
field, and nothing outside the state dir is touched or reveals itself."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from acp import RequestError, text_block

INVALID_PARAMS = -32602
CANARIES = ("proj/app.db", "proj/app.db-wal", "proj/app-notes.txt", "proj/app.json", "x/secret.db")


@pytest.fixture
def root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="agy-acp-hostile-"))
    for name in CANARIES:
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text("canary")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def state_dir(root: Path) -> str:
    """The server's state dir (overrides tests/acp/conftest.py's), beside the canaries."""
    (root / "state").mkdir(mode=0o700)
    return str(root / "state")


async def error_of(server, method: str, session_id: str) -> RequestError:
    params = {"sessionId": session_id}
    if method in ("session/load", "session/resume"):
        params.update(cwd="/tmp", mcpServers=[])
    with pytest.raises(RequestError) as caught:
        await server.raw(method, params)
    return caught.value


async def test_hostile_ids_are_invalid_params_and_touch_nothing_outside(start, root: Path) -> None:
    async with start() as server:
        sid = await server.new({"text": "kept"})  # a stored session: valid ids still work
        await server.conn.prompt(session_id=sid, prompt=[text_block("hi")])  # (and `conversations/..` resolves)
        assert (root / "state" / "conversations").is_dir()
        for value in ("../../proj/app", str(root / "proj" / "app"), "../../proj/*", "a" * 5000, "a\x00b", "..", ".hidden"):
            for method in ("session/delete", "session/load", "session/resume", "session/close"):
                err = await error_of(server, method, value)
                assert err.code == INVALID_PARAMS, (method, value[:20], err)
                assert err.data["field"] == "sessionId" and str(root) not in str(err), (method, err)
        assert all((root / name).read_text() == "canary" for name in CANARIES)

        # No existence oracle: the answer does not depend on `../../x/secret.db`.
        present = [await error_of(server, m, "../../x/secret") for m in ("session/load", "session/delete")]
        (root / "x" / "secret.db").unlink()
        absent = [await error_of(server, m, "../../x/secret") for m in ("session/load", "session/delete")]
        assert [(e.code, str(e), e.data) for e in present] == [(e.code, str(e), e.data) for e in absent]

        await server.raw("session/delete", {"sessionId": sid})
        with pytest.raises(RequestError):  # it was deleted
            await server.raw("session/load", {"sessionId": sid, "cwd": "/tmp", "mcpServers": []})
        assert all((root / name).read_text() == "canary" for name in CANARIES if "secret" not in name)


async def test_an_open_state_dir_is_tightened_at_start_with_one_log_line(start, root: Path, state_dir: str) -> None:
    """Defect 8 on an existing install: a 0755 state dir with 0644 files (an older
    version's) is the owner's only once the server started, and its log says so once."""
    state = Path(state_dir)
    old = state / "sessions" / "old.json"
    old.parent.mkdir()
    old.write_text("{}")
    os.chmod(state, 0o755)
    os.chmod(old.parent, 0o755)
    os.chmod(old, 0o644)
    async with start():
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        assert stat.S_IMODE(old.parent.stat().st_mode) == 0o700 and stat.S_IMODE(old.stat().st_mode) == 0o600
    log = (state / "server.log").read_text()
    assert log.count("was open to other users") == 1, log
    assert stat.S_IMODE((state / "server.log").stat().st_mode) & 0o077 == 0
