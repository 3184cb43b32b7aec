"""Hypothesis against a running server per wire (LSP, ACP, MCP): random and
adversarial messages (broken JSON and UTF-8, batches, bare values, deep nesting,
ids of every JSON type, wrong `params` types for every method, random envelopes).

Properties, checked message by message (each is followed by a ping, and the
answers before the ping's are the message's): a request with an id gets exactly
one answer, with its id (or null when the id is unusable or could not be read)
and a documented code, never -32603; a notification or an answer gets none; the
server still serves a normal request; its RSS stays bounded."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.protocol.inbound import MAX_DEPTH
from tests.wire.wire import Wire

EXAMPLES = 2000
DOCUMENTED = {int(c) for c in ErrorCode} - {int(ErrorCode.INTERNAL_ERROR)}

# every method of each wire: sent with params of a wrong type only
METHODS = {
    "lsp": [
        "initialize",
        "shutdown",
        "exit",
        "initialized",
        "$/cancelRequest",
        "workspace/didChangeConfiguration",
        "agy/createAgent",
        "agy/configureAgent",
        "agy/chat",
        "agy/send",
        "agy/cancel",
        "agy/waitForIdle",
        "agy/waitForWakeup",
        "agy/status",
        "agy/history",
        "agy/usage",
        "agy/clearHistory",
        "agy/structuredOutput",
        "agy/listAgents",
        "agy/shutdownAgent",
        "agy/deleteAgent",
        "agy/disconnectAgent",
        "agy/resetPermissions",
        "agy/serverInfo",
        "agy/listSessions",
        "agy/exportSession",
    ],
    "acp": [
        "initialize",
        "authenticate",
        "session/new",
        "session/load",
        "session/set_mode",
        "session/set_config_option",
        "session/prompt",
        "session/cancel",
        "session/list",
        "session/delete",
        "session/fork",
        "session/resume",
        "session/close",
        "logout",
        "_agy/anything",
    ],
    "mcp": [
        "initialize",
        "ping",
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "resources/subscribe",
        "resources/unsubscribe",
        "prompts/list",
        "logging/setLevel",
        "completion/complete",
        "notifications/initialized",
        "notifications/cancelled",
        "notifications/progress",
    ],
}
# methods that do nothing lasting, whatever object they get: sent with random objects too
SAFE = {
    "lsp": ["agy/status", "agy/history", "agy/usage", "agy/listAgents", "agy/serverInfo", "agy/listSessions", "nope/x"],
    "acp": ["session/prompt", "session/load", "session/set_mode", "session/list", "session/cancel", "nope/x", "_agy/nope"],
    "mcp": ["ping", "tools/list", "resources/list", "resources/read", "tools/call", "prompts/list", "nope/x"],
}

ABSENT = object()

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
values = st.recursive(scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=10)
wrong_params = values.filter(lambda v: v is not None and not isinstance(v, dict))
any_id = st.one_of(st.integers(), st.text(max_size=8), values, st.just(ABSENT))


@dataclass
class Case:
    message: Any = ABSENT  # a JSON value to encode (its id made unique first)
    raw: bytes = b""  # or bytes as they are
    deep: int = 0  # or a request with `deep` levels of nesting in its params
    mutate: tuple[int, int] | None = None  # (position, byte) to overwrite after encoding


def envelope(mode: str) -> st.SearchStrategy[Any]:
    def build(jsonrpc: Any, msg_id: Any, method: Any, params: Any, extra: dict[str, Any]) -> dict[str, Any]:
        message = dict(extra)
        for key, value in (("jsonrpc", jsonrpc), ("id", msg_id), ("method", method), ("params", params)):
            if value is not ABSENT:
                message[key] = value
        return message

    jsonrpc = st.sampled_from(["2.0", "2.0", "2.0", "1.0", 2, None, ABSENT])
    extra = st.dictionaries(st.text(max_size=6).filter(lambda k: k not in ("jsonrpc", "id", "method", "params")), values, max_size=2)
    wrong_typed = st.builds(build, jsonrpc, any_id, st.sampled_from(METHODS[mode]), wrong_params, extra)
    safe = st.builds(
        build,
        jsonrpc,
        any_id,
        st.sampled_from(SAFE[mode]),
        st.dictionaries(st.text(max_size=8), values, max_size=4) | st.just(ABSENT),
        extra,
    )
    odd_method = st.builds(build, jsonrpc, any_id, values | st.just(ABSENT), values | st.just(ABSENT), extra)
    answer = st.builds(
        lambda i, r: {"jsonrpc": "2.0", "id": i, **r}, values, st.sampled_from([{"result": 1}, {"error": "x"}, {"error": {"code": 1}}])
    )
    return st.one_of(wrong_typed, safe, odd_method, answer)


def cases(mode: str) -> st.SearchStrategy[Case]:
    single = envelope(mode)
    mutation = st.tuples(st.integers(0, 10**6), st.integers(0, 255))
    return st.one_of(
        st.builds(Case, message=single),
        st.builds(Case, message=single, mutate=mutation),
        st.builds(Case, message=st.lists(single, max_size=3)),  # batches, the empty one included
        st.builds(Case, message=scalars),
        st.builds(Case, raw=st.binary(max_size=40)),
        st.builds(
            Case, raw=st.sampled_from([b"[", b"{", b'{"a":']).flatmap(lambda o: st.integers(MAX_DEPTH - 2, 3000).map(lambda d: o * d))
        ),
        st.builds(Case, deep=st.integers(MAX_DEPTH - 6, 3000)),
    )


def _unique(value: Any, n: int) -> Any:
    """A usable id made unique to this example (so a late second answer is caught)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return value
    if isinstance(value, int):
        return (n * 1000 + abs(value) % 1000) * (1 if value >= 0 else -1)
    return f"{value}#{n}"


