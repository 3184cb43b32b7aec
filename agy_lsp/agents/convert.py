"""SDK (pydantic) objects -> wire Structs, field by field, without model_dump."""

from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from agy_lsp.agents.mcp import call_args, qualified_name
from agy_lsp.agents.secrets import scrub_known
from agy_lsp.protocol.types import Step, ToolCall, ToolResult, Usage

if TYPE_CHECKING:
    from google.antigravity import types as sdk

# A tool call's wire identity: (id, the model's call id when it is not the id).
Ident = tuple[str, str | None]


class _KnownIds:
    """The ids the running turns gave tool calls (agents/chunks.py `ToolIds`), so that
    `agy/history` shows the same ids as the live messages did.

    The SDK's history holds the very step objects it streamed, plus re-read copies
    after a wake-up or restart. A streamed step's tool call is known by its step id
    (`<trajectory>:<index>`, unique across conversations), which also covers the
    re-read copies while this process lives; a custom tool's own step (the SDK gives
    it no step id) is known by the object itself. Steps from before a server restart
    fall back to the SDK's ids (see docs/protocol.md#tool-call-ids).
    """

    def __init__(self, cap: int = 100_000) -> None:
        self._by_step: OrderedDict[str, Ident] = OrderedDict()
        self._by_object: dict[int, Ident] = {}
        self._cap = cap

    def remember_step(self, step_id: str, ident: Ident) -> None:
        self._by_step[step_id] = ident
        self._by_step.move_to_end(step_id)
        while len(self._by_step) > self._cap:
            self._by_step.popitem(last=False)

    def remember_call(self, call: sdk.ToolCall, ident: Ident) -> None:
        key = id(call)
        if key not in self._by_object:
            self._by_object[key] = ident
            weakref.finalize(call, self._by_object.pop, key, None)

    def of(self, call: sdk.ToolCall) -> Ident:
        d = call.__dict__
        step_id: str | None = d["step_id"]
        known = self._by_object.get(id(call)) or (self._by_step.get(step_id) if step_id else None)
        return known or (d["id"] or step_id or "", None)


known_ids = _KnownIds()


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


def tool_call(call: sdk.ToolCall, ident: Ident | None = None) -> ToolCall:
    """MCP tools are named `server/tool` (see agents/mcp.py). Without `ident`, the id
    a turn gave this call, else the SDK's."""
    server = call.server_name
    call_id, model_id = ident or known_ids.of(call)
    name = qualified_name(str(_value(call.name)), server)
    return ToolCall(id=call_id, name=name, args=call_args(dict(call.args), server), call_id=model_id)


def tool_result(result: sdk.ToolResult, ident: Ident | None = None) -> ToolResult:
    error = scrub_known(result.error) if result.error else result.error
    name = qualified_name(str(_value(result.name)), result.server_name)
    call_id, model_id = ident or (result.id or result.step_id or "", None)
    return ToolResult(id=call_id, name=name, result=_jsonable(result.result), error=error, call_id=model_id)


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
