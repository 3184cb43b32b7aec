"""Chat in a Markdown document on the real SDK: the text under the last heading is
sent, the answer streams in through applyEdit, tool calls as short quoted lines."""

from __future__ import annotations

from typing import Any

from lsprotocol import types as lsp

from agy_lsp.backends.scripted import ScriptedModel
from tests.e2e.plain_client import run_command, start_plain, until_done, workspace
from tests.e2e.test_confirm import openai_backend
from tests.e2e.test_plain_actions import actions, call
from tests.helpers import wait_until

NOTES = "# Notes\n\nsome context\n\n## you\n\nWhat is in m.py?\n"


async def test_a_markdown_document_is_a_conversation(model: ScriptedModel, tmp_path: Any) -> None:
    code = workspace(tmp_path, "m.py", "X = 1\n")
    path = workspace(tmp_path, "notes.agy.md", NOTES)
    backend, state = openai_backend(model, call("read_file", {"path": code}), {"text": "It sets X to 1."})
    editor = await start_plain(backend, str(tmp_path))
    try:
        uri = editor.open(path, NOTES, "markdown")
        anywhere = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0))
        [send] = await actions(editor, uri, anywhere)
        assert send.title == "agy: send" and send.command is not None and send.kind == "source.agy.chat"
        await until_done(editor, (await run_command(editor, send.command))["turnId"])
        await wait_until(lambda: editor.text(uri).endswith("## you\n\n"))
        assert editor.text(uri) == NOTES + "\n## agy\n\n> ⚙ read_file\n\n> ✓ read_file completed\n\nIt sets X to 1.\n\n## you\n\n"
        assert "<USER_REQUEST>\nWhat is in m.py?\n</USER_REQUEST>" in state.requests[0]["messages"][-1]["content"]
        assert "some context" not in str(state.requests[0]["messages"][-1]["content"]), "only the text under the last heading"
    finally:
        await editor.client.shutdown_session()


async def test_lines_the_person_adds_above_the_answer_while_it_streams_move_it_along(model: ScriptedModel, tmp_path: Any) -> None:
    path = workspace(tmp_path, "notes.agy.md", NOTES)
    words = "one two three four five six seven eight "
    backend, _ = openai_backend(model, {"text": words, "chunks": 8, "chunkDelayMs": 150})
    editor = await start_plain(backend, str(tmp_path))
    try:
        uri = editor.open(path, NOTES, "markdown")
        anywhere = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0))
        [send] = await actions(editor, uri, anywhere)
        assert send.command is not None
        started = await run_command(editor, send.command)
        await wait_until(lambda: "one" in editor.text(uri))  # the answer is streaming
        editor.change(uri, "# Title\nadded while it streams\n\n" + editor.text(uri))  # the person types above it
        await until_done(editor, started["turnId"])
        await wait_until(lambda: editor.text(uri).endswith("## you\n\n"))
        want = "# Title\nadded while it streams\n\n" + NOTES + "\n## agy\n\n" + words + "\n\n## you\n\n"
        assert editor.text(uri) == want, editor.text(uri)
    finally:
        await editor.client.shutdown_session()