def encode(case: Case, n: int, mode: str) -> tuple[bytes, Any]:
    """The body, and the id the request was sent with (ABSENT if none)."""
    msg_id: Any = ABSENT
    if case.deep:
        msg_id = n * 1000 + 7
        body = b'{"jsonrpc":"2.0","id":%d,"method":"%s","params":{"a":%s%s}}' % (
            msg_id,
            SAFE[mode][0].encode(),
            b"[" * case.deep,
            b"]" * case.deep,
        )
    elif case.message is not ABSENT:
        message = case.message
        if isinstance(message, dict) and "id" in message:
            message = {**message, "id": _unique(message["id"], n)}
            msg_id = message["id"]
        body = json.dumps(message).encode()
    else:
        body = case.raw
    if case.mutate is not None and body:
        at, byte = case.mutate
        at %= len(body)
        body = body[:at] + bytes([byte]) + body[at + 1 :]
    if mode != "lsp":
        body = body.replace(b"\n", b" ").replace(b"\r", b" ")  # one line is one message
    return body, msg_id


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("out of range")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(name)


def expected(body: bytes, sent_id: Any, mode: str) -> set[Any] | None:
    """None: no answer. Else exactly one answer, with one of these ids."""
    if mode != "lsp" and not body.strip():
        return None  # a blank line is no message
    usable = sent_id is not ABSENT and not isinstance(sent_id, bool) and isinstance(sent_id, (int, str))
    fallback = {None, sent_id} if usable else {None}
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_no_constants, parse_float=_finite)
        # Python's json takes an escaped lone surrogate ("\ud800 "); the server's decoder
        # (msgspec) refuses it: for the server that body is not JSON.
        msgspec.json.decode(body)
    except (ValueError, RecursionError, msgspec.DecodeError):
        return fallback
    if not isinstance(value, dict):
        return {None}
    has_id = "id" in value
    if "method" not in value and has_id and ("result" in value or "error" in value):
        return None  # an answer is never answered
    if isinstance(value.get("method"), str) and not has_id:
        return None  # a notification is never answered
    msg_id = value.get("id")
    ok = has_id and not isinstance(msg_id, bool) and isinstance(msg_id, (int, str))
    return {None, msg_id} if ok else {None}


