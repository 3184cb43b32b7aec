"""textDocument/inlineCompletion on the real SDK: off by default, one setting turns it
on, no tools, and a typing burst costs at most two model requests."""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types as lsp

from agy_lsp.backends.scripted import ScriptedModel
from tests.e2e.plain_client import Editor, start_plain, workspace
from tests.e2e.test_confirm import openai_backend

CODE = "def add(a, b):\n    \n"
CURSOR = lsp.Position(line=1, character=4)


async def complete(editor: Editor, uri: str, position: lsp.Position = CURSOR) -> list[lsp.InlineCompletionItem]:
    params = lsp.InlineCompletionParams(
        context=lsp.InlineCompletionContext(trigger_kind=lsp.InlineCompletionTriggerKind.Automatic),
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        position=position,
    )
    result: Any = await editor.client.text_document_inline_completion_async(params)
    items = result.items if isinstance(result, lsp.InlineCompletionList) else result
    return list(items or [])


async def test_off_by_default_and_one_setting_turns_it_on(model: ScriptedModel, tmp_path: Any) -> None:
    path = workspace(tmp_path, "m.py", CODE)
    backend, state = openai_backend(model, {"text": "```python\nreturn a + b\n```"})
    editor = await start_plain(backend, str(tmp_path))
    try:
        caps = editor.server_capabilities
        assert caps is not None and caps.inline_completion_provider is not None
        uri = editor.open(path, CODE)
        assert await complete(editor, uri) == [] and state.requests == [], "off: no tokens spent"
        editor.client.workspace_did_change_configuration(
            lsp.DidChangeConfigurationParams(settings={"agy": {"inlineCompletion": {"enabled": True}}})
        )
        [item] = await complete(editor, uri)
        assert item.insert_text == "return a + b"
        assert item.range == lsp.Range(start=CURSOR, end=CURSOR)
        [sent] = state.requests
        assert "def add(a, b):\n    <CURSOR>" in str(sent["messages"][-1]["content"])
        assert not sent.get("tools"), "completions run with no tools"
    finally:
        await editor.client.shutdown_session()


async def test_a_typing_burst_costs_at_most_two_model_requests(model: ScriptedModel, tmp_path: Any) -> None:
    path = workspace(tmp_path, "m.py", CODE)
    backend, state = openai_backend(model, *({"text": f"answer{n}"} for n in range(20)))
    editor = await start_plain(backend, str(tmp_path), {"inlineCompletion": {"enabled": True}})
    try:
        uri = editor.open(path, CODE)
        requests = []
        for _ in range(20):
            requests.append(asyncio.ensure_future(complete(editor, uri)))
            await asyncio.sleep(0.03)
        answers = await asyncio.gather(*requests)
        assert len(state.requests) <= 2, len(state.requests)
        assert answers[-1] and answers[-1][0].insert_text.startswith("answer")
        assert all(a == [] for a in answers[:-1])
    finally:
        await editor.client.shutdown_session()


async def test_completion_requests_stay_small_as_completions_go_on(model: ScriptedModel, tmp_path: Any) -> None:
    """The harness keeps a conversation's every exchange, so one agent serving every
    completion would send the model a longer request each time: a fresh agent takes
    over once one carries FRESH_AFTER_CHARS, and the retired ones close (their scratch
    folders go)."""
    from agy_lsp.lsp.plain_inline import FRESH_AFTER_CHARS

    big = "".join(f"v{i:03} = {'x' * 90!r}\n" for i in range(100))  # ~10 KB the model sees per completion
    path = workspace(tmp_path, "m.py", big)
    n = 3 * FRESH_AFTER_CHARS // 6_000  # the window around the cursor is ~7 KB: at least two rotations
    backend, state = openai_backend(model, *[{"text": f"return {i}"} for i in range(n)])
    options = {"inlineCompletion": {"enabled": True, "debounceMs": 0}, "stateDir": str(tmp_path / "state")}
    editor = await start_plain(backend, str(tmp_path), options)
    try:
        uri = editor.open(path, big)
        for i in range(n):
            [item] = await complete(editor, uri, lsp.Position(line=50, character=0))
            assert item.insert_text == f"return {i}"
        sizes = [sum(len(str(m.get("content"))) for m in r["messages"]) for r in state.requests]
        assert len(sizes) == n
        assert max(sizes) <= FRESH_AFTER_CHARS + 2 * len(big), f"requests grew past the budget: {sizes}"
        fresh = [i for i in range(1, n) if sizes[i] < sizes[i - 1]]
        assert len(fresh) >= 2, f"a fresh agent took over, and again: {sizes}"
        assert all(sizes[i] <= sizes[0] + 100 for i in fresh), f"and starts small: {sizes}"
    finally:
        await editor.client.shutdown_session()
    internal = tmp_path / "state" / "internal"
    assert not internal.exists() or not any(internal.iterdir()), "every completion agent closed and left nothing"
