"""The bounds on a tool call's arguments, and the depth cut of harness records
(agy_lsp/sdk/tool_args.py): never raise, and bound what they say they bound."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agy_lsp.sdk import tool_args
from agy_lsp.sdk.tool_args import CUT, MAX_BYTES, MAX_DEPTH, cut_deep, depth, violation

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=60
)


def reference_depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((reference_depth(v) for v in value.values()), default=0)  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    if isinstance(value, list):
        return 1 + max((reference_depth(v) for v in value), default=0)  # pyright: ignore[reportUnknownVariableType]
    return 0


def nested(levels: int, leaf: Any = "x") -> Any:
    value = leaf
    for i in range(levels):
        value = [value] if i % 3 == 2 else {"a": value}
    return value


def as_record(value: Any) -> Any:
    """A JSON value as the harness sends it: a genai.Value."""
    if isinstance(value, dict):
        return {"structValue": {"fields": [{"name": k, "value": as_record(v)} for k, v in value.items()]}}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return {"listValue": {"values": [as_record(v) for v in value]}}  # pyright: ignore[reportUnknownVariableType]
    return {"stringValue": str(value)}


@given(json_values)
def test_depth_is_the_nesting_and_fine_arguments_pass(value: Any) -> None:
    assert depth(value, stop=10_000) == reference_depth(value)
    args = {"v": value}
    assert violation(args) is None  # shallow and small: hypothesis makes nothing near the bounds


@given(st.integers(min_value=MAX_DEPTH + 1, max_value=5000), json_values)
def test_arguments_nested_deeper_than_the_bound_are_refused_without_recursion(levels: int, leaf: Any) -> None:
    refused = violation({"note": nested(levels, leaf)})
    assert refused is not None and f"nested too deep (max {MAX_DEPTH})" in refused


def test_the_bounds_are_exact() -> None:
    assert violation(nested(MAX_DEPTH)) is None and violation(nested(MAX_DEPTH + 1)) is not None
    assert violation({"s": "x" * (MAX_BYTES - 100)}) is None
    refused = violation({"s": "x" * MAX_BYTES})
    assert refused is not None and f"max {MAX_BYTES}" in refused
    assert violation({"s": ["ok", {"x": CUT}]}) is not None, "a value cut from the record is refused"


@given(st.one_of(json_values, st.sets(st.integers()), st.builds(object), st.binary()))
def test_violation_never_raises(value: Any) -> None:
    result = violation(value)
    assert result is None or isinstance(result, str)


@given(st.text(max_size=200) | st.binary(max_size=200))
def test_cut_deep_never_raises_on_any_text(text: str | bytes) -> None:
    assert isinstance(cut_deep(text, limit=3), str)


@given(json_values)
def test_cut_deep_changes_nothing_within_the_limit(value: Any) -> None:
    text = json.dumps({"arguments": {"fields": [{"name": "v", "value": as_record(value)}]}})
    assert cut_deep(text) == text


@settings(max_examples=50)
@given(json_values, st.integers(min_value=4, max_value=30), st.integers(min_value=40, max_value=400))
def test_cut_deep_bounds_any_record_and_keeps_what_is_shallow(value: Any, limit: int, levels: int) -> None:
    record = {"first": as_record(value), "deep": as_record(nested(levels)), "text": "kept"}
    text = json.dumps(record) if levels < 200 else _dumps_deep(record)
    cut = json.loads(cut_deep(text, limit=limit))
    assert depth(cut, stop=10_000) <= limit + 4  # a cut Value sits within one Struct level of the limit
    assert cut["text"] == "kept"
    if reference_depth(record["first"]) + 1 <= limit:
        assert cut["first"] == record["first"]
    assert CUT in json.dumps(cut["deep"])


def _dumps_deep(value: Any) -> str:
    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20_000))
    try:
        return json.dumps(value)
    finally:
        sys.setrecursionlimit(old)


def test_the_cut_marker_is_not_json_syntax() -> None:
    assert json.loads(json.dumps(tool_args.CUT)) == CUT and "{" not in CUT and '"' not in CUT