def check_one(wire: Wire, case: Case, n: int) -> None:
    body, sent_id = encode(case, n, wire.mode)
    if wire.mode == "lsp":
        wire.send_raw(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    else:
        wire.send_raw(body + b"\n")
    answers = wire.ping()
    ping = answers.pop()
    assert "result" in ping, ping
    allowed = expected(body, sent_id, wire.mode)
    usable = {i for i in (allowed or set()) if i is not None}
    if usable and not answers:
        answers.append(wire.answers_until(next(iter(usable)), timeout=10)[-1])  # a handler still running
    shown = f"{body[:300]!r} -> {answers}"
    if allowed is None:
        assert answers == [], f"a notification or an answer was answered: {shown}"
        return
    assert len(answers) == 1, f"not exactly one answer: {shown}"
    (answer,) = answers
    assert answer.get("id") in allowed, f"wrong id: {shown}"
    if "error" in answer:
        assert answer["error"]["code"] in DOCUMENTED, f"undocumented code: {shown}"


def test_fuzzed_messages_get_one_documented_answer_each(wire: Wire) -> None:
    counter = itertools.count(1)
    rss_before = wire.rss_kb()

    @settings(max_examples=EXAMPLES, database=None, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(cases(wire.mode))
    def one(case: Case) -> None:
        check_one(wire, case, next(counter))

    one()
    assert wire.alive()
    assert "result" in wire.ping()[-1]
    grown_mb = (wire.rss_kb() - rss_before) / 1024
    assert grown_mb < 64, f"RSS grew by {grown_mb:.0f} MB"


header_junk = (
    st.binary(min_size=1, max_size=30)
    .map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
    .filter(lambda b: b.strip() != b"" and b"content-length" not in b.lower())
    .filter(lambda b: b.partition(b":")[0].strip().lower() not in (b"content-length", b"content-type"))
)
BAD_LENGTHS = [b"abc", b"-1", b"1e3", b"", b"0x10", b"12 34", b"\xff\xfe", b"99999999999999999999999x"]


@st.composite
def header_blocks(draw: st.DrawFn) -> tuple[list[Any], bool]:
    """Header lines as (kind, bytes) with the body's length left to fill in; whether valid."""
    lines: list[Any] = [("length", None)]
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["type", "length", "bad length", "junk", "utf8"]))
        if kind == "type":
            lines.append(("raw", draw(st.sampled_from([b"Content-Type: application/vscode-jsonrpc; charset=utf-8", b"content-type:x"]))))
        elif kind == "length":
            lines.append(("length", None))
        elif kind == "bad length":
            lines.append(("raw", b"Content-Length: " + draw(st.sampled_from(BAD_LENGTHS))))
        elif kind == "junk":
            lines.append(("raw", draw(header_junk)))
        else:
            lines.append(("raw", "Ünïcødé: ✓".encode() if draw(st.booleans()) else b"\xc3\x28: \xa0\xa1"))
    lines = draw(st.permutations(lines))
    valid = all(k == "length" or v.lower().startswith(b"content-type") for k, v in lines)
    return lines, valid


def test_fuzzed_lsp_header_blocks_are_answered_once_and_resynced(wire: Wire) -> None:
    """Valid blocks carry their request through; any broken one gets one -32600
    (id null) and its body is dropped while the reader resyncs."""
    if wire.mode != "lsp":
        pytest.skip("ND-JSON has no headers")
    counter = itertools.count(10**7)

    @settings(max_examples=EXAMPLES // 3, database=None, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(header_blocks(), st.sampled_from([b"\r\n", b"\n"]))
    def one(block: tuple[list[Any], bool], eol: bytes) -> None:
        lines, valid = block
        msg_id = next(counter)
        body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": "agy/serverInfo", "params": {}}).encode()
        head = b"".join((b"Content-Length: %d" % len(body) if k == "length" else v) + eol for k, v in lines)
        wire.send_raw(head + eol + body)
        answers = wire.ping()[:-1]
        if valid:
            assert [(a["id"], "result" in a) for a in answers] == [(msg_id, True)], (head, answers)
        else:
            assert [(a["id"], a["error"]["code"]) for a in answers] == [(None, -32600)], (head, answers)

    one()
    assert "result" in wire.ping()[-1]
