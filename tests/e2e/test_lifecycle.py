"""Lifecycle: initialize, create, chat with streamed chunks, shutdown with no harness left."""

from __future__ import annotations

import asyncio
import json
import sys

from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from agy_lsp.backends.scripted import ScriptedModel
from tests.e2e.conftest import SERVER, SERVER_ENV, capabilities
from tests.e2e.test_confirm import openai_backend
from tests.helpers import harness_children, request, request_error, scripted, wait_until


async def test_streams_a_turn_in_order(client: LanguageClient, recorder) -> None:
    backend = scripted({"text": "one two three four five", "chunks": 5, "chunkDelayMs": 40})
    created = await request(client, "agy/createAgent", {"backend": backend})
    agent_id = created["agentId"]
    assert created["tools"], "the SDK's built-in tools are listed"
    result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "count"})
    assert result["text"] == "one two three four five"
    assert result["stopReason"] == "end_turn"
    assert result["usage"]["totalTokens"] > 0
    chunks = recorder.chunks(result["turnId"])
    assert [c["seq"] for c in chunks] == list(range(1, len(chunks) + 1))
    assert "".join(c["text"] for c in chunks if c["kind"] == "text") == result["text"]
    assert len([c for c in chunks if c["kind"] == "text"]) == 5
    states = recorder.states(agent_id)
    assert states[:2] == ["starting", "idle"] and "busy" in states and states[-1] == "idle"


async def test_progress_is_reported_for_a_turn(client: LanguageClient) -> None:
    created = await request(client, "agy/createAgent", {"backend": scripted({"text": "hi"})})
    await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "hi"})
    await wait_until(lambda: any(any(getattr(p, "kind", None) == "end" for p in reports) for reports in client.progress_reports.values()))


async def test_fallback_to_scripted_model_is_logged(client: LanguageClient) -> None:
    created = await request(client, "agy/createAgent", {})
    result = await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "hello there"})
    assert result["text"] == "You said: hello there"
    assert any("scripted model" in m.message for m in client.log_messages)


async def test_clean_exit_leaves_no_harness() -> None:
    config = ClientServerConfig(server_command=SERVER, server_env=SERVER_ENV)
    client: LanguageClient = await config.start()
    try:
        await client.initialize_session(lsp.InitializeParams(capabilities=capabilities()))
        for _ in range(2):
            await request(client, "agy/createAgent", {"backend": scripted()})
        server_pid = client._server.pid  # type: ignore[union-attr]
        assert len(harness_children(server_pid)) == 2
        await client.shutdown_session()
        assert client._server.returncode == 0  # type: ignore[union-attr]
        await wait_until(lambda: not harness_children(server_pid), timeout=5)
    finally:
        await client.stop()


async def test_eof_mid_turn_exits_and_leaves_no_harness() -> None:
    proc = await asyncio.create_subprocess_exec(
        *SERVER, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=SERVER_ENV
    )
    assert proc.stdin and proc.stdout

    def frame(msg: str) -> bytes:
        return b"Content-Length: %d\r\n\r\n%s" % (len(msg.encode()), msg.encode())

    async def read_frame() -> str:
        assert proc.stdout
        header = await proc.stdout.readuntil(b"\r\n\r\n")
        length = int(header.split(b":")[1].split(b"\r\n")[0])
        return (await proc.stdout.readexactly(length)).decode()

    proc.stdin.write(frame('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{"experimental":{"agy":{}}}}}'))
    await read_frame()
    backend = {"type": "scripted", "script": [{"text": "slow " * 20, "chunkDelayMs": 300}]}
    proc.stdin.write(frame(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "agy/createAgent", "params": {"backend": backend}})))
    while '"id":2' not in (reply := await read_frame()):
        pass
    agent_id = json.loads(reply)["result"]["agentId"]
    harnesses = harness_children(proc.pid)
    assert len(harnesses) == 1
    chat = {"jsonrpc": "2.0", "id": 3, "method": "agy/chat", "params": {"agentId": agent_id, "prompt": "go"}}
    proc.stdin.write(frame(json.dumps(chat)))
    while '"agy/chatChunk"' not in await read_frame():  # the turn is streaming
        pass
    proc.stdin.close()
    t0 = asyncio.get_running_loop().time()
    await asyncio.wait_for(proc.wait(), timeout=5)
    assert asyncio.get_running_loop().time() - t0 < 5
    await wait_until(lambda: not harness_children(proc.pid) and all(not _alive(p) for p in harnesses), timeout=3)


def _alive(pid: int) -> bool:
    from tests.helpers import pid_alive

    return pid_alive(pid)


async def test_initialize_is_fast_and_does_not_import_the_sdk() -> None:
    code = (
        "import sys, agy_lsp.lsp.server as s, agy_lsp.settings as st;"
        "s.build_server(st.from_environment());"
        "print('google.antigravity' in sys.modules)"
    )
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert out.decode().strip() == "False"


async def test_changed_settings_reach_live_agents_at_their_next_turn(client: LanguageClient, model: ScriptedModel) -> None:
    """chatTimeoutSecs and maxQuotaRetries are read when a turn starts; a value set
    on the agent itself still wins."""
    plain_backend, plain = openai_backend(model, {"hang": True}, {"status": 429}, {"text": "never"})
    pinned_backend, _ = openai_backend(model, {"text": "slow but fine", "delayMs": 2500})
    plain_id = (await request(client, "agy/createAgent", {"backend": plain_backend}))["agentId"]
    pinned_id = (await request(client, "agy/createAgent", {"backend": pinned_backend, "chatTimeoutSecs": 30}))["agentId"]
    client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"agy": {"chatTimeoutSecs": 1.5, "maxQuotaRetries": 0}})
    )
    timeout = await request_error(client, "agy/chat", {"agentId": plain_id, "prompt": "hang"})
    assert timeout.data["code"] == "TIMEOUT" and timeout.data["timeoutSecs"] == 1.5
    asked = len(plain.requests)
    quota = await request_error(client, "agy/chat", {"agentId": plain_id, "prompt": "quota"})
    assert quota.data["code"] == "QUOTA_EXCEEDED" and len(plain.requests) == asked + 1
    assert (await request(client, "agy/chat", {"agentId": pinned_id, "prompt": "take your time"}))["text"] == "slow but fine"
