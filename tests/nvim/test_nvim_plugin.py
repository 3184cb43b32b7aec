"""The Neovim plugin (editors/nvim) in a real headless Neovim, against the real server."""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

from tests.helpers import harness_children, pid_alive
from tests.nvim.conftest import PLUGIN, Nvim

RUN_LS = {"toolCalls": [{"name": "run_command", "args": {"CommandLine": "echo hi"}}]}


def test_streamed_chat_lands_in_order(nvim: Nvim) -> None:
    words = "alpha beta gamma delta epsilon zeta"
    nvim.setup([{"text": words, "chunkDelayMs": 40, "delayMs": 500}])  # spaced: the harness merges deltas that arrive together
    nvim.cmd("AgyChat say six words")
    assert nvim.wait("require('agy.chat').running() ~= nil")
    # The scripted model's `thought` never reaches agy/chatChunk (see the report), so a
    # thought chunk is delivered through the client's handler, before the first text chunk.
    nvim.lua(
        "local c = require('agy.client').get() "
        "c.handlers['agy/chatChunk'](nil, "
        "{agentId = T.current(), turnId = 't', seq = 0.5, kind = 'thought', text = 'pondering\\ndeeply'}, {})"
    )
    info = nvim.wait_turn()
    assert info["stopReason"] == "end_turn"
    assert info["text"] == words

    seen: list[dict[str, Any]] = nvim.lua("return T.seen")
    seqs = [c["seq"] for c in seen]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert seen[0]["kind"] == "thought"
    texts = [c for c in seen if c["kind"] == "text"]
    assert len(texts) >= 3, "the reply should stream in several chunks"
    # Each text chunk lands at the end of the buffer, extending the line in order.
    for prev, cur in itertools.pairwise(texts):
        assert cur["last"].startswith(prev["last"]) and len(cur["last"]) > len(prev["last"])
    assert texts[-1]["last"] == words

    lines = nvim.chat_lines()
    i_you, i_agent = lines.index("## You"), lines.index("## Agent")
    assert i_you < i_agent and lines[i_you + 1] == "say six words"
    assert words in lines[i_agent + 1 :]
    footer = next(line for line in lines if line.startswith("── end_turn"))
    assert "tokens" in footer
    thought = lines.index("│ pondering")
    assert lines[thought + 1] == "│ deeply" and thought < lines.index(words)
    for row in (thought, thought + 1):
        hl = nvim.lua(
            "local buf = require('agy.chat').buffer(T.current()); local row = ... "
            "for _, m in ipairs(vim.api.nvim_buf_get_extmarks(buf, -1, {row, 0}, {row, -1}, {details = true})) do "
            "if m[4].line_hl_group then return m[4].line_hl_group end end",
            row,
        )
        assert hl == "AgyThought"
    status = nvim.lua("return require('agy').statusline()")
    assert re.fullmatch(r"agy idle [\d.]+k? tok", status) and not status.endswith(" 0 tok"), status

    # A second turn goes to the same agent and buffer (the echo fallback).
    nvim.cmd("AgyChat and again")
    info = nvim.wait_turn()
    assert info["text"] == "You said: and again"
    lines = nvim.chat_lines()
    assert lines.count("## You") == 2 and "You said: and again" in lines


def test_cancel(nvim: Nvim) -> None:
    long = " ".join(f"word{i}" for i in range(200))
    nvim.setup([{"text": long, "chunkDelayMs": 50}])
    nvim.cmd("AgyChat write a lot")
    assert nvim.wait("#T.seen >= 3"), "no chunks arrived"
    assert nvim.lua("return require('agy').busy()") is True
    assert nvim.lua("return require('agy').statusline()").startswith("agy busy")
    t0 = time.monotonic()
    nvim.cmd("AgyCancel")
    info = nvim.wait_turn(10000)
    assert time.monotonic() - t0 < 8
    assert info["stopReason"] == "cancelled"
    lines = nvim.chat_lines()
    assert "── cancelled ──" in lines
    text = lines[lines.index("## Agent") + 1]
    assert text.startswith("word0 word1") and "word199" not in text
    assert nvim.lua("return require('agy').busy()") is False

    # The agent is usable again after the cancel.
    nvim.cmd("AgyChat still there?")
    info = nvim.wait_turn()
    assert info["stopReason"] == "end_turn" and info["text"] == "You said: still there?"


