"""SDK (pydantic) objects -> wire Structs, field by field, without model_dump.

Tool calls in history carry the id the running turn gave them (`Labels`), so
`agy/history` shows the same ids as the live messages did.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Any

import msgspec
from google.antigravity import types as sdk

from agy_lsp.protocol.mcp_names import qualified_name
from agy_lsp.protocol.types import Step, ToolCall, ToolResult, Usage
from agy_lsp.sdk import internals
from agy_lsp.secrets import scrub_known

# A tool call's wire identity: (id, the model's call id when it is not the id).
Ident = tuple[str, str | None]


class Labels:
    """The ids turns gave tool calls, for history.

    The SDK's history holds the step objects it streamed, plus re-read copies after a
    wake-up or restart. A streamed step's call is known by its step id
    (`<trajectory>:<index>`, unique across conversations, so one book serves every
    agent of the process and survives restarts); a custom tool's own step (the SDK
    gives it no step id) by the call object itself. Steps from before a server
    restart fall back to the SDK's ids (docs/protocol.md#tool-call-ids).
    """

    def __init__(self, cap: int = 100_000) -> None:
        self._by_step: OrderedDict[str, Ident] = OrderedDict()
        self._by_object: dict[int, Ident] = {}
        self._cap = cap

    def label(self, key: Any, ident: Ident) -> None:
        if isinstance(key, str):
            self._by_step[key] = ident
            self._by_step.move_to_end(key)
            while len(self._by_step) > self._cap:
                self._by_step.popitem(last=False)
        elif key is not None and id(key) not in self._by_object:
            self._by_object[id(key)] = ident
            weakref.finalize(key, self._by_object.pop, id(key), None)

    def of(self, call: sdk.ToolCall) -> Ident:
        d = internals.step_fields(call)
        step_id: str | None = d["step_id"]
        known = self._by_object.get(id(call)) or (self._by_step.get(step_id) if step_id else None)
        return known or (d["id"] or step_id or "", None)


labels = Labels()


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


def tool_name(call: sdk.ToolCall | sdk.ToolResult) -> str:
    """MCP tools are named `server/tool` on our wire."""
    return qualified_name(str(getattr(call.name, "value", call.name)), call.server_name)


def tool_call(call: sdk.ToolCall, ident: Ident | None = None) -> ToolCall:
    call_id, model_id = ident or labels.of(call)
    return ToolCall(id=call_id, name=tool_name(call), args=call_args(dict(call.args), call.server_name), call_id=model_id)


def tool_result(result: sdk.ToolResult, ident: Ident) -> ToolResult:
    error = scrub_known(result.error) if result.error else result.error
    return ToolResult(id=ident[0], name=tool_name(result), result=jsonable(result.result), error=error, call_id=ident[1])


def step(s: sdk.Step) -> Step:
    """The hot path of agy/history (10k steps in one request)."""
    d = internals.step_fields(s)
    calls = d["tool_calls"]
    u = d.get("usage_metadata")
    structured = d.get("structured_output")
    value = internals.enum_value
    return Step(
        id=d["id"],
        index=d["step_index"],
        type=value(d["type"]),
        source=value(d["source"]),
        target=value(d["target"]),
        status=value(d["status"]),
        content=scrub_known(d["content"]),
        thinking=d["thinking"],
        tool_calls=[tool_call(c) for c in calls] if calls else [],
        error=scrub_known(d["error"]) if d["error"] else "",
        is_complete_response=d.get("is_complete_response"),
        structured_output=structured if structured is None else jsonable(structured),
        usage=None if u is None else usage(u),
    )


def latest_snapshots(steps: list[sdk.Step]) -> list[sdk.Step]:
    """The SDK keeps every snapshot of a step as it streams; a client wants each step
    once, as it ended, in the order the steps began. A custom tool's step is the SDK's
    one-off step named by the model's call id, which a model may repeat: never merged."""
    latest: dict[Any, sdk.Step] = {}
    for s in steps:
        calls = s.tool_calls
        one_off = bool(calls) and not calls[0].step_id
        latest[object() if one_off or not s.id else s.id] = s  # re-assigning keeps the first position
    return list(latest.values())


# The arguments of the harness's generic MCP tool `call_mcp_tool`.
_LAZY_KEYS = frozenset({"ServerName", "ToolName", "Arguments"})


def call_args(args: dict[str, Any], server_name: str | None) -> dict[str, Any]:
    """An MCP tool's own arguments. Through the lazy `call_mcp_tool` the harness
    reports the wrapper's arguments (`ServerName`, `ToolName`, `Arguments`); the
    streamed step already carries the tool's own."""
    if not server_name or not _LAZY_KEYS <= args.keys():
        return args
    inner = args["Arguments"]
    if isinstance(inner, str):
        try:
            inner = msgspec.json.decode(inner)
        except msgspec.DecodeError:
            return args
    return dict(inner) if isinstance(inner, dict) else args  # pyright: ignore[reportUnknownArgumentType]


def jsonable(x: Any) -> Any:
    """Any SDK value as plain JSON data."""
    if x is None or isinstance(x, (str, int, float, bool)):
        return x
    if hasattr(x, "model_dump"):
        return x.model_dump(mode="json")
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]  # pyright: ignore[reportUnknownVariableType]
    return str(x)
