"""A confirmation shows the whole call (issue #26): a 40-line, 2,000-character command
whose '; touch' comes last reaches the person in full, in a real headless Neovim
against the real server. What the preview float shows is read at the moment
vim.ui.select asks: its text, and how many screen rows that text needs against the
window's height."""

from __future__ import annotations

from tests.nvim.conftest import Nvim

LINES = [f"echo checking the build status now please wait step {i:02d} of 40 ok" for i in range(39)]
COMMAND = "\n".join([*LINES, "echo done; touch /tmp/PWNED-xyz"])
LONG = {"toolCalls": [{"name": "run_command", "args": {"CommandLine": COMMAND, "Cwd": "/tmp", "Note": "a\x1b[2Kb\rc"}}]}

# At each question: every float's text, the rows it needs (wrapped) and the rows it has.
RECORD = """
T.asked = {}
T.answer = function(items, opts)
  local floats = {}
  for _, w in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(w).relative ~= '' then
      local b = vim.api.nvim_win_get_buf(w)
      floats[#floats + 1] = { text = table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), '\\n'),
        needs = vim.api.nvim_win_text_height(w, {}).all, has = vim.api.nvim_win_get_height(w) }
    end
  end
  local kinds = vim.tbl_map(function(i) return i.kind or (i.read and 'read') end, items)
  T.asked[#T.asked + 1] = { prompt = opts.prompt, kinds = kinds, floats = floats }
  local want = T.want[#T.asked] or 'reject_once'
  for _, it in ipairs(items) do
    if it.kind == want or (want == 'read' and it.read) then return it end
  end
  return { optionId = 'reject_once', kind = 'reject_once' } -- never the helper's fallback, items[1]
end
"""


def unindented(text: str) -> str:
    return "\n".join(line.removeprefix("    ") for line in text.split("\n"))


def ask(nvim: Nvim, *want: str) -> None:
    """The next questions get these answers ('read' picks "Read the whole call first")."""
    nvim.setup([LONG, {"text": "not run"}], confirm=True)
    nvim.lua(RECORD)
    nvim.lua("T.want = ...", list(want))


def test_a_call_that_fits_is_all_on_screen_when_asked(nvim: Nvim) -> None:
    nvim.cmd("set lines=80 columns=200")
    ask(nvim, "reject_once")
    nvim.cmd("AgyChat build it")
    info = nvim.wait_turn()
    assert info["text"] == "not run"
    (asked,) = nvim.lua("return T.asked")
    (preview,) = asked["floats"]
    assert COMMAND in unindented(preview["text"]), "every line of the command is in the preview"
    assert preview["needs"] <= preview["has"], "and every row of it is on screen"
    assert "Cwd: /tmp" in preview["text"] and "a\\x1b[2Kb\\rc" in preview["text"] and "\x1b" not in preview["text"]
    assert "the whole call is in the preview" in asked["prompt"]


def test_a_call_taller_than_the_screen_says_so_defaults_to_reject_and_can_be_read_whole(nvim: Nvim) -> None:
    nvim.cmd("set lines=24 columns=80")
    ask(nvim, "read", "reject_once")
    nvim.cmd("AgyChat build it")
    # "Read the whole call first" opened a tab with all of it.
    assert nvim.wait("#T.asked == 1 and vim.bo.buftype == 'nofile' and vim.fn.tabpagenr('$') == 2")
    (first,) = nvim.lua("return T.asked")
    (preview,) = first["floats"]
    assert preview["needs"] > preview["has"]
    assert "lines, more than the preview shows" in first["prompt"]
    assert first["kinds"][0] == "reject_once" and first["kinds"][1] == "read"
    whole = "\n".join(nvim.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)"))
    assert COMMAND in unindented(whole) and "a\\x1b[2Kb\\rc" in whole
    nvim.cmd("tabclose")
    info = nvim.wait_turn()
    assert info["text"] == "not run"
    second = nvim.lua("return T.asked")[1]
    assert "you have read the whole call" in second["prompt"]
    assert nvim.lua("return require('agy.confirm').last.outcome") == "reject_once"
