"""The Neovim plugin shows why a turn or a request failed: the server's cause and hint
with the message, not only "the model backend failed"."""

from __future__ import annotations

import socket

from tests.nvim.conftest import Nvim


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_failed_turn_shows_the_cause_and_the_hint(nvim: Nvim) -> None:
    base = f"http://127.0.0.1:{_closed_port()}/v1"
    nvim.setup(backend={"type": "openai", "baseUrl": base, "model": "m"})
    nvim.cmd("AgyChat hello")
    info = nvim.wait_turn(40000)
    assert info["stopReason"] == "error", info
    assert "connection refused" in info["error"] and "(hint: " in info["error"], info["error"]
    footer = next(line for line in nvim.chat_lines() if line.startswith("── error"))
    assert "connection refused" in footer and "hint:" in footer, footer


def test_the_error_text_carries_cause_and_hint_on_one_line(nvim: Nvim) -> None:
    text = nvim.lua(
        "return require('agy.client').message({ code = -32007, message = 'the model backend failed', "
        "data = { cause = 'unsupported protocol scheme\\n\"\"', hint = 'give an http URL' } })"
    )
    assert text == 'the model backend failed: unsupported protocol scheme "" (hint: give an http URL)'
    assert nvim.lua("return require('agy.client').message({ message = 'plain' })") == "plain"
