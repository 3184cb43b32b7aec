"""Issue #25, defects 6 and 7, on all three wires: each class of malformed message
gets exactly one answer with its documented code (docs/reliability.md, "Hostile
input"), a malformed notification gets none, and the server answers the next
request. Before the gates an array or a bare value killed the ACP server, deep
JSON killed the LSP server, and ACP and MCP answered none of these."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agy_lsp.protocol.inbound import MAX_DEPTH, MAX_MESSAGE_BYTES
from tests.wire.wire import ANSWER_CODES, Wire

# a method of each wire that takes an object
METHOD = {"lsp": "agy/status", "acp": "session/prompt", "mcp": "tools/call"}

DEEP = b"[" * 1000 + b"]" * 1000
DROPPED = "dropped a malformed message"


def hostile(mode: str) -> list[tuple[str, bytes, int | None, Any]]:
    """(case, body, the code of the one answer or None for no answer, the answer's id)."""
    method = METHOD[mode]

    def msg(**fields: Any) -> bytes:
        return json.dumps({"jsonrpc": "2.0", **fields}).encode()

    nested: Any = {}
    for _ in range(MAX_DEPTH + 5):
        nested = {"a": nested}
    return [
        ("invalid JSON", b"{not json", -32700, None),
        ("truncated JSON", msg(id=1, method=method)[:-3], -32700, None),
        ("invalid UTF-8", b'{"jsonrpc": "2.0", "id": 1, "method": "\xff\xfe"}', -32700, None),
        ("empty batch", b"[]", -32600, None),
        ("batch", b"[" + msg(id=2, method=method, params={}) + b"]", -32600, None),
        ("batch of notifications", b"[" + msg(method="x") + b"," + msg(method="y") + b"]", -32600, None),
        ("number", b"42", -32600, None),
        ("string", b'"s"', -32600, None),
        ("null", b"null", -32600, None),
        ("true", b"true", -32600, None),
        ("1000-deep arrays", DEEP, -32600, None),
        ("1000-deep params", b'{"jsonrpc":"2.0","id":3,"method":"x","params":{"a":' + DEEP + b"}}", -32600, None),
        (f"{MAX_DEPTH + 5}-deep params", msg(id=4, method=method, params=nested), -32600, 4),
        ("params a number", msg(id=5, method=method, params=5), -32602, 5),
        ("params a string", msg(id=6, method=method, params="s"), -32602, 6),
        ("params an array", msg(id=7, method=method, params=[1]), -32602, 7),
        ("params true", msg(id="eight", method=method, params=True), -32602, "eight"),
        ("wrong jsonrpc", json.dumps({"jsonrpc": "1.0", "id": 9, "method": method, "params": {}}).encode(), -32600, 9),
        ("no jsonrpc", json.dumps({"id": 10, "method": method, "params": {}}).encode(), -32600, 10),
        ("method a number", msg(id=11, method=5), -32600, 11),
        ("no method", msg(id=12), -32600, 12),
        ("empty object", b"{}", -32600, None),
        ("id an array", msg(id=[1], method=method, params={}), -32600, None),
        ("id an object", msg(id={"a": 1}, method=method, params={}), -32600, None),
        ("id a float", msg(id=1.5, method=method, params={}), -32600, None),
        ("id true", msg(id=True, method=method, params={}), -32600, None),
        ("id null", msg(id=None, method=method, params={}), -32600, None),
        ("notification, params a number", msg(method=method, params=5), None, None),
        ("notification, params an array", msg(method=method, params=[1]), None, None),
        ("notification, too deep", msg(method=method, params=nested), None, None),
        ("notification, wrong jsonrpc", json.dumps({"jsonrpc": "1.0", "method": method}).encode(), None, None),
        ("answer to nothing", msg(id=424242, result={}), None, None),
        ("answer with an array id", msg(id=[1], result=1), None, None),
        ("answer with a string error", msg(id=0, error="boom"), None, None),
    ]


def exchange(wire: Wire, body: bytes) -> list[dict[str, Any]]:
    """Sends `body`, then a ping; the answers that came before the ping's."""
    wire.send_raw(wire.frame(body))
    answers = wire.ping()
    assert "result" in answers[-1], answers[-1]
    return answers[:-1]


@pytest.mark.parametrize("case", range(len(hostile("lsp"))), ids=[c[0] for c in hostile("lsp")])
def test_each_malformed_message_gets_one_documented_answer(wire: Wire, case: int) -> None:
    name, body, code, msg_id = hostile(wire.mode)[case]
    dropped = wire.stderr_text().count(DROPPED)
    answers = exchange(wire, body)
    if code is None:
        assert answers == [], f"{name}: a notification or an answer is never answered: {answers}"
        if name != "answer to nothing":  # well-formed: the library ignores it
            assert wire.stderr_text().count(DROPPED) == dropped + 1, f"{name}: not logged"
    else:
        assert len(answers) == 1, f"{name}: {answers}"
        (answer,) = answers
        assert answer["id"] == msg_id and answer["error"]["code"] == code, f"{name}: {answer}"
        assert answer["error"]["data"]["code"] in {"PARSE_ERROR", "INVALID_REQUEST", "INVALID_PARAMS"}
    assert wire.alive()


def test_a_request_after_all_of_them_is_served(wire: Wire) -> None:
    for _, body, _, _ in hostile(wire.mode):
        wire.send_raw(wire.frame(body))
    answers = wire.ping()
    assert "result" in answers[-1]
    expected = sum(1 for c in hostile(wire.mode) if c[2] is not None)
    assert len(answers) - 1 == expected, answers
    assert all(a["error"]["code"] in ANSWER_CODES for a in answers[:-1])


def test_an_oversized_message_is_refused_and_skipped_without_holding_it(wire: Wire) -> None:
    """A message over MAX_MESSAGE_BYTES: one -32600, the stream resyncs after it, and
    the server never holds more than about the limit (not three times it)."""
    before = wire.rss_kb()
    size = 3 * MAX_MESSAGE_BYTES
    body = b'{"jsonrpc":"2.0","id":1,"method":"x","params":{"s":"' + b"x" * size + b'"}}'
    answers = exchange(wire, body)
    assert [(a["id"], a["error"]["code"]) for a in answers] == [(None, -32600)], answers
    grown_mb = (wire.rss_kb() - before) / 1024
    assert grown_mb < 2.5 * MAX_MESSAGE_BYTES / 2**20, f"RSS grew by {grown_mb:.0f} MB for a {size >> 20} MB message"


def test_a_large_legitimate_message_passes(wire: Wire) -> None:
    """8 MB of text in a request is within the limit and is served normally."""
    big = "y" * (8 * 1024 * 1024)
    method, params = {
        "lsp": ("agy/status", {"agentId": big}),
        "acp": ("initialize", {"protocolVersion": 1, "_meta": {"big": big}}),
        "mcp": ("ping", {"_meta": {"big": big}}),
    }[wire.mode]
    answer = wire.request(method, params)
    if wire.mode == "lsp":
        assert answer["error"]["code"] == -32001  # agent not found: the request was read
    else:
        assert "result" in answer, str(answer)[:300]
