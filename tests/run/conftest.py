"""`agy-lsp run` as a subprocess on the real SDK and localharness, with the built-in
scripted model (`--script`, served in the run's own process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "run-events.schema.json").read_text())
RUN = [sys.executable, "-m", "agy_lsp", "run"]
TIMEOUT = 90


def script(*replies: dict[str, Any], fallback: str = "echo") -> str:
    return json.dumps({"replies": list(replies), "fallback": fallback})


def run_command_call(command: str = "echo hi") -> dict[str, Any]:
    args = {"CommandLine": command, "Cwd": "/tmp", "WaitMsBeforeAsync": 5000, "SafeToAutoRun": True}
    return {"toolCalls": [{"name": "run_command", "args": args}]}


def validate(event: dict[str, Any]) -> dict[str, Any]:
    jsonschema.validate(event, SCHEMA)
    return event


def events(stdout: str) -> list[dict[str, Any]]:
    """Every stream-json line, each checked against the schema."""
    return [validate(json.loads(line)) for line in stdout.splitlines()]


def result_of(stdout: str) -> dict[str, Any]:
    """The one --output json object, checked against the schema."""
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout
    result = validate(json.loads(lines[0]))
    assert result["type"] == "result"
    return result


class Runner:
    def __init__(self, tmp: Path) -> None:
        self.state = tmp / "state"
        self.cwd = tmp / "work"
        self.cwd.mkdir()
        self.env = {
            **os.environ,
            "AGY_STATE_DIR": str(self.state),
            "AGY_PACING_MS": "0",
            "AGY_BACKEND": "",
            "GEMINI_API_KEY": "",
            "AGY_KEYRING": "0",
        }

    def args(self, *args: str) -> list[str]:
        return [*RUN, "--cwd", str(self.cwd), *args]

    def __call__(self, *args: str, stdin: str | None = None, python: list[str] | None = None) -> subprocess.CompletedProcess[str]:
        cmd = self.args(*args) if python is None else [sys.executable, *python, *self.args(*args)[1:]]
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=self.env, cwd=self.cwd, timeout=TIMEOUT)

    def with_tty_stderr(self, *args: str) -> tuple[subprocess.CompletedProcess[str], str]:
        """A run whose stderr is a terminal (stdout a pipe): its result, and what the
        terminal showed."""
        master, slave = os.openpty()
        try:
            pipe = subprocess.PIPE
            done = subprocess.run(self.args(*args), stdout=pipe, stderr=slave, text=True, env=self.env, cwd=self.cwd, timeout=TIMEOUT)
            os.close(slave)
            seen = b""
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the terminal's other end is closed and drained
                    break
                if not data:
                    break
                seen += data
        finally:
            os.close(master)
        return done, seen.decode()

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        pipe = subprocess.PIPE
        return subprocess.Popen(self.args(*args), stdin=subprocess.DEVNULL, stdout=pipe, stderr=pipe, text=True, env=self.env, cwd=self.cwd)


@pytest.fixture
def run(tmp_path: Path) -> Runner:
    return Runner(tmp_path)
