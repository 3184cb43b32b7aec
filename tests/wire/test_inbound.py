"""The check every inbound message passes (agy_lsp/protocol/inbound.py), in process:
it never raises, whatever the bytes, and lets through only well-formed objects."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agy_lsp.protocol.inbound import MAX_DEPTH, Rejection, check, read_line

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["jsonrpc", "id", "method", "params", "result", "error", "x"]), c),
    max_leaves=30,
)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


@settings(max_examples=1500, database=None)
@given(st.one_of(st.binary(max_size=60), values.map(lambda v: json.dumps(v).encode()), st.integers(0, 5000).map(lambda d: b"[" * d)))
def test_check_never_raises_and_passes_only_well_formed_objects(body: bytes) -> None:
    result = check(body)
    if isinstance(result, Rejection):
        assert result.code in (-32700, -32600, -32602)
        json.loads(result.frame())
        return
    assert result["jsonrpc"] == "2.0" and depth(result) <= MAX_DEPTH
    if "method" in result:
        assert isinstance(result["method"], str)
        assert result.get("params") is None or isinstance(result["params"], dict)
        if "id" in result:
            assert isinstance(result["id"], (int, str)) and not isinstance(result["id"], bool)
    else:
        assert "id" in result and ("result" in result or "error" in result)


async def test_read_line_skips_an_oversized_line_and_goes_on() -> None:
    reader = asyncio.StreamReader(limit=1024)
    reader.feed_data(b"x" * 5000 + b"\n" + b'{"a": 1}\n\n  \n' + b"y" * 3000)
    reader.feed_eof()
    first = await read_line(reader)
    assert isinstance(first, Rejection) and first.code == -32600
    assert await read_line(reader) == b'{"a": 1}'
    assert isinstance(await read_line(reader), Rejection)  # the unterminated tail, over the reader's limit
    assert await read_line(reader) is None
