"""Neovim 0.12 with only `vim.lsp` (no agy plugin), configured with the snippet from
docs/editors.md, on the real server, SDK and scripted model."""

from __future__ import annotations

import json
import os
import re
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
T = { prompts = {}, answers = {}, waiting = {}, progress = {}, edits = {}, confirms = {}, shown = {} }
local function pick(items, on_choice, want)
  for _, item in ipairs(items) do
    if item.title == want then return on_choice(item) end
  end
  on_choice(nil)
end
-- answers queued in T.answers are given at once; with none queued the prompt waits
-- for the test's T.answer(title), as a person would take their time
vim.ui.select = function(items, opts, on_choice)
  table.insert(T.prompts, opts.prompt)
  if #T.answers > 0 then return pick(items, on_choice, table.remove(T.answers, 1)) end
  table.insert(T.waiting, function(want) pick(items, on_choice, want) end)
end
function T.answer(want) table.remove(T.waiting, 1)(want) end
vim.api.nvim_create_autocmd('LspProgress', { callback = function(ev)
  local p = ev.data.params
  table.insert(T.progress, { token = p.token, kind = p.value.kind, title = p.value.title, message = p.value.message,
    cancellable = p.value.cancellable })
end })
-- Neovim asks "Apply all changes?" for an edit whose annotation needs confirmation: yes
vim.fn.confirm = function(msg) table.insert(T.confirms, msg); return 1 end
local show = vim.lsp.handlers['window/showMessage']
vim.lsp.handlers['window/showMessage'] = function(err, params, ctx)
  table.insert(T.shown, params.message)
  return show(err, params, ctx)
end
local apply_edit = vim.lsp.handlers['workspace/applyEdit']
vim.lsp.handlers['workspace/applyEdit'] = function(err, params, ctx)
  table.insert(T.edits, params.edit)
  return apply_edit(err, params, ctx)
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

    def text(self) -> str:
        """The buffer as the server sees it: lines joined, with the final newline."""
        return "\n".join(self.lines()) + "\n"

    def action(self, title: str) -> None:
        """Runs the code action with this title, as `gra` and a pick would."""
        self.lua("local t = ...; vim.lsp.buf.code_action({ apply = true, filter = function(a) return a.title == t end })", title)


