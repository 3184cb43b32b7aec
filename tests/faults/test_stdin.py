"""Started with no client on stdin (closed, /dev/null, an empty file), by mistake in
a terminal, or on a file: one line on stderr and a clean exit, a hint and service,
or the file's messages served; never a traceback, never a hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.client.pty_session import PtySession

WIRES = {"LSP": [], "ACP": ["--acp"], "MCP": ["--mcp"]}


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "AGY_STATE_DIR": str(tmp_path / "state"), "AGY_BACKEND": "scripted"}


def _run(tmp_path: Path, args: list[str], stdin: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agy_lsp", *args], env=_env(tmp_path), stdin=stdin, capture_output=True, text=True, timeout=30
    )


@pytest.mark.parametrize("how", ["devnull", "empty-file", "closed"])
@pytest.mark.parametrize("wire", list(WIRES))
def test_no_client_on_stdin_is_one_line_and_exit_code_0(tmp_path: Path, wire: str, how: str) -> None:
    if how == "closed":
        # fd 0 closed in the child: the shell's `<&-`
        proc = subprocess.run(
            ["sh", "-c", 'exec "$@" <&-', "sh", sys.executable, "-m", "agy_lsp", *WIRES[wire]],
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=30,
        )
    elif how == "devnull":
        proc = _run(tmp_path, WIRES[wire], subprocess.DEVNULL)
    else:
        (tmp_path / "empty").write_text("")
        with open(tmp_path / "empty") as f:
            proc = _run(tmp_path, WIRES[wire], f)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 0 and len(lines) == 1 and proc.stdout == "", proc.stderr
    assert lines[0].startswith("agy-lsp: stdin is") and f"no {wire} client" in lines[0], lines


def _frame(message: dict[str, Any]) -> str:
    body = json.dumps(message)
    return f"Content-Length: {len(body)}\r\n\r\n{body}"


def test_lsp_messages_in_a_file_are_served(tmp_path: Path) -> None:
    requests = tmp_path / "requests"
    requests.write_text(
        _frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
        + _frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        + _frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        + _frame({"jsonrpc": "2.0", "method": "exit"})
    )
    with open(requests) as f:
        proc = _run(tmp_path, [], f)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert '"name":"agy-lsp"' in proc.stdout.replace(" ", "") and '"id":2' in proc.stdout.replace(" ", "")


def test_mcp_messages_in_a_file_are_served(tmp_path: Path) -> None:
    init = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "file", "version": "1"}}
    requests = tmp_path / "requests"
    requests.write_text(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init}) + "\n")
    with open(requests) as f:
        proc = _run(tmp_path, ["--mcp"], f)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert json.loads(proc.stdout.splitlines()[0])["result"]["serverInfo"]


@pytest.mark.parametrize("wire", list(WIRES))
def test_a_terminal_on_stdin_gets_a_hint_and_ctrl_d_ends_it(tmp_path: Path, wire: str) -> None:
    session = PtySession([sys.executable, "-m", "agy_lsp", *WIRES[wire]], _env(tmp_path))
    try:
        hint = session.expect(r"agy-lsp: stdin is a terminal.*Ctrl-D ends it\.").group(0)
        assert f"speaks {wire}" in hint and ("agy-lsp chat" in hint or wire != "LSP"), hint
        session.send("\x04")
        assert session.wait(timeout=20) == 0
        assert "Traceback" not in session.text, session.text
    finally:
        session.close()
