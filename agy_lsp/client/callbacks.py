"""Plain Python callables as confirmation handlers, editor tools and hooks.

Each may be sync or async. Sync ones run inline on the event loop, so keep them
quick (or make them async).
"""

from __future__ import annotations

import inspect
import logging
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Union

import msgspec

from agy_lsp.protocol.types import (
    ConfirmToolCallParams,
    ConfirmToolCallResult,
    EditorTool,
    HookParams,
    HookPoint,
    HookResult,
    RunToolParams,
    RunToolResult,
)

log = logging.getLogger(__name__)

ConfirmHandler = Callable[[ConfirmToolCallParams], Any]
"""Returns True / False, an option id or kind ("allow_once", "allow_always",
"reject_once", "reject_always", "cancelled"), or a `ConfirmToolCallResult`."""

HookHandler = Callable[[HookParams], Any]
"""Returns a `HookResult`, a bool (allow), a dict, or None (allow)."""

# Hook points the server asks about (a request); the others are only notified.
DECIDE_POINTS: frozenset[str] = frozenset({"preTurn", "preToolCall", "onToolError", "onInteraction"})


async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Calls a sync or async callable and returns its result."""
    result = fn(*args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


# ---------------------------------------------------------------------------- confirmations

_ALIASES = {
    "allow": "allow_once",
    "yes": "allow_once",
    "y": "allow_once",
    "always": "allow_always",
    "a": "allow_always",
    "deny": "reject_once",
    "reject": "reject_once",
    "no": "reject_once",
    "n": "reject_once",
    "never": "reject_always",
}


def confirm_outcome(answer: Any) -> ConfirmToolCallResult:
    """A handler's answer -> the wire result. Anything unclear rejects."""
    if isinstance(answer, ConfirmToolCallResult):
        return answer
    if isinstance(answer, bool):
        return ConfirmToolCallResult(outcome="allow_once" if answer else "reject_once")
    if isinstance(answer, str) and answer:
        return ConfirmToolCallResult(outcome=_ALIASES.get(answer.lower(), answer))
    return ConfirmToolCallResult(outcome="reject_once")


async def run_confirm(handler: ConfirmHandler | None, params: ConfirmToolCallParams) -> ConfirmToolCallResult:
    if handler is None:
        return ConfirmToolCallResult(outcome="reject_once")
    try:
        return confirm_outcome(await call(handler, params))
    except Exception:
        log.exception("the confirmation handler failed; rejecting the tool call")
        return ConfirmToolCallResult(outcome="reject_once")


# ---------------------------------------------------------------------------- hooks


def hook_result(answer: Any) -> HookResult:
    if isinstance(answer, HookResult):
        return answer
    if answer is None:
        return HookResult()
    if isinstance(answer, bool):
        return HookResult(allow=answer)
    if isinstance(answer, Mapping):
        return msgspec.convert(dict(answer), HookResult)  # pyright: ignore[reportUnknownArgumentType]
    return HookResult(answer=answer)


def hook_points(hooks: Mapping[HookPoint, HookHandler] | None) -> list[HookPoint]:
    return list(hooks or {})


# ---------------------------------------------------------------------------- editor tools


@dataclass(frozen=True)
class ClientTool:
    """An editor tool: the spec the model sees plus the Python function that runs it."""

    spec: EditorTool
    fn: Callable[..., Any]

    @property
    def name(self) -> str:
        return self.spec.name

    def _coerce(self, args: dict[str, Any]) -> dict[str, Any]:
        """JSON numbers may arrive as floats (2.0); give "integer" parameters ints."""
        props: Any = self.spec.parameters.get("properties")
        if not isinstance(props, dict):
            return args
        known: dict[str, Any] = props  # pyright: ignore[reportUnknownVariableType]
        out = dict(args)
        for key, value in args.items():
            prop: Any = known.get(key)
            kind: Any = prop.get("type") if isinstance(prop, dict) else None  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            if kind == "integer" and isinstance(value, float) and value.is_integer():
                out[key] = int(value)
        return out

    async def run(self, params: RunToolParams) -> RunToolResult:
        try:
            value = await call(self.fn, **self._coerce(params.tool_call.args))
        except Exception as e:
            return RunToolResult(error=f"{type(e).__name__}: {e}")
        if isinstance(value, RunToolResult):
            return value
        return RunToolResult(content=value)


def editor_tool(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    parameters: dict[str, Any] | None = None,
    timeout_secs: float | None = None,
) -> ClientTool:
    """A `ClientTool` from a function: name, description and JSON schema come from
    its name, docstring and signature unless given."""
    spec = EditorTool(
        name=name or fn.__name__,
        description=description if description is not None else inspect.cleandoc(fn.__doc__ or ""),
        parameters=parameters if parameters is not None else schema_of(fn),
        timeout_secs=timeout_secs,
    )
    return ClientTool(spec, fn)


def as_tool(tool: ClientTool | Callable[..., Any]) -> ClientTool:
    return tool if isinstance(tool, ClientTool) else editor_tool(tool)


_JSON_TYPES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}


def _json_type(annotation: Any) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _json_type(options[0]) if len(options) == 1 else {}
    if origin is not None:
        annotation = origin
    kind = _JSON_TYPES.get(annotation)
    return {"type": kind} if kind else {}


def schema_of(fn: Callable[..., Any]) -> dict[str, Any]:
    """A JSON schema for a function's keyword arguments, from its annotations."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        hints = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        properties[param.name] = _json_type(hints.get(param.name, Any))
        if param.default is param.empty:
            required.append(param.name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema
