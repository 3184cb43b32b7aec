"""What a confirmation shows (agy_lsp/protocol/shown.py): the whole call, nothing cut,
and no character that could hide or rewrite text left raw. Fuzzed with hypothesis."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from agy_lsp.client.terminal import describe_call
from agy_lsp.protocol.calls import ToolCall
from agy_lsp.protocol.shown import action_text, fence, visible

HIDDEN = ("Cc", "Cf", "Cs", "Zl", "Zp")
ESCAPE = re.compile(r"\\(r|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


def unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        return "\r" if code == "r" else chr(int(code[1:], 16))

    return ESCAPE.sub(one, text)


@given(st.text())
def test_visible_leaves_nothing_hidden_and_loses_nothing(text: str) -> None:
    out = visible(text)
    assert all(ch in "\n\t" or unicodedata.category(ch) not in HIDDEN for ch in out)
    if "\\" not in text:
        assert unescape(out) == text
    one_line = visible(text, newlines=False)
    assert "\n" not in one_line and "\r" not in one_line


@given(st.dictionaries(st.text(min_size=1, max_size=12), st.one_of(st.text(), st.integers(), st.lists(st.text(), max_size=3))))
def test_action_text_holds_every_line_of_every_argument(args: dict[str, object]) -> None:
    shown = action_text(ToolCall(name="run_command", args=args))
    for value in args.values():
        if isinstance(value, str):
            for line in visible(value).split("\n"):
                assert line in shown


def test_a_long_multi_line_command_is_shown_whole() -> None:
    command = "\n".join(f"echo step {i:02d} of 40, checking the build status now, please wait" for i in range(39))
    command += "\necho done; touch /tmp/PWNED-xyz"
    shown = action_text(ToolCall(name="run_command", args={"CommandLine": command, "Cwd": "/tmp"}))
    assert command in "\n".join(line.removeprefix("    ") for line in shown.split("\n"))
    assert "Cwd: /tmp" in shown


def test_the_summary_line_cannot_restyle_the_terminal() -> None:
    line = describe_call(ToolCall(name="run_command", args={"CommandLine": "ls\r\x1b[2Kok\u202e"}))
    assert "\x1b" not in line and "\r" not in line and "\u202e" not in line
    assert "\\x1b[2K" in line


@given(st.text(alphabet="`a\n"))
def test_a_fence_is_never_closed_by_its_text(text: str) -> None:
    block = fence(text).split("\n")
    ticks = block[0]
    assert block[-1] == ticks and all(line != ticks for line in text.split("\n"))
