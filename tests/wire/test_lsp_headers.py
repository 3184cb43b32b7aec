"""LSP framing: a broken header block is answered once (-32600, id null) and the
reader resyncs on the next Content-Length header; nothing is held whole."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agy_lsp.protocol.inbound import MAX_MESSAGE_BYTES
from tests.wire.wire import Wire

BROKEN = [
    ("no Content-Length", b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"),
    ("garbled Content-Length", b"Content-Length: twelve\r\n\r\n{}"),
    ("negative Content-Length", b"Content-Length: -5\r\n\r\n"),
    ("a line that is no header", b"Garbage-Header\r\n\r\n"),
    ("an unknown header", b"X-Thing: 1\r\nContent-Length: 2\r\n\r\n{}"),
    ("non-UTF-8 header", b"Content-Length: \xff\xfe\r\n\r\n"),
    ("a 2 MB header line", b"Content-Type: " + b"x" * (2 << 20) + b"\r\n\r\n"),
    ("40 header lines", b"Content-Type: a\r\n" * 40 + b"\r\n"),
    ("junk with no newline", b"\x00\x01junk junk"),
]


@pytest.fixture(scope="module")
def lsp() -> Iterator[Wire]:
    server = Wire("lsp")
    try:
        server.handshake()
        yield server
    finally:
        assert server.close() == 0


@pytest.mark.parametrize("raw", [b for _, b in BROKEN], ids=[n for n, _ in BROKEN])
def test_a_broken_header_block_is_answered_once_and_the_stream_resyncs(lsp: Wire, raw: bytes) -> None:
    lsp.send_raw(raw)
    answers = lsp.ping()
    assert "result" in answers[-1]
    assert [(a["id"], a["error"]["code"]) for a in answers[:-1]] == [(None, -32600)], answers


def test_stray_blank_lines_between_frames_are_harmless(lsp: Wire) -> None:
    lsp.send_raw(b"\r\n\r\n\n")
    assert len(lsp.ping()) == 1


def test_a_body_that_is_not_utf8_is_a_parse_error(lsp: Wire) -> None:
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "agy/status", "params": {"agentId": "\xc3\x28"}}'
    lsp.send_raw(lsp.frame(body))
    answers = lsp.ping()
    assert [(a["id"], a["error"]["code"]) for a in answers[:-1]] == [(None, -32700)], answers


def test_a_declared_length_over_the_limit_is_answered_at_once_and_skipped() -> None:
    """Answered before the body comes (it may never come); the declared bytes are
    then skipped as they arrive, 1 MB at a time, never buffered."""
    server = Wire("lsp")
    try:
        server.handshake()
        length = MAX_MESSAGE_BYTES + 1
        server.send_raw(b"Content-Length: %d\r\n\r\n" % length)
        answer = server.answer(10)
        assert answer is not None and answer["id"] is None and answer["error"]["code"] == -32600, answer
        server.send_raw(b"z" * length)
        assert "result" in server.ping()[-1]
        # Measured on a second one: by now the core and the SDK (imported in a worker
        # thread once initialize is answered, ~40 MB) have loaded, which is not this.
        server.send_raw(b"Content-Length: %d\r\n\r\n" % length)
        assert (answer := server.answer(10)) is not None and answer["error"]["code"] == -32600, answer
        before = server.rss_kb()
        server.send_raw(b"z" * length)
        assert "result" in server.ping()[-1]
        assert (server.rss_kb() - before) < 32 * 1024
        server.send_raw(b"Content-Length: 999999999999\r\n\r\n")
        answer = server.answer(10)
        assert answer is not None and answer["error"]["code"] == -32600
        assert server.alive()
    finally:
        assert server.close() == 0
