"""`agy-lsp login` / `logout` and ACP's terminal auth method, for real: the CLI in a
subprocess checks the key against the (scripted) Gemini API and stores it in a
keyring (tests/keyring_file.py stands in for the OS one), and a server with no key
in its environment uses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from acp import RequestError, text_block
from acp import schema as s

from agy_lsp.backends.scripted import REFUSED_KEY, ScriptedModel, parse_script

ROOT = str(Path(__file__).resolve().parents[2])


@pytest.fixture(scope="module")
def model():
    server = ScriptedModel()
    yield server
    server.close()


def keyring_env(model: ScriptedModel, path: Path, backend: str = "tests.keyring_file.FileKeyring") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AGY_KEYRING", "GEMINI_API_KEY", "GOOGLE_API_KEY")}
    pythonpath = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH", "")) if p)
    return {
        **env,
        "PYTHONPATH": pythonpath,
        "PYTHON_KEYRING_BACKEND": backend,
        "AGY_TEST_KEYRING": str(path),
        "GOOGLE_GEMINI_BASE_URL": model.gemini_base_url,
    }


def agy(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agy_lsp", *args], input=stdin, env=env, capture_output=True, text=True, timeout=60, cwd=ROOT
    )


def stored(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def test_login_checks_the_key_and_keeps_it_only_in_a_keyring(model: ScriptedModel, tmp_path: Path) -> None:
    ring = tmp_path / "ring.json"
    env = keyring_env(model, ring)

    refused = agy(env, "login", stdin=REFUSED_KEY + "\n")
    assert refused.returncode == 1 and "API key not valid" in refused.stderr, refused.stderr
    assert stored(ring) == {} and REFUSED_KEY not in refused.stdout + refused.stderr.replace(REFUSED_KEY, "")

    empty = agy(env, "login", stdin="\n")
    assert empty.returncode == 2 and "no key given" in empty.stderr

    done = agy(env, "login", stdin="scripted-good-key\n")
    assert done.returncode == 0 and "OS keyring" in done.stdout, done.stderr
    assert stored(ring) == {"agy-lsp/GEMINI_API_KEY": "scripted-good-key"}
    assert "scripted-good-key" not in done.stdout + done.stderr

    # No keyring at all: said plainly, and nothing is written anywhere.
    none = agy(keyring_env(model, tmp_path / "never.json", "keyring.backends.fail.Keyring"), "login", stdin="another-key-1\n")
    assert none.returncode == 1 and "no OS keyring" in none.stderr and "GEMINI_API_KEY" in none.stderr, none.stderr
    assert not (tmp_path / "never.json").exists()

    out = agy(env, "logout")
    assert out.returncode == 0 and "Removed" in out.stdout and stored(ring) == {}
    again = agy(env, "logout")
    assert again.returncode == 0 and "No Gemini API key was stored" in again.stdout


async def test_a_server_without_a_key_uses_the_stored_one_and_offers_terminal_login(start, model: ScriptedModel, tmp_path: Path) -> None:
    ring = tmp_path / "ring.json"
    env = keyring_env(model, ring)
    name = f"login-{uuid.uuid4().hex[:8]}"
    model.register(parse_script([{"text": "hello from gemini"}]), name=name)
    server_env = {**env, "AGY_KEYRING": "", "AGY_MODEL": name}

    async with start(env=server_env, caps={"auth": s.AuthCapabilities(terminal=True)}) as server:
        methods = {m.id: m for m in server.init.auth_methods}
        assert methods["agy-login"].type == "terminal" and methods["agy-login"].args == ["login"]
        with pytest.raises(RequestError) as missing:
            await server.conn.authenticate(method_id="gemini-api-key")
        assert missing.value.code == -32000 and "agy-lsp login" in str(missing.value)

        # The client runs the terminal method; then authenticate finds the key.
        assert agy(env, "login", stdin="scripted-good-key\n").returncode == 0
        await server.conn.authenticate(method_id="agy-login")
        sid = (await server.conn.new_session(cwd=str(tmp_path), mcp_servers=[])).session_id
        try:
            await server.conn.prompt(session_id=sid, prompt=[text_block("hi")])
        except RequestError as e:
            raise AssertionError(e.data) from e
        assert server.client.text(sid) == "hello from gemini"  # the default backend is Gemini, on the stored key

    async with start(env=server_env) as server:  # a client without terminal auth is not offered it
        assert "agy-login" not in {m.id for m in server.init.auth_methods}
