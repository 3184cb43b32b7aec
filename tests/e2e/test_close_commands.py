"""Closing an agent, or the whole server, while its command runs: the command goes
with it. The harness starts each `run_command` in a session of its own, so it does
not die with the harness by itself."""

from __future__ import annotations

import asyncio
import uuid

from pytest_lsp import LanguageClient

from tests.e2e.conftest import start_client
from tests.helpers import request, running_sleeps, scripted, sleep_reply, wait_until


def mark() -> str:
    return f"42.{uuid.uuid4().int % 10**5:05d}"


async def test_shutting_an_agent_down_ends_its_running_command(client: LanguageClient) -> None:
    sleep = mark()
    agent_id = (await request(client, "agy/createAgent", {"backend": scripted(sleep_reply(sleep)), "policies": "allowAll"}))["agentId"]
    future = client.protocol.send_request("agy/chat", {"agentId": agent_id, "prompt": f"sleep {sleep}"})
    await wait_until(lambda: bool(running_sleeps(sleep)), timeout=20)
    await request(client, "agy/shutdownAgent", {"agentId": agent_id})
    await wait_until(lambda: not running_sleeps(sleep), timeout=5)
    assert (await asyncio.wrap_future(future)).stopReason == "cancelled"


async def test_the_editor_leaving_ends_every_running_command() -> None:
    sleep = mark()
    editor = await start_client()
    agent_id = (await request(editor, "agy/createAgent", {"backend": scripted(sleep_reply(sleep)), "policies": "allowAll"}))["agentId"]
    editor.protocol.send_request("agy/chat", {"agentId": agent_id, "prompt": f"sleep {sleep}"})
    await wait_until(lambda: bool(running_sleeps(sleep)), timeout=20)
    await editor.shutdown_session()  # shutdown, exit: the server closes its agents
    await wait_until(lambda: not running_sleeps(sleep), timeout=10)