def test_cancel_with_ctrl_c_in_chat_buffer(nvim: Nvim) -> None:
    nvim.setup([{"text": " ".join(["tick"] * 200), "chunkDelayMs": 50}])
    nvim.cmd("AgyChat tick tock")
    assert nvim.wait("#T.seen >= 2")
    assert nvim.lua("return vim.b.agy_agent") == nvim.lua("return T.current()")  # the chat window has focus
    nvim.api.input("<C-c>")
    info = nvim.wait_turn(10000)
    assert info["stopReason"] == "cancelled"


def _confirm(nvim: Nvim, kind: str) -> tuple[dict[str, Any], list[str]]:
    nvim.setup([RUN_LS, {"text": "finished"}], confirm=True)
    nvim.lua(
        "local kind = ... T.answer = function(items, opts) for _, it in ipairs(items) do if it.kind == kind then return it end end end",
        kind,
    )
    nvim.cmd("AgyChat run echo hi")
    info = nvim.wait_turn()
    selects = nvim.lua("return T.selects")
    assert len(selects) == 1
    select = selects[0]
    assert select["kind"] == "agy.confirm"
    assert "run_command" in select["prompt"] and "the whole call is in the preview" in select["prompt"]
    assert {i["kind"] for i in select["items"]} >= {"allow_once", "allow_always", "reject_once"}
    # The tool name and its arguments were shown while asking.
    assert any("Tool: run_command" in f and "echo hi" in f for f in select["floats"])
    floats = "return #vim.tbl_filter(function(w) return vim.api.nvim_win_get_config(w).relative ~= '' end, vim.api.nvim_list_wins())"
    assert nvim.lua(floats) == 0, "the preview closes once answered"
    assert info["stopReason"] == "end_turn" and info["text"] == "finished"
    last = nvim.lua("return require('agy.confirm').last")
    assert last["outcome"] == kind
    return info, nvim.chat_lines()


def test_confirmation_allowed(nvim: Nvim) -> None:
    info, lines = _confirm(nvim, "allow_once")
    assert any(line.startswith("  ⚙ run_command") for line in lines)
    assert "  ✓ run_command: Allow once" in lines
    result = next(line for line in lines if line.startswith("  ↳ run_command"))
    assert "hi" in result
    assert info["chunks"].index("toolCall") < info["chunks"].index("toolResult") < info["chunks"].index("text")


def test_confirmation_rejected(nvim: Nvim) -> None:
    _, lines = _confirm(nvim, "reject_once")
    assert "  ✗ run_command: Reject" in lines
    assert not any(line.startswith("  ↳ run_command") for line in lines), "a rejected command must not run"
    assert "finished" in lines


def test_confirm_preview_shows_a_diff_for_file_writes(nvim: Nvim, tmp_path: Any) -> None:
    target = tmp_path / "hello.py"
    target.write_text("print('hello')\nprint('bye')\n")
    diff = nvim.lua(
        "return require('agy.confirm').file_diff({name = 'edit_file', args = {TargetFile = ..., "
        "TargetContent = \"print('bye')\", ReplacementContent = \"print('goodbye')\"}})",
        str(target),
    )
    assert f"+++ b/{target}" in diff
    assert "-print('bye')" in diff and "+print('goodbye')" in diff
    created = nvim.lua(
        "return require('agy.confirm').file_diff({name = 'create_file', args = {path = ..., content = 'new\\n'}})",
        str(tmp_path / "new.txt"),
    )
    assert "+new" in created


def test_inline_edit_accepted(nvim: Nvim, tmp_path: Any) -> None:
    reply = "Here you go:\n```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```\n"
    nvim.setup([{"text": reply}])
    src = tmp_path / "calc.py"
    src.write_text("import math\n\ndef add(a, b):\n    return a - b\n\nprint(add(1, 2))\n")
    nvim.cmd(f"edit {src}")
    nvim.lua("T.answer = function(items, opts) if opts.kind == 'agy.edit' then return 'Accept' end return items[1] end")
    nvim.cmd("3,4AgyEdit fix the bug and add type hints")
    assert nvim.wait("require('agy.edit').last ~= nil")
    last = nvim.lua("return require('agy.edit').last")
    assert last["status"] == "accepted", last
    lines = nvim.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)")
    assert lines == ["import math", "", "def add(a: int, b: int) -> int:", "    return a + b", "", "print(add(1, 2))"]
    # The diff preview was on screen when the question was asked, and is gone now.
    select = nvim.lua("return T.selects")[-1]
    assert select["kind"] == "agy.edit"
    preview = next(w for w in select["windows"] if w["ft"] == "diff")
    assert "-    return a - b" in preview["text"] and "+    return a + b" in preview["text"]
    assert nvim.lua("return #vim.fn.getwininfo()") == 1
    # The model got the selection and the instruction.
    edit_agent = nvim.lua("return require('agy.edit').agent")
    steps = nvim.lua("return require('agy.client').request_sync('agy/history', {agentId = ...}).steps", edit_agent)
    user = next(s["content"] for s in steps if s.get("source") == "USER")
    assert "fix the bug and add type hints" in user and "return a - b" in user and "lines 3-4" in user


