"""Every private reach into pygls, acp and mcp (agy_lsp/{lsp,acp,mcp}/seam.py),
pinned against the installed packages: an upgrade that moves one fails here."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Any

import anyio
import mcp_types as types
import pytest
from acp.agent.connection import AgentSideConnection
from acp.router import MessageRouter
from cattrs import Converter
from mcp.shared.message import SessionMessage
from pygls.lsp.server import LanguageServer

from agy_lsp.acp import seam as acp_seam
from agy_lsp.acp.gate import Gate, GatedTransport
from agy_lsp.acp.server import connect
from agy_lsp.lsp.jsonrpc import agy_converter
from agy_lsp.lsp.seam import SeamProtocol
from agy_lsp.mcp import seam as mcp_seam


class Capturing(SeamProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[Any] = []

    def send_message(self, data: Any) -> None:
        self.sent.append(data)


def _lsp() -> Capturing:
    server = LanguageServer("pin", "0", protocol_cls=Capturing, converter_factory=agy_converter)
    protocol: Any = server.protocol
    return protocol


def test_pygls_sends_notifications_requests_and_responses_through_send_message() -> None:
    protocol = _lsp()
    protocol.notify("x/y", {"a": 1})
    protocol.send_request("x/z", {"b": 2}, msg_id="pinned")
    protocol.handle_message(protocol.structure_message({"jsonrpc": "2.0", "id": 7, "method": "shutdown"}))
    methods = [getattr(m, "method", None) for m in protocol.sent]
    assert methods[:2] == ["x/y", "x/z"], protocol.sent
    assert any(getattr(m, "id", None) == 7 for m in protocol.sent), "the response bypassed send_message"


def test_pygls_private_state_we_read() -> None:
    protocol = _lsp()
    assert isinstance(protocol.converter, Converter)
    assert protocol.shut_down is False
    protocol.send_request("x/z", {}, msg_id="pending")
    pending = protocol.pending_requests()
    assert set(pending) == {"pending"} and isinstance(pending["pending"], Future)
    protocol.handle_message(protocol.structure_message({"jsonrpc": "2.0", "id": 1, "method": "shutdown"}))
    assert protocol.shut_down is True


def test_pygls_reports_a_server_error_as_a_message() -> None:
    protocol = _lsp()
    protocol.report_server_error(ValueError("pinned"))
    assert any("pinned" in str(getattr(m, "params", "")) for m in protocol.sent), protocol.sent


class _Agent:
    def __init__(self) -> None:
        self.deleted: list[str] = []

    async def delete_session(self, session_id: str, **kwargs: Any) -> None:
        self.deleted.append(session_id)


async def test_acp_reads_only_through_our_gate_and_routes_session_delete() -> None:
    reader = asyncio.StreamReader()
    transport = GatedTransport(Gate(), reader, None)  # type: ignore[arg-type]  # nothing is written
    agent = _Agent()
    conn = connect(agent, transport)  # type: ignore[arg-type]
    assert isinstance(conn, AgentSideConnection)
    assert acp_seam.uses_transport(conn, transport)
    router = acp_seam.router(conn)
    assert isinstance(router, MessageRouter)
    await router("session/delete", {"sessionId": "s1"}, False)
    assert agent.deleted == ["s1"]


async def test_mcp_context_streams_carry_session_messages() -> None:
    send, receive = mcp_seam.create_context_streams[SessionMessage](1)
    assert isinstance(send, mcp_seam.ContextSendStream) and isinstance(receive, mcp_seam.ContextReceiveStream)
    message = SessionMessage(types.JSONRPCNotification(jsonrpc="2.0", method="x"))
    async with send, receive:
        await send.send(message)
        with anyio.fail_after(2):
            got = await receive.receive()
    assert got is message


@pytest.mark.parametrize("name", ["_send_data", "_converter", "_shutdown", "_request_futures"])
def test_the_pygls_names_exist(name: str) -> None:
    assert hasattr(_lsp(), name)