def poll(what: str, check: Any, timeout: float = 30.0, seen: Any = None) -> Any:
    """Waits for `check()`; on timeout says what `seen()` (what there was instead) gave."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; there was: {seen() if seen else None!r}")


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


# every progress that began has ended
ENDED = (
    "#vim.tbl_filter(function(p) return p.kind == 'end' end, T.progress)"
    " == #vim.tbl_filter(function(p) return p.kind == 'begin' end, T.progress)"
)


def shape(text: str) -> str:
    """The text with runs of blank lines as one, and none at the end: Neovim adds a blank
    line where an edit appends past the last line (test_the_answer_adds_no_extra_blank_line)."""
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n")


NOTES = "# Notes\n\nsome context\n\n## you\n\nWhat is in m.py?\n"


def test_a_markdown_document_is_a_conversation(nvim: Editor, model: ScriptedModel, tmp_path: Path) -> None:
    code = tmp_path / "m.py"
    code.write_text("X = 1\n")
    replies = [call("read_file", {"path": str(code)}), {"text": "It sets X to 1."}, {"text": "No, only X."}]
    path, state = start(nvim, model, tmp_path, replies, NOTES, name="notes.agy.md")
    assert nvim.lua("return vim.bo.filetype") == "markdown", "the docs' filetypes attach the server to *.agy.md"
    nvim.action("agy: send")
    answered = NOTES + "\n## agy\n\n> ⚙ read_file\n\n> ✓ read_file completed\n\nIt sets X to 1.\n\n## you\n\n"
    poll("the answer and a new `## you`", lambda: shape(nvim.text()) == shape(answered), 45, nvim.text)
    assert nvim.lua("return vim.bo.modified"), "the answer is in the buffer"
    assert Path(path).read_text() == NOTES, "and nothing was written to disk"
    assert "<USER_REQUEST>\nWhat is in m.py?\n</USER_REQUEST>" in state.requests[0]["messages"][-1]["content"]
    assert "some context" not in str(state.requests[0]["messages"][-1]["content"]), "only the text under the last heading"

    nvim.until(ENDED)  # the progress ends just after `## you` lands (till then a send is refused: the agent is busy)
    nvim.lua("vim.api.nvim_buf_set_lines(0, -1, -1, false, { 'Anything else?' })")  # the person writes under `## you`
    nvim.action("agy: send")
    continued = answered + "Anything else?\n\n## agy\n\nNo, only X.\n\n## you\n\n"
    poll(
        "the second answer",
        lambda: shape(nvim.text()) == shape(continued),
        45,
        lambda: (nvim.text(), nvim.lua("return vim.fn.execute('messages')")),
    )
    assert len(state.requests) == 3
    second = str(state.requests[2]["messages"])
    assert "What is in m.py?" in second and "It sets X to 1." in second, "the same conversation continues"
    assert "Anything else?" in str(state.requests[2]["messages"][-1]["content"])
    assert Path(path).read_text() == NOTES


def test_the_answer_adds_no_extra_blank_line(nvim: Editor, model: ScriptedModel, tmp_path: Path) -> None:
    start(nvim, model, tmp_path, [{"text": "Hi."}], "## you\n\nhello\n", name="notes.agy.md")
    nvim.action("agy: send")
    want = "## you\n\nhello\n\n## agy\n\nHi.\n\n## you\n\n"
    poll("the answer", lambda: shape(nvim.text()) == shape(want), 30, nvim.text)
    assert nvim.text() == want


CODE = "def add(a, b):\n    return a + b\n"
TESTS = "from m import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"


def test_write_tests_creates_a_buffer_and_an_allowed_command_runs(nvim: Editor, model: ScriptedModel, tmp_path: Path) -> None:
    new = tmp_path / "tests" / "test_m.py"
    pytest_run = f"{sys.executable} -m pytest -q -p no:cacheprovider tests/test_m.py"
    replies = [
        call("write_file", {"path": str(new), "content": TESTS}),
        {
            "toolCalls": [
                {"name": "run_command", "id": "c2", "args": {"CommandLine": pytest_run, "Cwd": str(tmp_path), "WaitMsBeforeAsync": 20000}}
            ]
        },
        {"text": "the test passes"},
    ]
    _, state = start(nvim, model, tmp_path, replies, CODE)
    nvim.action("agy: write tests for this")
    nvim.until("#T.waiting > 0")
    assert "write_file" in nvim.lua("return T.prompts[1]")
    nvim.lua("T.answer('Allow once')")
    loaded = f"vim.fn.bufloaded({json.dumps(str(new))}) == 1"
    poll(
        "the new buffer",
        lambda: nvim.lua(f"return {loaded}"),
        30,
        lambda: (
            nvim.lua("return { T.prompts, T.edits, T.progress }"),
            len(state.requests),
            state.requests[-1]["messages"][-1] if state.requests else None,
        ),
    )
    [edit] = nvim.lua("return T.edits")
    kinds = [c.get("kind", "edit") for c in edit["documentChanges"]]
    assert kinds == ["create", "edit"], edit
    assert edit["documentChanges"][0]["uri"].endswith("/tests/test_m.py")
    buffer = f"vim.api.nvim_buf_get_lines(vim.fn.bufnr({json.dumps(str(new))}), 0, -1, false)"
    # Neovim keeps the empty line a new buffer starts with, after the inserted text
    assert shape("\n".join(nvim.lua(f"return {buffer}"))) == shape(TESTS)
    assert not new.exists(), "the new file is a buffer until the person saves it"
    assert nvim.lua("return T.confirms") == [], "one yes: the edit the person just allowed is not confirmed again"

    nvim.until("#T.waiting > 0")  # the command asks; the person saves the tests first
    nvim.lua(f"vim.api.nvim_buf_call(vim.fn.bufnr({json.dumps(str(new))}), function() vim.cmd('write ++p') end)")
    assert shape(new.read_text()) == shape(TESTS)
    asked = nvim.lua("return T.prompts[2]")
    assert "run_command" in asked and "pytest" in asked, asked
    nvim.lua("T.answer('Allow once')")
    poll("the model is told the command's outcome", lambda: len(state.requests) >= 3)
    ran = " ".join(str(m.get("content")) for m in state.requests[2]["messages"] if m.get("role") == "tool")
    assert "1 passed" in ran, ran
    assert "Write tests for the code at lines 1-1" in str(state.requests[0]["messages"])
    nvim.until(ENDED)
    progress = nvim.lua("return T.progress")
    assert progress[0]["kind"] == "begin" and progress[0]["cancellable"] and progress[0]["title"] == "agy: tests (m.py)", progress
    assert progress[-1]["kind"] == "end" and progress[-1]["message"] == "done", progress
    assert len({p["token"] for p in progress}) == 1


SLOW = {"text": " ".join(f"word{n}" for n in range(80)), "chunks": 80, "chunkDelayMs": 200, "match": "Explain what"}  # 16 s
DOCUMENTED = {"text": "nothing to document", "match": "Document the code"}


@pytest.mark.parametrize("how", ["progress cancel at the first report", "progress cancel at begin", "the cancel code action"])
def test_cancelling_the_progress_stops_the_turn(nvim: Editor, model: ScriptedModel, tmp_path: Path, how: str) -> None:
    _, state = start(nvim, model, tmp_path, [SLOW, DOCUMENTED], CODE)
    nvim.action("agy: explain this code")
    when = "begin" if how.endswith("begin") else "report"
    seen = f"(function() for _, p in ipairs(T.progress) do if p.kind == '{when}' then return p.token end end end)()"
    token = nvim.until(seen)
    if how == "the cancel code action":
        nvim.action("agy: cancel “agy: explain (m.py)”")
    else:
        nvim.lua(
            "local c = vim.lsp.get_clients({ name = 'agy', bufnr = 0 })[1]; c:notify('window/workDoneProgress/cancel', { token = ... })",
            token,
        )
    started = time.monotonic()
    nvim.until(ENDED, 10)
    assert time.monotonic() - started < 5, "cancel ends the turn at once, not when the answer is done"
    end = nvim.lua("return T.progress[#T.progress]")
    assert end["token"] == token and end["message"] == "cancelled", nvim.lua("return T.progress")
    time.sleep(0.5)
    shown = nvim.lua("return T.shown")  # explain shows what it got before the cancel (if anything), no more
    assert not any("word79" in m for m in shown), shown
    assert len(state.requests) <= 1

    nvim.action("agy: document this")  # the agent is free again
    nvim.until("#T.progress > 3 and T.progress[#T.progress].kind == 'end'")
    assert nvim.lua("return T.progress[#T.progress]")["title"] == "agy: document (m.py)"
    assert nvim.lua("return T.progress[#T.progress].message") == "done"
    assert "Document the code" in str(state.requests[-1]["messages"][-1]) and len(state.requests) <= 2
