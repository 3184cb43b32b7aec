"""Work-done progress of a plain-LSP action, on the real SDK: the token's
`window/workDoneProgress/create` runs beside the turn (the model is asked before
the client answers it), and the notifications still come in the protocol's order."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

from lsprotocol import types as lsp

from agy_lsp.backends.scripted import ScriptedModel
from tests.e2e.plain_client import Editor, run_command, start_plain, until_done, workspace
from tests.e2e.test_confirm import openai_backend
from tests.helpers import wait_until

CODE = "def add(a, b):\n    return a + b\n"
SLOW = {"text": "adds two numbers\n" + "and returns the sum " * 20, "chunks": 20, "chunkDelayMs": 60}  # ~1.2 s


def explain(uri: str) -> lsp.Command:
    return lsp.Command(title="explain", command="agy-lsp.action", arguments=[{"action": "explain", "uri": uri}])


def slow_create(editor: Editor, delay: float, state: Any, seen: dict[str, Any], fail: bool = False) -> None:
    """Answers window/workDoneProgress/create after `delay`, noting how many model
    requests the turn had made by then (or with an error, when `fail`)."""
    client: Any = editor.client
    client.protocol.fm.features.pop(lsp.WINDOW_WORK_DONE_PROGRESS_CREATE)  # pytest-lsp's own answers at once

    @client.feature(lsp.WINDOW_WORK_DONE_PROGRESS_CREATE)
    async def create(params: lsp.WorkDoneProgressCreateParams) -> None:
        seen["asked"] = True
        await asyncio.sleep(delay)
        seen["model_requests_before_answer"] = len(state.requests)
        if fail:
            raise RuntimeError("this editor shows no progress")
        client.progress_reports.setdefault(params.token, [])


async def test_the_turn_does_not_wait_for_the_progress_token(model: ScriptedModel, tmp_path: Any) -> None:
    backend, state = openai_backend(model, SLOW)
    path = workspace(tmp_path, "m.py", CODE)
    editor = await start_plain(backend, str(tmp_path))
    seen: dict[str, Any] = {}
    slow_create(editor, 0.6, state, seen)
    try:
        uri = editor.open(path, CODE)
        with warnings.catch_warnings(record=True) as caught:  # pytest-lsp warns of progress on a token it was never asked to create
            warnings.simplefilter("always")
            started = await run_command(editor, explain(uri))
            values = await until_done(editor, started["turnId"])
        assert seen["model_requests_before_answer"] == 1, "the model was asked while the create was in flight"
        assert not [w for w in caught if "progress token" in str(w.message)], "no $/progress before the create was answered"
        kinds = [type(v).__name__ for v in values]
        assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd", kinds
        assert kinds.count("WorkDoneProgressBegin") == 1 and kinds.count("WorkDoneProgressEnd") == 1
        begin: Any = values[0]
        assert begin.cancellable and "returns the sum" in begin.message, "begin carries what streamed meanwhile"
        assert any(isinstance(v, lsp.WorkDoneProgressReport) for v in values), "reports follow the begin"
        assert values[-1].message == "done"
    finally:
        await editor.client.shutdown_session()


async def test_a_client_that_refuses_the_token_still_gets_the_turn(model: ScriptedModel, tmp_path: Any) -> None:
    backend, state = openai_backend(model, {"text": "explained"})
    path = workspace(tmp_path, "m.py", CODE)
    editor = await start_plain(backend, str(tmp_path))
    seen: dict[str, Any] = {}
    slow_create(editor, 0.05, state, seen, fail=True)
    try:
        uri = editor.open(path, CODE)
        started = await run_command(editor, explain(uri))
        client: Any = editor.client
        await wait_until(lambda: any(m.message.endswith(": done") for m in client.messages), 30)
        assert any(m.message == "explained" for m in client.messages), "the answer is shown"
        assert client.progress_reports.get(f"agy-{started['turnId']}") is None, "no progress on a refused token"
        assert seen["asked"]
    finally:
        await editor.client.shutdown_session()
