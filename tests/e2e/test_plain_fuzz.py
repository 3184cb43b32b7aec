"""Fuzzing the standard-LSP pieces that take editor input, with no harness: any
range gets actions or nothing (never an error), the agent's edits turn the old text
into the new exactly, and review answers of any shape parse or are refused."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp
from pygls.workspace import TextDocument

from agy_lsp.lsp import plain_actions, plain_chatdoc, plain_review
from agy_lsp.lsp.plain_state import PlainState
from agy_lsp.lsp.plain_tools import minimal_edit

TEXT = st.lists(st.sampled_from([*"ab \n\t#/:é😀", "agy: ", "\r\n"]), max_size=80).map("".join)
POS = st.builds(lambda line, ch: lsp.Position(line=line, character=ch), st.integers(0, 50), st.integers(0, 300))


def apply(text: str, edit: lsp.TextEdit) -> str:
    """The edit applied as an editor does: positions in UTF-16 code units."""
    doc = TextDocument("file:///x", text)
    start, end = doc.offset_at_position(edit.range.start), doc.offset_at_position(edit.range.end)
    return text[:start] + edit.new_text + text[end:]


@given(TEXT, TEXT)
@settings(max_examples=300, deadline=None)
def test_an_edit_turns_the_old_text_into_the_new(old: str, new: str) -> None:
    assert apply(old, minimal_edit(old, new)) == new


def kind(name: str) -> Any:
    known = {k.value: k for k in lsp.CodeActionKind}
    return known.get(name, name)


@given(TEXT, POS, POS, st.lists(st.sampled_from(["quickfix", "source", "refactor", "refactor.rewrite", "x"]), max_size=3))
@settings(max_examples=300, deadline=None)
def test_any_range_gets_actions_or_nothing(text: str, start: lsp.Position, end: lsp.Position, only: list[str]) -> None:
    uri = "file:///w/m.py"
    ls: Any = SimpleNamespace(workspace=SimpleNamespace(text_documents={uri: TextDocument(uri, text)}))
    diag = lsp.Diagnostic(range=lsp.Range(start=start, end=end), message="m")
    params = lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        range=lsp.Range(start=start, end=end),
        context=lsp.CodeActionContext(diagnostics=[diag], only=[kind(o) for o in only]),
    )
    actions = plain_actions.code_actions(ls, PlainState(), params)
    lines = max(1, len(TextDocument(uri, text).lines))
    if start.line > end.line or end.line > lines:
        assert actions == []
    for action in actions:
        assert action.command is not None and action.edit is None


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_review_answers_parse_or_are_refused(answer: str) -> None:
    found = plain_review.parse_findings(answer)
    assert found is None or all(isinstance(f, dict) for f in found)
    plain_chatdoc.last_message(answer)
