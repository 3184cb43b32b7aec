"""What the command line says holds: an error's cause and fix are shown, the
chat's banner tells how it really quits, `login` without a keyring says so once and
stores nothing, and the scripted model's file takes the list form docs/protocol.md
allows."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from agy_lsp.client.errors import BackendError, error_from_wire
from tests.client.conftest import CHAT, FULL_ENV
from tests.client.pty_session import PtySession

ROOT = str(Path(__file__).resolve().parents[2])


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_client_exception_text_carries_the_cause_and_the_hint() -> None:
    err = error_from_wire(
        {
            "code": -32007,
            "message": "the model backend failed",
            "data": {"code": "BACKEND_ERROR", "cause": 'unsupported protocol scheme ""', "hint": "give an http URL"},
        }
    )
    assert isinstance(err, BackendError) and err.cause == 'unsupported protocol scheme ""' and err.hint == "give an http URL"
    assert str(err) == 'the model backend failed: unsupported protocol scheme "" (hint: give an http URL)'
    long = error_from_wire({"code": -32007, "message": "failed", "data": {"cause": "x" * 5000}})
    assert len(str(long)) < 400 and long.data["cause"] == "x" * 5000  # shown short, kept whole


def test_chat_shows_the_cause_and_the_hint_of_a_failed_turn() -> None:
    base = f"http://127.0.0.1:{_closed_port()}/v1"
    proc = subprocess.run(
        [*CHAT, "--backend", "openai", "--model", "m", "--base-url", base, "hello"],
        env=FULL_ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert "BACKEND_ERROR" in proc.stderr and "cause: " in proc.stderr and "connection refused" in proc.stderr, proc.stderr
    assert "hint: " in proc.stderr, proc.stderr


def test_chat_rejects_a_base_url_that_is_not_http_before_starting() -> None:
    argv = [*CHAT, "--backend", "openai", "--base-url", "notaurl", "hello"]
    proc = subprocess.run(argv, env=FULL_ENV, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "'notaurl' is not an http(s) URL" in proc.stderr, proc.stderr


def test_the_chat_banner_says_exactly_what_ctrl_c_and_ctrl_d_do() -> None:
    """The banner is true: one Ctrl-C at the prompt clears the line and the chat goes
    on; a second one quits (130)."""
    env = {**FULL_ENV, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}  # a bare pty answers no cursor query
    session = PtySession([*CHAT, "--script", "[]"], env)
    try:
        mark = session.expect(r"Ctrl-D quits\.[\s\S]*›").end()
        banner = " ".join(session.text[:mark].split())  # as one line: the terminal wraps it
        assert "Ctrl-C cancels a running turn; at the prompt it clears the line, and a second Ctrl-C quits. Ctrl-D quits." in banner
        session.send("half a line")
        session.interrupt()
        session.expect(r"Ctrl-C again to qui\r?t", start=mark)  # at the prompt's right (its last column drawn apart)
        assert session.proc.poll() is None, "one Ctrl-C at the prompt does not quit"
        session.interrupt()
        assert session.wait() == 130
    finally:
        session.close()


def test_login_without_a_keyring_says_so_once_stores_nothing_and_suggests_the_environment(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("AGY_KEYRING", "GEMINI_API_KEY", "GOOGLE_API_KEY")}
    env |= {
        "PYTHONPATH": ROOT,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "GOOGLE_GEMINI_BASE_URL": f"http://127.0.0.1:{_closed_port()}",  # the key cannot be checked either
        "HOME": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "agy_lsp", "login"], input="a-key-1\n", env=env, capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert "no OS keyring" in lines[0] and "nothing was stored" in lines[0] and "GEMINI_API_KEY" in lines[0]
    assert "anyway" not in proc.stderr and "keyrings.alt" not in proc.stderr and "a-key-1" not in proc.stderr
    assert not any(tmp_path.rglob("*")), "nothing written anywhere"


def test_the_scripted_model_takes_a_file_with_the_list_form(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"text": "from a list"}]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "agy_lsp.backends.scripted", str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://"), proc.stderr.read() if proc.stderr else ""
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        request = urllib.request.Request(f"{base_url}/chat/completions", json.dumps(body).encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert "from a list" in reply.read().decode()
    finally:
        proc.kill()
        proc.wait()