def test_agents_history_new_and_editor_tools(nvim: Nvim) -> None:
    nvim.setup([{"toolCalls": [{"name": "editor_current_buffer", "args": {}}]}, {"text": "seen it"}])
    nvim.lua("vim.api.nvim_buf_set_lines(0, 0, -1, false, {'local x = 42'}); vim.bo.filetype = 'lua'")
    nvim.cmd("AgyChat what is in my buffer?")
    info = nvim.wait_turn()
    assert info["text"] == "seen it"
    lines = nvim.chat_lines()
    result = next(line for line in lines if line.startswith("  ↳ editor_current_buffer"))
    assert "local x = 42" in result
    assert nvim.lua("return #T.selects") == 0, "read-only editor tools are not confirmed"
    first = nvim.lua("return T.current()")

    nvim.cmd("AgyNew")
    assert nvim.wait(f"T.current() ~= '{first}'")
    nvim.cmd("AgyChat hello second")
    nvim.wait_turn()  # each agent runs its own copy of the script

    nvim.cmd("AgyAgents")
    assert nvim.wait("#T.selects >= 1")
    select = nvim.lua("return T.selects[#T.selects]")
    assert select["kind"] == "agy.agents" and len(select["items"]) == 2
    assert first in {a["agentId"] for a in select["items"]}
    # Picking the first item switched the chat to it.
    assert nvim.lua("return T.current()") == select["items"][0]["agentId"]

    nvim.lua("require('agy.client').current = ...", first)
    nvim.cmd("AgyHistory")
    assert nvim.wait("vim.api.nvim_buf_get_name(0):match('agy://history/') ~= nil")
    history = nvim.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)")
    assert history[0].startswith(f"# agy history · {first}")
    assert "what is in my buffer?" in history and "seen it" in history
    # The server reports a step once per update; the buffer shows each step once.
    assert history.count("seen it") == 1


def test_checkhealth_passes(nvim: Nvim) -> None:
    nvim.setup()
    nvim.cmd("AgyChat ping")
    nvim.wait_turn()
    nvim.cmd("checkhealth agy")
    text = "\n".join(nvim.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)"))
    assert "agy: Neovim" in text and "agy: server executable" in text
    assert "ERROR" not in text, text
    assert "WARNING" not in text, text
    assert "version agy-lsp" in text
    assert "backend: scripted" in text
    assert "default backend scripted" in text


def test_server_exits_with_neovim(nvim: Nvim) -> None:
    nvim.setup()
    nvim.cmd("AgyChat hi")
    nvim.wait_turn()
    nvim_pid = nvim.lua("return vim.fn.getpid()")
    children = nvim.lua("return T.proc_children()")
    servers = [p for p in children if "agy_lsp" in _cmdline(p)]
    assert len(servers) == 1, [(p, _cmdline(p)) for p in children]
    server = servers[0]
    harnesses = harness_children(server)
    assert harnesses, "the agent should have a localharness"
    assert nvim.lua("return vim.tbl_count(require('agy.client').agents)") == 1

    nvim.exited = True
    nvim.api.command("qa!", async_=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and (pid_alive(nvim_pid) or pid_alive(server) or any(map(pid_alive, harnesses))):
        time.sleep(0.05)
    assert not pid_alive(nvim_pid)
    assert not pid_alive(server), "the server outlived Neovim"
    assert not [p for p in harnesses if pid_alive(p)], "leftover localharness"
    assert not harness_children(server)


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_help_tags(nvim: Nvim, tmp_path: Any) -> None:
    doc = tmp_path / "rt" / "doc"
    doc.mkdir(parents=True)
    (doc / "agy.txt").write_text((PLUGIN / "doc" / "agy.txt").read_text())
    nvim.lua("vim.opt.rtp:prepend(...)", str(tmp_path / "rt"))
    nvim.cmd(f"helptags {doc}")
    tags = ("agy", ":AgyChat", ":AgyEdit", ":AgyCancel", "agy.setup()", "agy-statusline")
    tags += (":AgyPlan", ":AgyGo", ":AgyThinking", ":AgyPolicy", "agy-plan", "agy-subagents", "agy-settings")
    for tag in tags:
        nvim.cmd(f"help {tag}")
        assert nvim.lua("return vim.fn.expand('%:t')") == "agy.txt"
        nvim.cmd("helpclose")
