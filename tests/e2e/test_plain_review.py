"""agy-lsp.review on the real SDK: findings as diagnostics with quick fixes, cleared when
their text changes. The client never declares the agy capability."""

from __future__ import annotations

import json
from typing import Any

from lsprotocol import types as lsp

from agy_lsp.backends.scripted import ScriptedModel
from tests.e2e.plain_client import run_command, start_plain, until_done, workspace
from tests.e2e.test_confirm import openai_backend
from tests.e2e.test_plain_actions import actions
from tests.helpers import wait_until

CODE = "def add(a, b):\n    return a - b\n\n\ndef half(x):\n    return x / 2\n"
FINDINGS = [
    {"line": 2, "severity": "error", "message": "add subtracts", "fix": {"old": "return a - b", "new": "return a + b"}},
    {"line": 6, "severity": "info", "message": "half of an int is a float"},
]


def review(uri: str) -> lsp.Command:
    return lsp.Command(title="review", command="agy-lsp.review", arguments=[{"uri": uri}])


def diagnostics(editor: Any, uri: str) -> list[lsp.Diagnostic]:
    return list(editor.client.diagnostics.get(uri, []))


async def test_review_findings_are_diagnostics_with_a_quick_fix(model: ScriptedModel, tmp_path: Any) -> None:
    path = workspace(tmp_path, "m.py", CODE)
    backend, state = openai_backend(model, {"text": "```json\n" + json.dumps(FINDINGS) + "\n```"})
    editor = await start_plain(backend, str(tmp_path))
    try:
        uri = editor.open(path, CODE)
        await until_done(editor, (await run_command(editor, review(uri)))["turnId"])
        await wait_until(lambda: len(diagnostics(editor, uri)) == 2)
        first, second = diagnostics(editor, uri)
        assert (first.source, first.severity, first.message, first.range.start.line) == (
            "agy",
            lsp.DiagnosticSeverity.Error,
            "add subtracts",
            1,
        )
        assert (second.severity, second.range.start.line) == (lsp.DiagnosticSeverity.Information, 5)
        assert "Review the code at lines 1-6" in str(state.requests[0]["messages"])

        editor.change(uri, "# a comment on top\n" + CODE)  # the findings follow their text
        await wait_until(lambda: [d.range.start.line for d in diagnostics(editor, uri)] == [2, 6])

        listed = await actions(editor, uri, diagnostics(editor, uri)[0].range, diagnostics(editor, uri)[:1])
        [fix] = listed  # at our own finding, its fix is the whole answer (Kate's Quick Fix runs all offered)
        assert fix.title == "agy: add subtracts" and fix.kind == lsp.CodeActionKind.QuickFix and fix.edit is not None
        lint = lsp.Diagnostic(range=diagnostics(editor, uri)[0].range, message="E1 unused", source="lint")
        mixed = await actions(editor, uri, diagnostics(editor, uri)[0].range, [*diagnostics(editor, uri)[:1], lint])
        assert [a.title for a in mixed][:2] == ["agy: add subtracts", "agy: fix “E1 unused”"], "another tool's problem: every action"
        assert "agy: explain this code" in [a.title for a in mixed]
        assert all(a.title != "agy: fix “add subtracts”" for a in mixed), "no turn offered to fix our own finding"
        editor.apply(lsp.ApplyWorkspaceEditParams(edit=fix.edit))
        assert "return a + b" in editor.text(uri)
        await wait_until(lambda: [d.message for d in diagnostics(editor, uri)] == ["half of an int is a float"])
        assert len(state.requests) == 1, "the quick fix is the agent's suggestion, applied without another turn"
    finally:
        await editor.client.shutdown_session()


async def test_a_review_answer_that_is_not_findings_is_shown(model: ScriptedModel, tmp_path: Any) -> None:
    path = workspace(tmp_path, "m.py", CODE)
    backend, _ = openai_backend(model, {"text": "Looks fine to me."})
    editor = await start_plain(backend, str(tmp_path))
    try:
        uri = editor.open(path, CODE)
        await until_done(editor, (await run_command(editor, review(uri)))["turnId"])
        await wait_until(lambda: any("Looks fine to me." in m.message for m in editor.client.messages))
        assert diagnostics(editor, uri) == []
    finally:
        await editor.client.shutdown_session()
