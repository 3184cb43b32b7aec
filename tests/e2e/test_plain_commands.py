"""Standard LSP on the real SDK: consent by window/showMessageRequest, cancel by
window/workDoneProgress/cancel, and the workspace/executeCommand commands."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from agy_lsp.backends.scripted import ScriptedModel
from tests.e2e.plain_client import progress_of, run_command, start_plain, until_done
from tests.e2e.test_confirm import openai_backend
from tests.helpers import request, wait_until


def shell(command: str, cwd: str) -> dict[str, Any]:
    return {"toolCalls": [{"name": "run_command", "id": "c1", "args": {"CommandLine": command, "Cwd": cwd}}]}


def chat(prompt: str) -> lsp.Command:
    return lsp.Command(title="chat", command="agy-lsp.chat", arguments=[{"prompt": prompt}])


@pytest.mark.parametrize(("answer", "runs"), [("Allow once", True), ("Reject", False), (None, False)])
async def test_an_ask_call_is_a_show_message_request_with_the_whole_command(
    model: ScriptedModel, tmp_path: Any, answer: str | None, runs: bool
) -> None:
    out = os.path.join(str(tmp_path), "out.txt")
    command = f"echo ran > {out} # \x1b[2Khidden"
    backend, _ = openai_backend(model, shell(command, str(tmp_path)), {"text": "done"})
    editor = await start_plain(backend, str(tmp_path))
    try:
        editor.answers = [answer]
        await until_done(editor, (await run_command(editor, chat("write it")))["turnId"])
        assert os.path.exists(out) is runs
        [prompt] = editor.prompts
        assert [a.title for a in prompt.actions or []] == ["Allow once", "Allow always", "Reject", "Reject always"]
        assert f"echo ran > {out} # \\x1b[2Khidden" in prompt.message, "the whole command, control characters escaped"
    finally:
        await editor.client.shutdown_session()


async def test_a_client_that_cannot_answer_the_prompt_never_runs_an_ask_call(model: ScriptedModel, tmp_path: Any) -> None:
    out = os.path.join(str(tmp_path), "out.txt")
    backend, state = openai_backend(model, shell(f"echo ran > {out}", str(tmp_path)), {"text": "done"})
    editor = await start_plain(backend, str(tmp_path), show=False)
    try:
        editor.answers = ["Allow once"]
        await until_done(editor, (await run_command(editor, chat("write it")))["turnId"])
        assert not os.path.exists(out) and editor.prompts == []
        logged = " ".join(m.message for m in editor.client.log_messages)
        assert "not allowed" in logged and "could not show window/showMessageRequest" in logged, logged
        assert "you rejected" not in logged, "nobody was asked"
        assert state.requests, "the model was asked"
    finally:
        await editor.client.shutdown_session()


SLOW = {"text": "word " * 300, "chunks": 300, "chunkDelayMs": 100}  # 30 s of answer


async def test_progress_cancel_stops_the_turn(model: ScriptedModel, tmp_path: Any) -> None:
    backend, _ = openai_backend(model, SLOW)
    editor = await start_plain(backend, str(tmp_path))
    try:
        turn_id = (await run_command(editor, chat("wait")))["turnId"]
        token = f"agy-{turn_id}"
        await wait_until(lambda: any("word" in (getattr(r, "message", "") or "") for r in progress_of(editor, turn_id)), 30)
        started = time.monotonic()
        editor.client.window_work_done_progress_cancel(lsp.WorkDoneProgressCancelParams(token=token))
        reports = await until_done(editor, turn_id)
        assert time.monotonic() - started < 15
        assert isinstance(reports[-1], lsp.WorkDoneProgressEnd) and reports[-1].message == "cancelled"
    finally:
        await editor.client.shutdown_session()


async def test_a_running_action_offers_its_cancel_as_a_code_action(model: ScriptedModel, tmp_path: Any) -> None:
    from tests.e2e.plain_client import workspace
    from tests.e2e.test_plain_actions import actions

    backend, _ = openai_backend(model, SLOW)
    editor = await start_plain(backend, str(tmp_path), progress=False)  # eglot 1.9 declares no progress
    try:
        path = workspace(tmp_path, "m.py", "x = 1\n")
        uri = editor.open(path, "x = 1\n")
        here = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0))
        assert not any("cancel" in a.title for a in await actions(editor, uri, here))
        await run_command(editor, chat("wait"))
        [cancel] = [a for a in await actions(editor, uri, here) if a.title.startswith("agy: cancel")]
        assert cancel.command is not None and cancel.kind == "source.agy.cancel"
        started = time.monotonic()
        assert await run_command(editor, cancel.command) == {"cancelled": 1}
        await wait_until(lambda: any(m.message == "agy: chat: cancelled" for m in editor.client.messages), 15)
        assert time.monotonic() - started < 15
        assert not any("cancel" in a.title for a in await actions(editor, uri, here))
    finally:
        await editor.client.shutdown_session()


async def test_commands_are_advertised_and_run(model: ScriptedModel, tmp_path: Any) -> None:
    backend, state = openai_backend(model, {"text": "hello there"}, {"text": "1. look\n2. do"})
    editor = await start_plain(backend, str(tmp_path))
    try:
        caps = editor.server_capabilities
        assert caps is not None and caps.execute_command_provider is not None
        advertised = set(caps.execute_command_provider.commands)
        assert {"agy-lsp.action", "agy-lsp.chat", "agy-lsp.cancel", "agy-lsp.newAgent", "agy-lsp.planThenGo"} <= advertised
        # vscode-languageclient registers every advertised command as an editor command:
        # one that our VS Code extension also contributes stops its client from starting.
        manifest = json.loads((Path(__file__).parents[2] / "editors" / "vscode" / "package.json").read_text())
        ours = {c["command"] for c in manifest["contributes"]["commands"]}
        assert not advertised & ours, advertised & ours
        first = await run_command(editor, chat("hi"))
        await until_done(editor, first["turnId"])
        assert any(m.message == "hello there" for m in editor.client.messages)
        plan = lsp.Command(title="plan", command="agy-lsp.planThenGo", arguments=[{"prompt": "tidy up"}])
        second = await run_command(editor, plan)
        await until_done(editor, second["turnId"])
        assert second["agentId"] == first["agentId"], "one agent per workspace folder"
        assert "short numbered plan" in str(state.requests[-1]["messages"])
        sessions = await request(editor.client, "agy/listSessions", {})
        assert any(s.get("name") == f"agy-lsp: {tmp_path}" for s in sessions["sessions"]), sessions
        fresh = await run_command(editor, lsp.Command(title="new", command="agy-lsp.newAgent", arguments=[{}]))
        assert fresh["agentId"] != first["agentId"]
        assert await run_command(editor, lsp.Command(title="cancel", command="agy-lsp.cancel", arguments=[{}])) == {"cancelled": 0}
        for bad in ([{"prompt": 3}], ["text"], [{}]):
            with pytest.raises(JsonRpcException) as e:
                await run_command(editor, lsp.Command(title="chat", command="agy-lsp.chat", arguments=bad))
            assert e.value.code == -32602
    finally:
        await editor.client.shutdown_session()


async def test_the_folder_agent_resumes_after_a_restart_and_a_disconnect_leaves_no_harness(model: ScriptedModel, tmp_path: Any) -> None:
    from tests.helpers import harness_children

    backend, state = openai_backend(model, {"text": "first"}, {"text": "second"}, SLOW)
    editor = await start_plain(backend, str(tmp_path))
    first = await run_command(editor, chat("remember 42"))
    await until_done(editor, first["turnId"])
    await editor.client.shutdown_session()

    editor = await start_plain(backend, str(tmp_path))
    try:
        second = await run_command(editor, chat("what did I say?"))
        await until_done(editor, second["turnId"])
        assert "remember 42" in str(state.requests[-1]["messages"]), "the folder's agent resumed its conversation"
        sessions = (await request(editor.client, "agy/listSessions", {}))["sessions"]
        assert len([s for s in sessions if s.get("name") == f"agy-lsp: {tmp_path}"]) == 1
        await run_command(editor, chat("talk slowly"))  # a turn in flight when the editor goes away
        server_pid = editor.client._server.pid  # type: ignore[union-attr]
        await wait_until(lambda: bool(harness_children(server_pid)), 30)
        editor.client._server.stdin.close()  # type: ignore[union-attr]  # no shutdown: the editor just goes away
        await asyncio.wait_for(editor.client._server.wait(), 20)  # type: ignore[union-attr]
        await wait_until(lambda: not harness_children(server_pid), timeout=15)
    finally:
        await editor.client.stop()
