"""The pieces of `--mcp --http` that need no server: tokens, the bind address, the
event store's replay."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mcp.server.streamable_http import EventMessage
from mcp_types import JSONRPCNotification

from agy_lsp.mcp.auth import TokenError, Tokens, read_token_file, token_id
from agy_lsp.mcp.events import MemoryEventStore
from agy_lsp.mcp.http import is_loopback, options_from, parse_bind

TOKEN = "correct-horse-battery-staple-42"


@given(st.text(max_size=64))
def test_only_an_exact_token_is_accepted(given_token: str) -> None:
    tokens = Tokens([TOKEN, "another-token-0123456789"])
    assert (tokens.identify(given_token) is not None) == (given_token in (TOKEN, "another-token-0123456789"))
    assert tokens.identify(TOKEN[:-1]) is None and tokens.identify(TOKEN + "x") is None and tokens.identify("") is None
    assert tokens.identify(TOKEN) == token_id(TOKEN) != tokens.identify("another-token-0123456789")


def test_token_files(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text(f"# comment\n\n{TOKEN}\n")
    path.chmod(0o600)
    assert read_token_file(path) == [TOKEN]
    for mode in (0o640, 0o604, 0o620, 0o602, 0o700 | 0o010):
        path.chmod(mode)
        with pytest.raises(TokenError, match="group or others"):
            read_token_file(path)
    path.chmod(0o600)
    path.write_text("short\n")
    with pytest.raises(TokenError, match="shorter"):
        read_token_file(path)
    with pytest.raises(TokenError):
        read_token_file(tmp_path / "missing")


def test_bind_addresses() -> None:
    assert parse_bind("8080") == ("127.0.0.1", 8080)
    assert parse_bind("0.0.0.0:80") == ("0.0.0.0", 80)
    assert parse_bind("[::1]:9000") == ("::1", 9000)
    for bad in ("", "host", "host:", "1:99999", "x:-1"):
        with pytest.raises(ValueError):
            parse_bind(bad)
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.1", "example.com"))


def test_the_event_store_replays_one_stream_after_an_event_and_stays_bounded() -> None:
    async def scenario() -> None:
        store = MemoryEventStore(max_events=5)
        note = [JSONRPCNotification(jsonrpc="2.0", method=f"n{i}") for i in range(6)]
        a0 = await store.store_event("a", None)  # a priming event
        a1 = await store.store_event("a", note[0])
        await store.store_event("b", note[1])
        await store.store_event("a", note[2])
        await store.store_event("a", note[3])
        got: list[EventMessage] = []

        async def send(event: EventMessage) -> None:
            got.append(event)

        assert await store.replay_events_after(a0, send) == "a"
        assert [e.message.method for e in got] == ["n0", "n2", "n3"]  # pyright: ignore[reportAttributeAccessIssue]
        got.clear()
        assert await store.replay_events_after(a1, send) == "a"
        assert [e.message.method for e in got] == ["n2", "n3"]  # pyright: ignore[reportAttributeAccessIssue]
        assert await store.replay_events_after("not-an-event", send) is None
        await store.store_event("a", note[4])
        await store.store_event("a", note[5])
        assert len(store.events) == 5 and a0 not in store.events  # the oldest went
        assert len({*store.events}) == 5

    asyncio.run(scenario())


def test_http_options_refuse_non_positive_limits() -> None:
    import argparse

    base = {"http": "8080", "allow_remote": False, "token_file": None, "shared": False, "root": None, "allow_host": None}
    limits = {"grace_secs": None, "max_body_bytes": None, "sessions_per_token": None}
    opts = options_from(argparse.Namespace(**base, **limits))
    assert (opts.host, opts.port, opts.grace_secs, opts.sessions_per_token) == ("127.0.0.1", 8080, 300.0, 16)
    for name in limits:
        for bad in (0, -1):
            with pytest.raises(ValueError, match="must be positive"):
                options_from(argparse.Namespace(**base, **{**limits, name: bad}))


def test_accepted_connections_do_not_wait_for_delayed_acks() -> None:
    """TCP_NODELAY on the listener, so on what it accepts: without it a request's
    response waited ~40 ms for the client's delayed ACK."""
    import socket

    from agy_lsp.mcp.http import _listen  # pyright: ignore[reportPrivateUsage]

    listener = _listen("127.0.0.1", 0)
    client = socket.create_connection(listener.getsockname()[:2])
    accepted, _ = listener.accept()
    try:
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        for s in (accepted, client, listener):
            s.close()
