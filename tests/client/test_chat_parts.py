"""The chat's parts without a server: @file attachments, the history file, command
parsing, the confirmation's diff, and plain output that no text can put an escape
code into."""

from __future__ import annotations

import io
import os
import stat
import unicodedata
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from agy_lsp.chat.commands import parse
from agy_lsp.chat.confirm import confirmation_lines
from agy_lsp.chat.input import attach, history_path
from agy_lsp.chat.render import PlainView
from agy_lsp.protocol.types import ChatChunk, ConfirmToolCallParams, Plan, PlanEntry, ToolCall, ToolResult


def test_attach_bounds_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "small.txt").write_text("tiny")
    (tmp_path / "big.log").write_text("x" * 500)
    (tmp_path / "blob.bin").write_bytes(b"\0\1\2")
    prompt, found = attach("see @small.txt, @big.log and @blob.bin, ask @nobody", str(tmp_path), limit=100)
    by_name = {a.path: a for a in found}
    assert set(by_name) == {"small.txt", "big.log", "blob.bin"}  # @nobody names no file: prose
    assert not by_name["small.txt"].cut and by_name["big.log"].cut and by_name["blob.bin"].problem == "a binary file"
    assert "--- @small.txt ---\ntiny\n" in prompt
    assert "--- @big.log (cut: the first 100 characters of 500 bytes) ---\n" + "x" * 100 + "\n--- end" in prompt
    assert "\0" not in prompt and prompt.startswith("see @small.txt, @big.log and @blob.bin, ask @nobody")


def test_history_is_per_workspace_and_private(tmp_path: Path) -> None:
    os.umask(0o022)
    a = history_path(str(tmp_path), "/work/one")
    assert a == history_path(str(tmp_path), "/work/one") != history_path(str(tmp_path), "/work/two")
    assert stat.S_IMODE(os.stat(a).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(a)).st_mode) == 0o700


def test_what_is_a_command() -> None:
    assert parse("/help") == ("help", "")
    assert parse("  /Resume abc123 ") == ("resume", "abc123")
    assert parse("/plan add a test\nfor divide") == ("plan", "add a test\nfor divide")
    assert parse("/etc/hosts is empty, why?") is None  # a path: a prompt
    assert parse("what does /help do?") is None


def test_a_write_is_a_diff_that_holds_every_line(tmp_path: Path) -> None:
    (tmp_path / "f.py").write_text("".join(f"line {i}\n" for i in range(30)))
    new = "".join(f"line {i}\n" for i in range(30)).replace("line 15", "LINE 15\x1b[2K")
    call = ToolCall(id="1", name="write_to_file", args={"TargetFile": "f.py", "CodeContent": new, "Overwrite": True})
    lines = confirmation_lines(ConfirmToolCallParams(agent_id="a", turn_id="t", tool_call=call, options=[]), str(tmp_path))
    text = "\n".join(lines)
    assert "CodeContent: (shown in full in the diff)" in text and "Overwrite: true" in text
    for i in range(30):
        assert f"line {i}" in text or i == 15
    assert "-line 15" in text and "+LINE 15\\x1b[2K" in text and "\x1b" not in text


@given(st.text())
def test_plain_output_has_no_control_codes(text: str) -> None:
    out = io.StringIO()
    view = PlainView(out)
    call = ToolCall(id="c", name=text or "t", args={"a": text})
    for chunk in (
        ChatChunk(agent_id="a", turn_id="t", seq=1, kind="text", text=text),
        ChatChunk(agent_id="a", turn_id="t", seq=2, kind="thought", text=text),
        ChatChunk(agent_id="a", turn_id="t", seq=3, kind="toolCall", tool_call=call),
        ChatChunk(agent_id="a", turn_id="t", seq=4, kind="toolResult", tool_result=ToolResult(id="c", name="t", error=text)),
    ):
        view.chunk(chunk)
    view.end_turn(None)
    lines = confirmation_lines(ConfirmToolCallParams(agent_id="a", turn_id="t", tool_call=call, options=[], reason=text), "/nonexistent")
    for shown in (out.getvalue(), "\n".join(lines)):
        hidden = [ch for ch in shown if ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")]
        assert not hidden, repr(shown)


def test_subagent_work_is_indented_and_a_plan_is_a_checklist() -> None:
    out = io.StringIO()
    view = PlainView(out)
    delegate = ToolCall(id="d", name="invoke_subagent", args={"Task": "count files"})
    inner = ToolCall(id="i", name="list_dir", args={"DirectoryPath": "."})
    plan = Plan(
        path="task.md",
        markdown="",
        entries=[PlanEntry(content="write the test", status="completed"), PlanEntry(content="run it", status="in_progress")],
    )
    for seq, (kind, extra) in enumerate(
        [
            ("toolCall", {"tool_call": delegate}),
            ("toolCall", {"tool_call": inner, "depth": 1, "parent_call_id": "d"}),
            ("toolResult", {"tool_result": ToolResult(id="i", name="list_dir", result="a.py"), "depth": 1}),
            ("toolResult", {"tool_result": ToolResult(id="d", name="invoke_subagent", result="1 file")}),
            ("plan", {"plan": plan}),
        ],
        start=1,
    ):
        view.chunk(ChatChunk(agent_id="a", turn_id="t", seq=seq, kind=kind, **extra))  # pyright: ignore[reportArgumentType]
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("⚙ #1 invoke_subagent(")
    assert lines[1].startswith("  ⚙ #2 list_dir(")  # under the call that delegated
    assert lines[2].startswith("  ✓ #2 list_dir(") and lines[2].endswith("completed: a.py")
    assert lines[3].startswith("✓ #1 invoke_subagent(")
    assert lines[4:] == ["plan (task.md):", "  [x] write the test", "  [~] run it"]


def test_a_chunk_kind_the_view_does_not_know_shows_its_text() -> None:
    """A newer server's notice (a `retry` chunk) is shown as a note, not dropped."""
    out = io.StringIO()
    PlainView(out).chunk(ChatChunk(agent_id="a", turn_id="t", seq=1, kind="retry", text="the model is busy; retrying in 2s"))  # type: ignore[arg-type]
    assert out.getvalue() == "the model is busy; retrying in 2s…\n"
