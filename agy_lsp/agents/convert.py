"""SDK (pydantic) objects -> wire Structs, field by field, without model_dump."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    return ToolCall(id=call.id or "", name=str(_value(call.name)), args=dict(call.args))


def tool_result(result: sdk.ToolResult) -> ToolResult:
    return ToolResult(id=result.id or "", name=str(_value(result.name)), result=_jsonable(result.result), error=result.error)


def step(s: sdk.Step) -> Step:
    return Step(
        id=s.id,
        index=s.step_index,
        type=s.type.value,
        source=s.source.value,
        target=s.target.value,
        status=s.status.value,
        content=s.content,
        thinking=s.thinking,
        tool_calls=[tool_call(c) for c in s.tool_calls],
        error=s.error,
        is_complete_response=s.is_complete_response,
        structured_output=_jsonable(s.structured_output),
        usage=usage(s.usage_metadata),
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
