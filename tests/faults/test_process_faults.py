"""Process faults: a killed harness, SIGTERM, hostile input, and secrets in every output."""

from __future__ import annotations

import asyncio
import json
import os
import signal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_lsp import LanguageClient

from tests.e2e.conftest import SERVER, SERVER_ENV, start_client
from tests.helpers import harness_children, pid_alive, request, scripted, wait_until


async def test_killed_harness_heals_on_the_next_call(client: LanguageClient, recorder) -> None:
    """A dead harness is not a dead agent: the next call restarts it on the same
    conversation (history kept), and the bystander never notices."""
    victim = (await request(client, "agy/createAgent", {"backend": scripted({"text": "before"})}))["agentId"]
    bystander = (await request(client, "agy/createAgent", {"backend": scripted()}))["agentId"]
    await request(client, "agy/chat", {"agentId": victim, "prompt": "hello"})
    conversation_id = (await request(client, "agy/status", {"agentId": victim}))["conversationId"]
    server_pid = client._server.pid  # type: ignore[union-attr]
    before = harness_children(server_pid)
    assert len(before) == 2
    # The victim's harness is the older of the two processes.
    victim_pid = min(before, key=lambda p: os.stat(f"/proc/{p}").st_mtime)
    os.kill(victim_pid, signal.SIGKILL)
    await wait_until(lambda: "failed" in recorder.states(victim), timeout=5)
    assert (await request(client, "agy/status", {"agentId": victim}))["state"] == "failed"
    healed = await request(client, "agy/chat", {"agentId": victim, "prompt": "are you there?"})
    assert healed["text"] == "You said: are you there?"
    states = recorder.states(victim)
    assert states[states.index("failed") :][:3] == ["failed", "starting", "idle"], states
    status = await request(client, "agy/status", {"agentId": victim})
    assert status["conversationId"] == conversation_id and status["turnCount"] == 2
    history = await request(client, "agy/history", {"agentId": victim})
    assert any(s["content"] == "hello" for s in history["steps"]), "the conversation survived the harness"
    assert victim_pid not in harness_children(server_pid) and len(harness_children(server_pid)) == 2
    assert (await request(client, "agy/chat", {"agentId": bystander, "prompt": "fine?"}))["text"] == "You said: fine?"
    await request(client, "agy/shutdownAgent", {"agentId": victim})


async def test_sigterm_shuts_down_cleanly() -> None:
    client = await start_client()
    try:
        await request(client, "agy/createAgent", {"backend": scripted()})
        server = client._server  # type: ignore[attr-defined]
        harnesses = harness_children(server.pid)
        assert harnesses
        server.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.wait(), 10) == 0
        await wait_until(lambda: not any(pid_alive(p) for p in harnesses), timeout=3)
    finally:
        await client.stop()


