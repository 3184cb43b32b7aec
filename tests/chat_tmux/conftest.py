"""The terminal chat in a real terminal (tmux), on the scripted model."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
CHAT = [sys.executable, "-m", "agy_lsp", "chat"]


def chat_env(state_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "AGY_STATE_DIR": str(state_dir),
        "AGY_PACING_MS": "0",
        "AGY_CONFIRM_TIMEOUT_SECS": "60",
        "AGY_BACKEND": "",
        "AGY_MODEL": "",
        "AGY_BASE_URL": "",
        "GEMINI_API_KEY": "",
        "GOOGLE_API_KEY": "",
        "PAGER": "less",
    }
    for name in ("NO_COLOR", "LESS", "PYTHONSTARTUP"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="session", autouse=True)
def _tmux() -> None:
    if shutil.which("tmux") is None:
        subprocess.run(["sh", str(HERE / "provision.sh")], check=False)
    if shutil.which("tmux") is None:
        pytest.fail("tmux is missing and tests/chat_tmux/provision.sh could not install it")


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A workspace (the chat's cwd) and a state dir, both fresh."""
    cwd, state = tmp_path / "project", tmp_path / "state"
    cwd.mkdir()
    state.mkdir()
    yield cwd, state
