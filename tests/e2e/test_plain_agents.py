"""Which agents a plain client's features use, on the real SDK: an action runs on
the workspace folder's agent, which is stored and listed; inline completions run on
an internal agent that no listing shows and nothing stores. A plain client hears
no agy/* message; an agy client still gets them all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from lsprotocol import types as lsp

from agy_lsp.agents.editor import NullEditor
from agy_lsp.agents.manager import AgentManager
from agy_lsp.backends.scripted import ScriptedModel
from agy_lsp.settings import Settings
from tests.e2e.conftest import start_client
from tests.e2e.plain_client import Editor, run_command, start_plain, until_done, workspace
from tests.e2e.test_confirm import openai_backend
from tests.e2e.test_plain_actions import actions
from tests.e2e.test_plain_inline import CODE, complete
from tests.helpers import request, wait_until

WHOLE = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=2, character=0))


def names(sessions: list[dict[str, Any]]) -> list[str]:
    return [s.get("name") or "" for s in sessions]


async def start(model: ScriptedModel, tmp_path: Path, *replies: dict[str, Any]) -> tuple[Editor, str, dict[str, Any], Path]:
    """A plain client with completions on, in `ws/` with its own state dir; an action
    (explain) has run on the folder's agent and a completion on its completion agent."""
    state, folder = tmp_path / "state", tmp_path / "ws"
    folder.mkdir()
    path = workspace(folder, "m.py", CODE)
    backend, _ = openai_backend(model, {"text": "it adds"}, {"text": "return a + b"}, *replies)
    editor = await start_plain(backend, str(folder), {"stateDir": str(state), "inlineCompletion": {"enabled": True}})
    uri = editor.open(path, CODE)
    explain = next(a for a in await actions(editor, uri, WHOLE) if a.title == "agy: explain this code")
    assert explain.command is not None
    started = await run_command(editor, explain.command)
    await until_done(editor, started["turnId"])
    [item] = await complete(editor, uri)
    assert item.insert_text == "return a + b"
    return editor, started["agentId"], backend, state


async def test_a_plain_client_hears_no_agy_message_during_an_action_and_a_completion(model: ScriptedModel, tmp_path: Path) -> None:
    editor, _, backend, state = await start(model, tmp_path, {"text": "hello"})
    try:
        await request(editor.client, "agy/listSessions", {})  # a round trip: what the server sent before it has arrived
        # each agent started, went busy and idle: none of it as agy/agentState or agy/chatChunk
        assert editor.agy_received() == [], editor.agy_received()
        assert "$/progress" in editor.received and "window/showMessage" in editor.received, "its standard messages came"
        other = await start_client({"AGY_STATE_DIR": str(state)})  # a client that declares experimental.agy
        try:
            agent = (await request(other, "agy/createAgent", {"backend": backend}))["agentId"]
            await request(other, "agy/chat", {"agentId": agent, "prompt": "hi"})
            recorder: Any = other.recorder  # type: ignore[attr-defined]
            await wait_until(lambda: "idle" in recorder.states(agent))
            assert recorder.chunks(), "an agy client still gets agy/agentState and agy/chatChunk"
        finally:
            await other.shutdown_session()
    finally:
        await editor.client.shutdown_session()


async def test_listings_show_the_folder_agent_and_never_the_completion_agent(model: ScriptedModel, tmp_path: Path) -> None:
    editor, folder_agent, _, state = await start(model, tmp_path)
    folder = f"agy-lsp: {tmp_path / 'ws'}"
    try:
        assert names((await request(editor.client, "agy/listSessions", {}))["sessions"]) == [folder]
        agents = (await request(editor.client, "agy/listAgents", {}))["agents"]
        assert [a["agentId"] for a in agents] == [folder_agent], agents
        other = await start_client({"AGY_STATE_DIR": str(state)})  # an agy client on the same state dir
        try:
            assert names((await request(other, "agy/listSessions", {}))["sessions"]) == [folder]
        finally:
            await other.shutdown_session()
    finally:
        await editor.client.shutdown_session()
    # what ACP's session/list and MCP's listings read
    manager = AgentManager(msgspec.convert({"stateDir": str(state)}, Settings, from_attributes=True), NullEditor())
    assert [s.meta.name if s.meta else None for s in manager.sessions.listing()] == [folder]
    assert list((state / "internal").iterdir()) == [], "the completion agent's scratch folder went with it"
    assert len(list((state / "conversations").glob("*.db"))) == 1, "the folder agent's conversation only"
