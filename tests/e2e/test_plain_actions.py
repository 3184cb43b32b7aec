"""Standard LSP on the real SDK: code actions, edits through applyEdit, document sync,
progress. The client never declares the agy capability."""

from __future__ import annotations

import os
from typing import Any

import pytest
from lsprotocol import types as lsp

from agy_lsp.backends.scripted import ScriptedModel
from tests.e2e.plain_client import Editor, run_command, start_plain, until_done, workspace
from tests.e2e.test_confirm import openai_backend, tool_messages

BUGGY = "def add(a, b):\n    return a - b\n\n# agy: make this async\ndef load():\n    pass\n"
LINE1 = lsp.Range(start=lsp.Position(line=1, character=0), end=lsp.Position(line=1, character=16))


def diagnostic() -> lsp.Diagnostic:
    return lsp.Diagnostic(range=LINE1, message="add subtracts", source="lint", code="E1")


async def actions(editor: Editor, uri: str, rng: lsp.Range, diags: list[lsp.Diagnostic] | None = None) -> list[lsp.CodeAction]:
    params = lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=rng, context=lsp.CodeActionContext(diagnostics=diags or [])
    )
    result: Any = await editor.client.text_document_code_action_async(params)
    return [a for a in result or [] if isinstance(a, lsp.CodeAction)]


def call(name: str, args: dict[str, Any], call_id: str = "c1") -> dict[str, Any]:
    return {"toolCalls": [{"name": name, "id": call_id, "args": args}]}


async def test_listing_actions_starts_no_turn_and_unknown_places_offer_nothing(model: ScriptedModel, tmp_path: Any) -> None:
    backend, state = openai_backend(model, {"text": "never"})
    path = workspace(tmp_path, "m.py", BUGGY)
    editor = await start_plain(backend, str(tmp_path))
    try:
        uri = editor.open(path, BUGGY)
        whole = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=5, character=0))
        listed = await actions(editor, uri, whole, [diagnostic()])
        titles = [a.title for a in listed]
        assert titles[0] == "agy: fix “add subtracts”" and listed[0].kind == lsp.CodeActionKind.QuickFix
        assert list(listed[0].diagnostics or []) == [diagnostic()]
        assert "agy: make this async" in titles
        assert {"agy: explain this code", "agy: write tests for this", "agy: document this"} <= set(titles)
        assert all(a.edit is None and a.command is not None for a in listed), "listing only describes; a command starts the turn"
        assert {a.command.command for a in listed if a.command} == {"agy-lsp.action", "agy-lsp.review"}
        only_fix = lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=whole,
            context=lsp.CodeActionContext(diagnostics=[diagnostic()], only=[lsp.CodeActionKind.QuickFix]),
        )
        fixes: Any = await editor.client.text_document_code_action_async(only_fix)
        assert [a.kind for a in fixes] == [lsp.CodeActionKind.QuickFix]
        unseen = await actions(editor, "file:///nowhere/else.py", whole)
        outside = await actions(editor, uri, lsp.Range(start=lsp.Position(line=900, character=0), end=lsp.Position(line=901, character=0)))
        assert unseen == [] and outside == []
        assert state.requests == [], "listing actions must never call the model"
    finally:
        await editor.client.shutdown_session()


