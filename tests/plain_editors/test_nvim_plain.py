"""Neovim 0.12 with only `vim.lsp` (no agy plugin), configured with the snippet from
docs/editors.md, on the real server, SDK and scripted model."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from tests.nvim.conftest import NVIM, pynvim
from tests.plain_editors.conftest import ROOT, doc_snippet

pytestmark = pytest.mark.skipif(NVIM is None or pynvim is None, reason="nvim or pynvim missing (`make test` installs them)")

SETUP = """
local env, options = ...
vim.lsp.config('agy', { cmd_env = env, init_options = options })
T = { prompts = {}, answers = {} }
vim.ui.select = function(items, opts, on_choice)
  table.insert(T.prompts, opts.prompt)
  local want = table.remove(T.answers, 1)
  for _, item in ipairs(items) do
    if item.title == want then return on_choice(item) end
  end
  on_choice(nil)
end
"""


class Editor:
    def __init__(self, session: Any) -> None:
        self.api = session

    def lua(self, src: str, *args: Any) -> Any:
        return self.api.exec_lua(src, *args)

    def until(self, condition: str, timeout: float = 30.0) -> Any:
        """Polls a Lua expression from outside, so Neovim's own loop (input, LSP) runs between."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.lua(f"return {condition}")
            if value:
                return value
            time.sleep(0.05)
        messages = self.lua("return vim.fn.execute('messages')")
        raise AssertionError(f"timed out waiting for {condition}; messages: {messages}")

    def lines(self) -> list[str]:
        return self.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)")


@pytest.fixture
def nvim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert NVIM is not None and pynvim is not None
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")  # agy-lsp
    session = pynvim.attach("child", argv=[NVIM, "--embed", "--headless", "--clean", "-n", "-i", "NONE"])
    try:
        yield Editor(session)
    finally:
        try:
            session.command("qa!", async_=True)
        except Exception:
            pass
        session.close()


def start(
    nvim: Editor, model: ScriptedModel, tmp_path: Path, replies: list[dict[str, Any]], text: str, name: str = "m.py"
) -> tuple[str, Any]:
    base_url, state = model.register(parse_script(replies))
    nvim.lua(doc_snippet("Neovim", "lua"))  # exactly what the docs tell users
    env = {
        "AGY_STATE_DIR": str(tmp_path / "state"),
        "AGY_PACING_MS": "0",
        "AGY_BACKEND": "",
        "GEMINI_API_KEY": "",
        "GOOGLE_API_KEY": "",
        "PYTHONPATH": str(ROOT),
    }
    backend = {"type": "openai", "baseUrl": base_url, "model": "scripted"}
    nvim.lua(SETUP, env, {"backend": backend, "inlineCompletion": {"enabled": True, "debounceMs": 50}})
    (tmp_path / ".git").mkdir(exist_ok=True)
    path = tmp_path / name
    path.write_text(text)
    nvim.api.command(f"edit {path}")
    nvim.until("(function() local c = vim.lsp.get_clients({ name = 'agy', bufnr = 0 })[1]; return c and c.initialized end)()")
    return str(path), state


def call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"toolCalls": [{"name": name, "id": "c1", "args": args}]}


MARKER = "# agy: make this async\ndef load():\n    pass\n"


@pytest.mark.parametrize("answer", ["Allow once", "Reject"])
def test_a_marker_action_edits_the_buffer_after_a_yes_in_vim_ui_select(
    nvim: Editor, model: ScriptedModel, tmp_path: Path, answer: str
) -> None:
    path = str(tmp_path / "m.py")
    replies = [
        call("replace_in_file", {"path": path, "old": "# agy: make this async\ndef load():", "new": "async def load():"}),
        {"text": "done"},
    ]
    _, state = start(nvim, model, tmp_path, replies, MARKER)
    nvim.lua("T.answers = { ... }", answer)
    nvim.lua("vim.lsp.buf.code_action({ apply = true, filter = function(a) return a.title == 'agy: make this async' end })")
    nvim.until("#T.prompts > 0")
    prompt = nvim.lua("return T.prompts[1]")
    assert "replace_in_file" in prompt and "async def load():" in prompt, prompt
    if answer == "Allow once":
        nvim.until("vim.api.nvim_buf_get_lines(0, 0, 1, false)[1] == 'async def load():'")
        assert nvim.lines() == ["async def load():", "    pass"]
        assert nvim.lua("return vim.bo.modified"), "the edit is in the buffer, not written behind the editor"
        assert Path(path).read_text() == MARKER
    else:
        deadline = time.monotonic() + 30
        while len(state.requests) < 2 and time.monotonic() < deadline:  # the model is told of the refusal
            time.sleep(0.05)
        assert "denied" in str(state.requests[-1]["messages"][-1]).lower()
        assert nvim.lines() == MARKER.rstrip("\n").split("\n")


def test_review_diagnostics_and_their_quick_fix(nvim: Editor, model: ScriptedModel, tmp_path: Path) -> None:
    code = "def add(a, b):\n    return a - b\n"
    finding = [{"line": 2, "severity": "error", "message": "add subtracts", "fix": {"old": "return a - b", "new": "return a + b"}}]
    start(nvim, model, tmp_path, [{"text": json.dumps(finding)}], code)
    nvim.lua(
        "local c = vim.lsp.get_clients({ name = 'agy', bufnr = 0 })[1];"
        "c:exec_cmd({ title = 'review', command = 'agy-lsp.review', arguments = { { uri = vim.uri_from_bufnr(0) } } }, { bufnr = 0 })"
    )
    nvim.until("#vim.diagnostic.get(0) > 0")
    diag = nvim.lua("local d = vim.diagnostic.get(0)[1]; return { d.source, d.message, d.lnum, d.severity }")
    assert diag == ["agy", "add subtracts", 1, 1]
    nvim.lua("vim.api.nvim_win_set_cursor(0, { 2, 4 })")
    nvim.lua("vim.lsp.buf.code_action({ apply = true, filter = function(a) return a.title == 'agy: add subtracts' end })")
    nvim.until("vim.api.nvim_buf_get_lines(0, 1, 2, false)[1] == '    return a + b'")
    nvim.until("#vim.diagnostic.get(0) == 0")


def test_inline_completion_is_shown_and_accepted(nvim: Editor, model: ScriptedModel, tmp_path: Path) -> None:
    start(nvim, model, tmp_path, [{"text": "return a + b"}], "def add(a, b):\n    \n")
    nvim.lua("vim.api.nvim_win_set_cursor(0, { 2, 4 })")
    nvim.api.input("A")
    shown = (
        "(function() local ns = vim.api.nvim_get_namespaces()['nvim.lsp.inline_completion'];"
        " if not ns then return nil end;"
        " for _, m in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do"
        "  local d = m[4]; if d.virt_text then local t = ''; for _, c in ipairs(d.virt_text) do t = t .. c[1] end; return t end"
        " end end)()"
    )
    assert nvim.until(shown) == "return a + b"
    assert nvim.lua("return vim.lsp.inline_completion.get()")
    nvim.until("vim.api.nvim_buf_get_lines(0, 1, 2, false)[1] == '    return a + b'")
