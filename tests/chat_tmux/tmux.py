"""Drive `agy-lsp chat` in a real terminal: tmux, keys with `send-keys`, the screen with
`capture-pane`. Each session has its own tmux server (socket in a temp dir)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence


class TmuxChat:
    def __init__(self, argv: Sequence[str], env: dict[str, str], cwd: str, width: int = 120, height: int = 40) -> None:
        tmux = shutil.which("tmux")
        assert tmux, "tmux is not installed: run tests/chat_tmux/provision.sh"
        self.dir = tempfile.mkdtemp(prefix="agy-tmux-")
        self.base = [tmux, "-S", os.path.join(self.dir, "sock")]
        self.env = {**env, "TERM": "xterm-256color"}
        self.env.pop("TMUX", None)
        # The shell prints the exit status when the chat ends, and keeps the pane open.
        command = f"{shlex.join(list(argv))}; echo EXIT=$?; sleep 600"
        self._tmux("new-session", "-d", "-x", str(width), "-y", str(height), "-s", "chat", "-c", cwd, command)
        self._tmux("set-option", "-t", "chat", "history-limit", "5000")

    def _tmux(self, *args: str) -> str:
        done = subprocess.run([*self.base, *args], env=self.env, capture_output=True, text=True, timeout=20, check=True)
        return done.stdout

    def keys(self, *keys: str) -> None:
        """Named keys (Enter, C-c, Up, Escape ...) or text, as tmux send-keys takes them."""
        self._tmux("send-keys", "-t", "chat", *keys)

    def type(self, text: str) -> None:
        """Literal text, no key names."""
        self._tmux("send-keys", "-t", "chat", "-l", text)

    def screen(self) -> str:
        """What the person sees now."""
        return self._tmux("capture-pane", "-p", "-t", "chat")

    def scrollback(self) -> str:
        """What the person can see by scrolling back: the whole history and the screen."""
        return self._tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "chat")

    def wait_for(self, pattern: str, timeout: float = 30.0, *, whole: bool = True, after: int = 0) -> re.Match[str]:
        """Waits until `pattern` is on the screen (with `whole`, in the scrollback too),
        searching from character `after` of the scrollback."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        while True:
            text = self.scrollback() if whole else self.screen()
            match = regex.search(text, after if whole else 0)
            if match:
                return match
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not seen within {timeout}s; the terminal shows:\n{text}")
            time.sleep(0.1)

    def mark(self) -> int:
        """A position in the scrollback: later waits look only after it."""
        return len(self.scrollback().rstrip("\n"))

    def exit_code(self, timeout: float = 30.0) -> int:
        return int(self.wait_for(r"^EXIT=(\d+)$", timeout).group(1))

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], env=self.env, capture_output=True, timeout=20, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