class RawServer:
    """Bytes in, frames out: for input no well-behaved client would send."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.stderr = bytearray()
        self._drain = asyncio.ensure_future(self._read_stderr())

    async def _read_stderr(self) -> None:
        assert self.proc.stderr
        while chunk := await self.proc.stderr.read(65536):  # never let a full pipe block the server
            self.stderr += chunk

    @classmethod
    async def start(cls, env: dict[str, str] | None = None, args: list[str] | None = None) -> RawServer:
        proc = await asyncio.create_subprocess_exec(
            *SERVER,
            *(args or []),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**SERVER_ENV, **(env or {})},
        )
        return cls(proc)

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(data)

    def send(self, message: object) -> None:
        body = json.dumps(message).encode()
        self.send_raw(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    async def read(self, timeout: float = 10) -> dict:
        assert self.proc.stdout
        header = await asyncio.wait_for(self.proc.stdout.readuntil(b"\r\n\r\n"), timeout)
        length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
        return json.loads(await self.proc.stdout.readexactly(length))

    async def response(self, msg_id: object, timeout: float = 30) -> dict:
        while True:
            message = await self.read(timeout)
            if message.get("id") == msg_id and "method" not in message:
                return message

    async def close(self) -> None:
        if self.proc.returncode is None:
            assert self.proc.stdin
            self.proc.stdin.close()
            await asyncio.wait_for(self.proc.wait(), 10)
        await asyncio.wait_for(self._drain, 5)


async def test_hostile_framing_and_payloads_get_errors() -> None:
    server = await RawServer.start()
    try:
        server.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
        assert "result" in await server.response(1)
        server.send_raw(b"Content-Length: 9\r\n\r\n{not json")
        assert (await server.read())["error"]["code"] == -32700
        server.send([1, 2, 3])
        assert (await server.read())["error"]["code"] == -32600
        server.send({"jsonrpc": "1.0", "id": 7, "method": "agy/listAgents"})
        reply = await server.read()
        assert reply["error"]["code"] == -32600 and reply["id"] == 7
        server.send_raw(b"Garbage-Header\r\n\r\n")
        assert (await server.read())["error"]["code"] == -32600
        server.send({"jsonrpc": "2.0", "id": 8, "method": "agy/noSuchThing", "params": {}})
        assert (await server.response(8))["error"]["code"] == -32601
        server.send({"jsonrpc": "2.0", "id": 9, "method": "agy/chat", "params": {"agentId": ["x"], "prompt": 3}})
        assert (await server.response(9))["error"]["code"] == -32602
        server.send({"jsonrpc": "2.0", "id": 10, "method": "agy/chat", "params": {"agentId": "x" * 100_000, "prompt": "y" * 2_000_000}})
        assert (await server.response(10))["error"]["code"] == -32001
        server.send_raw(b"Content-Length: 999999999999\r\n\r\n")
        assert (await server.read())["error"]["code"] == -32600
    finally:
        await server.close()


def _fuzz_messages() -> st.SearchStrategy[bytes]:
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
        max_leaves=12,
    )
    methods = st.sampled_from(
        [
            "agy/createAgent",
            "agy/chat",
            "agy/status",
            "agy/history",
            "agy/cancel",
            "agy/usage",
            "agy/listAgents",
            "agy/send",
            "agy/waitForWakeup",
            "agy/resetPermissions",
            "agy/listSessions",
            "initialize",
            "nope/x",
            "$/cancelRequest",
        ]
    )
    well_formed = st.builds(
        lambda m, p, i: json.dumps({"jsonrpc": "2.0", "id": i, "method": m, "params": p}).encode(),
        methods,
        json_values,
        st.integers(min_value=100, max_value=10**6),
    )
    mutated = well_formed.flatmap(lambda b: st.integers(0, max(0, len(b) - 1)).map(lambda i: b[:i] + b"\x00" + b[i + 1 :]))
    junk = st.binary(max_size=64).filter(lambda b: b"\r\n\r\n" not in b)
    return st.one_of(well_formed, mutated, junk.map(lambda b: b or b"{}"))


@pytest.mark.parametrize("seed", [0])
async def test_fuzzed_messages_never_kill_the_server(seed: int) -> None:
    server = await RawServer.start()
    messages: list[bytes] = []

    @settings(max_examples=1500, database=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(_fuzz_messages())
    def collect(body: bytes) -> None:
        messages.append(body)

    collect()
    try:
        server.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
        await server.response(1)
        for body in messages:
            server.send_raw(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        server.send({"jsonrpc": "2.0", "id": "after", "method": "agy/createAgent", "params": {"backend": scripted()}})
        created = await server.response("after", timeout=60)
        agent_id = created["result"]["agentId"]
        server.send({"jsonrpc": "2.0", "id": "chat", "method": "agy/chat", "params": {"agentId": agent_id, "prompt": "alive?"}})
        reply = await server.response("chat", timeout=30)
        assert reply["result"]["text"] == "You said: alive?"
        assert server.proc.returncode is None
    finally:
        await server.close()
    assert len(messages) >= 1000


async def test_api_keys_never_appear_in_any_output(model) -> None:
    secret = "sk-agyPLANTEDsecret0123456789"
    gemini_secret = "AIzaPLANTEDgeminikey0123456789"
    base_url, _ = model.register(
        __import__("agy_lsp.backends.scripted", fromlist=["x"]).parse_script(
            [{"text": "fine"}, {"status": 500, "errorBody": f"upstream rejected key {secret}"}, {"text": "ok"}]
        )
    )
    server = await RawServer.start({"GEMINI_API_KEY": gemini_secret, "AGY_LOG_LEVEL": "debug"})
    out: list[str] = []
    try:
        server.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
        out.append(json.dumps(await server.response(1)))
        backend = {"type": "openai", "baseUrl": base_url, "model": "m", "apiKey": secret}
        server.send({"jsonrpc": "2.0", "id": 2, "method": "agy/createAgent", "params": {"backend": backend}})
        reply = await server.response(2)
        out.append(json.dumps(reply))
        agent_id = reply["result"]["agentId"]
        for i, method in enumerate(["agy/chat", "agy/chat", "agy/status", "agy/history", "agy/usage", "agy/listAgents"]):
            params = {"agentId": agent_id, "prompt": f"p{i}"}
            server.send({"jsonrpc": "2.0", "id": 10 + i, "method": method, "params": params})
            while True:
                message = await server.read(30)
                out.append(json.dumps(message))
                if message.get("id") == 10 + i:
                    break
        server.send({"jsonrpc": "2.0", "id": 30, "method": "agy/createAgent", "params": {"backend": {"type": "gemini"}}})
        out.append(json.dumps(await server.response(30)))
    finally:
        await server.close()
        out.append(server.stderr.decode(errors="replace"))
    state_files = []
    for root, _, files in os.walk(SERVER_ENV["AGY_STATE_DIR"]):
        for name in files:
            if name.endswith(".json"):
                with open(os.path.join(root, name), errors="replace") as f:
                    state_files.append(f.read())
    everything = "\n".join(out + state_files)
    assert '"code":-32007' in everything.replace(" ", ""), "the 500 with the key in its body was reported"
    assert secret not in everything and gemini_secret not in everything
