"""SDK (pydantic) objects -> wire Structs, field by field, without model_dump."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agy_lsp.agents.mcp import call_args, qualified_name
from agy_lsp.agents.secrets import scrub_known
from agy_lsp.protocol.types import Step, ToolCall, ToolResult, Usage

if TYPE_CHECKING:
    from google.antigravity import types as sdk


def usage(u: sdk.UsageMetadata | None) -> Usage | None:
    if u is None:
        return None
    return Usage(
        prompt_tokens=u.prompt_token_count or 0,
        cached_tokens=u.cached_content_token_count or 0,
        candidates_tokens=u.candidates_token_count or 0,
        thoughts_tokens=u.thoughts_token_count or 0,
        total_tokens=u.total_token_count or 0,
    )


def tool_call(call: sdk.ToolCall) -> ToolCall:
    """MCP tools are named `server/tool` (see agents/mcp.py)."""
    server = call.server_name
    return ToolCall(id=call.id or "", name=qualified_name(str(_value(call.name)), server), args=call_args(dict(call.args), server))


def tool_result(result: sdk.ToolResult) -> ToolResult:
    error = scrub_known(result.error) if result.error else result.error
    name = qualified_name(str(_value(result.name)), result.server_name)
    return ToolResult(id=result.id or "", name=name, result=_jsonable(result.result), error=error)


def step(s: sdk.Step) -> Step:
    """The hot path of agy/history (10k steps in one request). Fields are read from
    the model's `__dict__`: `usage_metadata` is a deprecated pydantic field whose
    attribute access goes through the warnings machinery on every call (a third of
    the time of this function), and enums are read by `_value_` instead of the
    slower `value` property."""
    d = s.__dict__
    calls = d["tool_calls"]
    u = d.get("usage_metadata")
    structured = d.get("structured_output")
    return Step(
        id=d["id"],
        index=d["step_index"],
        type=d["type"]._value_,
        source=d["source"]._value_,
        target=d["target"]._value_,
        status=d["status"]._value_,
        content=scrub_known(d["content"]),
        thinking=d["thinking"],
        tool_calls=[tool_call(c) for c in calls] if calls else [],
        error=scrub_known(d["error"]) if d["error"] else "",
        is_complete_response=d.get("is_complete_response"),
        structured_output=structured if structured is None else _jsonable(structured),
        usage=None if u is None else usage(u),
    )


def _value(x: Any) -> Any:
    return getattr(x, "value", x)


def _jsonable(x: Any) -> Any:
    if x is None or isinstance(x, (str, int, float, bool)):
        return x
    if hasattr(x, "model_dump"):
        return x.model_dump(mode="json")
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]  # pyright: ignore[reportUnknownVariableType]
    return str(x)