async def test_fix_action_edits_the_unsaved_buffer_through_apply_edit(model: ScriptedModel, tmp_path: Any) -> None:
    path = workspace(tmp_path, "m.py", BUGGY)
    backend, state = openai_backend(
        model,
        call("read_file", {"path": path}),
        call("replace_in_file", {"path": path, "old": "return a - b", "new": "return a + b"}, "c2"),
        {"text": "fixed: add adds now"},
    )
    editor = await start_plain(backend, str(tmp_path))
    try:
        uri = editor.open(path, BUGGY)
        editor.change(uri, BUGGY + "UNSAVED = 1\n")  # the buffer differs from the disk
        editor.answers = ["Allow once"]  # the edit asks (reading does not)
        fix = (await actions(editor, uri, LINE1, [diagnostic()]))[0]
        assert fix.command is not None
        started = await run_command(editor, fix.command)
        reports = await until_done(editor, started["turnId"])
        assert editor.text(uri) == BUGGY.replace("a - b", "a + b") + "UNSAVED = 1\n", (tool_messages(state), editor.prompts)
        assert open(path).read() == BUGGY, "nothing is written behind the editor's back"
        edit = editor.edits[0].edit.document_changes[0]  # type: ignore[index]
        assert isinstance(edit, lsp.TextDocumentEdit) and edit.text_document.version == 2
        first = str(state.requests[0]["messages"])
        assert "add subtracts" in first and "UNSAVED = 1" in first, "the prompt names the diagnostic and shows the buffer"
        assert any("UNSAVED = 1" in m for m in tool_messages(state)), "read_file sees the unsaved buffer"
        assert isinstance(reports[0], lsp.WorkDoneProgressBegin) and reports[0].cancellable
        assert any(isinstance(r, lsp.WorkDoneProgressReport) and "replace_in_file" in (r.message or "") for r in reports)
        assert isinstance(reports[-1], lsp.WorkDoneProgressEnd) and reports[-1].message == "done"
        assert editor.agy_chunks == [], "a client with no agy plugin gets progress, not agy/chatChunk"
    finally:
        await editor.client.shutdown_session()


@pytest.mark.parametrize("how", ["applied false", "an error"])
async def test_rejected_edit_reaches_the_model_with_the_reason(model: ScriptedModel, tmp_path: Any, how: str) -> None:
    path = workspace(tmp_path, "m.py", BUGGY)
    backend, state = openai_backend(model, call("replace_in_file", {"path": path, "old": "a - b", "new": "a + b"}), {"text": "ok"})
    editor = await start_plain(backend, str(tmp_path))
    try:
        uri = editor.open(path, BUGGY)
        if how == "an error":
            editor.fail_edits = "the person said no"
        else:
            editor.reject_edits = "the person said no"
        editor.answers = ["Allow once"]
        fix = (await actions(editor, uri, LINE1, [diagnostic()]))[0]
        assert fix.command is not None
        await until_done(editor, (await run_command(editor, fix.command))["turnId"])
        assert editor.text(uri) == BUGGY
        assert any("the person said no" in m for m in tool_messages(state)), tool_messages(state)
    finally:
        await editor.client.shutdown_session()


async def test_a_whole_file_write_after_the_person_typed_is_refused(model: ScriptedModel, tmp_path: Any) -> None:
    path = workspace(tmp_path, "m.py", BUGGY)
    backend, state = openai_backend(
        model,
        call("replace_in_file", {"path": path, "old": "a - b", "new": "a + b"}),
        call("write_file", {"path": path, "content": "STALE\n"}, "c2"),
        {"text": "ok"},
    )
    editor = await start_plain(backend, str(tmp_path))
    typed: list[str] = []

    def person_types(uri: str) -> None:
        if not typed:
            typed.append(uri)
            editor.change(uri, editor.text(uri) + "# typed by the person\n")

    try:
        uri = editor.open(path, BUGGY)
        editor.after_edit = person_types
        editor.answers = ["Allow once", "Allow once"]
        marker = await actions(editor, uri, lsp.Range(start=lsp.Position(line=3, character=0), end=lsp.Position(line=3, character=5)))
        action = next(a for a in marker if a.title == "agy: make this async")
        assert action.command is not None
        await until_done(editor, (await run_command(editor, action.command))["turnId"])
        assert "do what this comment" in str(state.requests[0]["messages"]).lower()
        assert editor.text(uri) == BUGGY.replace("a - b", "a + b") + "# typed by the person\n", "the stale write never landed"
        assert any("changed in the editor since you last read it" in m for m in tool_messages(state)), (
            tool_messages(state),
            editor.prompts,
        )
    finally:
        await editor.client.shutdown_session()


