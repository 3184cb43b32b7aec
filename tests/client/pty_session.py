"""Drive `agy-lsp chat` in a pseudo-terminal: write keystrokes, wait for output."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
from collections.abc import Sequence

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class PtySession:
    def __init__(self, argv: Sequence[str], env: dict[str, str], cwd: str | None = None) -> None:
        master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            list(argv), stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, start_new_session=True, close_fds=True
        )
        os.close(slave)
        self.master = master
        self.raw = b""

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw.decode(errors="replace")).replace("\r\n", "\n")

    def _pump(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                data = b""
            self.raw += data

    def expect(self, pattern: str, timeout: float = 20.0, start: int = 0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            match = regex.search(self.text, start)
            if match:
                return match
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not seen within {timeout}s; output so far:\n{self.text}")
            if self.proc.poll() is not None:
                self._pump(0.2)
                match = regex.search(self.text, start)
                if match:
                    return match
                raise AssertionError(f"exited ({self.proc.returncode}) before {pattern!r}; output:\n{self.text}")
            self._pump(0.05)

    def send(self, data: str) -> None:
        os.write(self.master, data.encode())

    def interrupt(self) -> None:
        """Ctrl-C as the terminal would send it: SIGINT to the foreground process."""
        os.kill(self.proc.pid, signal.SIGINT)

    def wait(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._pump(0.05)
        if self.proc.poll() is None:
            self.proc.kill()
            raise AssertionError(f"did not exit within {timeout}s; output:\n{self.text}")
        self._pump(0)
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
