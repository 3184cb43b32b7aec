"""Every private reach into the `acp` package (0.12.1), in one place.

Pinned by tests/wire/test_seams.py: an upgrade that moves one of them fails there,
loudly, instead of `session/delete` quietly answering "method not found" or the
connection bypassing our gate (agy_lsp/acp/gate.py).
"""

from __future__ import annotations

from typing import Any

from acp.agent.connection import AgentSideConnection
from acp.meta import AGENT_METHODS
from acp.router import MessageRouter
from acp.schema import DeleteSessionRequest


def router(conn: AgentSideConnection) -> MessageRouter:
    """The connection's method router (`conn._conn._handler`)."""
    found: MessageRouter = conn._conn._handler  # pyright: ignore[reportPrivateUsage, reportAssignmentType]
    return found


def route_session_delete(conn: AgentSideConnection, agent: Any) -> None:
    """The package's schema has `session/delete`, its router does not route it."""
    router(conn).route_request(AGENT_METHODS["session_delete"], DeleteSessionRequest, agent, "delete_session")


def uses_transport(conn: AgentSideConnection, transport: Any) -> bool:
    """Whether the connection reads through `transport` (our gate) and nothing else."""
    return conn._conn._transport is transport  # pyright: ignore[reportPrivateUsage]