async def test_edits_carry_change_annotations_and_a_new_file_is_created_in_the_editor(model: ScriptedModel, tmp_path: Any) -> None:
    path = workspace(tmp_path, "m.py", BUGGY)
    new = str(tmp_path / "test_m.py")
    backend, _ = openai_backend(
        model,
        call("replace_in_file", {"path": path, "old": "a - b", "new": "a + b"}),
        call("replace_in_file", {"path": path, "old": "    pass", "new": "    return None"}, "c2"),
        call("write_file", {"path": new, "content": "def test_add():\n    assert add(1, 2) == 3\n"}, "c3"),
        {"text": "ok"},
    )
    editor = await start_plain(backend, str(tmp_path), annotations=True)
    try:
        uri = editor.open(path, BUGGY)
        editor.answers = ["Allow always", "Allow once"]
        tests = next(a for a in await actions(editor, uri, LINE1) if a.title == "agy: write tests for this")
        assert tests.command is not None
        await until_done(editor, (await run_command(editor, tests.command))["turnId"])
        assert len(editor.prompts) == 2, "replace_in_file once (then always), write_file once"

        def needs_confirmation(edit: lsp.WorkspaceEdit) -> bool | None:
            [change] = [c for c in edit.document_changes or [] if isinstance(c, lsp.TextDocumentEdit)]
            annotated = change.edits[0]
            assert isinstance(annotated, lsp.AnnotatedTextEdit)
            return (edit.change_annotations or {})[annotated.annotation_id].needs_confirmation

        asked, remembered, created_edit = (e.edit for e in editor.edits)
        assert needs_confirmation(asked) is False, "the person just allowed this whole edit in the prompt: one yes is enough"
        assert needs_confirmation(remembered) is True, "nobody was asked about this one ('always'): the editor confirms it"
        assert needs_confirmation(created_edit) is False
        created = created_edit.document_changes or []
        assert isinstance(created[0], lsp.CreateFile) and created[0].uri.endswith("/test_m.py")
        assert editor.text(created[0].uri) == "def test_add():\n    assert add(1, 2) == 3\n"
        assert not os.path.exists(new), "the new file is a buffer in the editor until the person saves it"
    finally:
        await editor.client.shutdown_session()


async def test_a_huge_file_sends_a_bounded_window_and_says_so(model: ScriptedModel, tmp_path: Any) -> None:
    text = "".join(f"x{n} = {n}\n" for n in range(50_000))
    path = workspace(tmp_path, "big.py", text)
    backend, state = openai_backend(model, {"text": "it assigns"})
    editor = await start_plain(backend, str(tmp_path))
    try:
        uri = editor.open(path, text)
        rng = lsp.Range(start=lsp.Position(line=25_000, character=0), end=lsp.Position(line=25_001, character=0))
        explain = next(a for a in await actions(editor, uri, rng) if a.title == "agy: explain this code")
        assert explain.command is not None
        await until_done(editor, (await run_command(editor, explain.command))["turnId"])
        sent = str(state.requests[0]["messages"])
        assert "of 50000 only" in sent and "x25000 = 25000" in sent and "x10 = 10" not in sent
        assert len(sent) < 40_000
        assert any(m.message == "it assigns" for m in editor.client.messages), "explain's answer is shown"
    finally:
        await editor.client.shutdown_session()


async def test_a_client_with_none_of_the_features_is_told_once(model: ScriptedModel, tmp_path: Any) -> None:
    backend, _ = openai_backend(model, {"text": "x"})
    editor = await start_plain(backend, str(tmp_path), apply_edit=False, show=False, progress=False)
    try:
        from tests.helpers import wait_until

        await wait_until(lambda: any("applyEdit" in m.message for m in editor.client.messages))
        assert len([m for m in editor.client.messages if "applyEdit" in m.message]) == 1
    finally:
        await editor.client.shutdown_session()
