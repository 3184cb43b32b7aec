"""The state dir is the owner's only (issue #25, defect 8): created 0700, and an
install from before that rule is tightened at start, without following a symlink out."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from agy_lsp.agents.store import secure_state_dir
from agy_lsp.settings import Settings
from tests.core.conftest import CoreFactory, RecordingEditor


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_new_state_dir_is_created_0700(tmp_path: Path) -> None:
    state = tmp_path / "deep" / "state"
    assert secure_state_dir(str(state)) == 0
    assert mode(state) == 0o700


def test_an_open_state_dir_is_tightened_without_following_symlinks_out(tmp_path: Path) -> None:
    state = tmp_path / "state"
    transcript = state / "app" / "brain" / ("a" * 32) / ".system_generated" / "logs" / "transcript_full.jsonl"
    transcript.parent.mkdir(parents=True)
    transcript.write_text("{}")
    script = state / "bin" / "tool"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "file").write_text("x")
    (state / "link").symlink_to(outside)
    for folder, _dirs, files in os.walk(state):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    os.chmod(script, 0o755)
    os.chmod(outside, 0o755)
    os.chmod(outside / "file", 0o644)

    assert secure_state_dir(str(state)) > 0
    for folder, dirs, files in os.walk(state):
        for path in [Path(folder), *(Path(folder, n) for n in (*dirs, *files))]:
            if not path.is_symlink():
                assert mode(path) & 0o077 == 0, (path, oct(mode(path)))
    assert mode(state) == 0o700 and mode(transcript) == 0o600 and mode(script) == 0o700  # the owner's bits stay
    assert mode(outside) == 0o755 and mode(outside / "file") == 0o644  # not ours
    assert secure_state_dir(str(state)) == 0  # once is enough


async def test_a_state_dir_given_by_the_client_is_tightened_with_a_log_line(core: CoreFactory, tmp_path: Path) -> None:
    given = tmp_path / "given"
    given.mkdir(mode=0o755)
    os.chmod(given, 0o755)
    (given / "sessions").mkdir()
    editor = RecordingEditor()
    async with core(editor=editor) as c:
        c.manager.reconfigure(Settings(state_dir=str(given)))
    assert mode(given) == 0o700 and mode(given / "sessions") & 0o077 == 0
    assert [level for level, message in editor.logs if "state dir" in message] == ["info"]
