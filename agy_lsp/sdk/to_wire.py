"""SDK (pydantic) objects -> wire Structs, field by field, without model_dump.

Tool calls in history carry the id and name the running turn gave them (`Labels`),
so `agy/history` shows the same ids and names as the live messages did.
"""

from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict, deque
from typing import Any

import msgspec
from google.antigravity import types as sdk

from agy_lsp.protocol.mcp_names import qualified_name
from agy_lsp.protocol.types import Step, ToolCall, Usage
from agy_lsp.sdk import internals
from agy_lsp.secrets import scrub_known

# `LiveAgent.label` key for a call its step does not carry (a call the harness ran
# without hooks, or refused as invalid): history shows the call on that step.
STANDALONE = "standalone"


class Labels:
    """The ids and names turns gave tool calls, for history.

    The SDK's history holds the step objects it streamed, plus re-read copies after a
    wake-up or restart. A streamed step's call is known by its step id
    (`<trajectory>:<index>`, unique across conversations, so one book serves every
    agent of the process and survives restarts); a custom tool's own step (the SDK
    gives it no step id) by the call object itself; a call the step does not carry
    at all by `(STANDALONE, step id)`. Steps from before a server restart fall back to
    the SDK's ids and names (docs/protocol.md#tool-call-ids).
    """

    def __init__(self, cap: int = 100_000) -> None:
        self._by_step: OrderedDict[str, ToolCall] = OrderedDict()
        self._standalone: OrderedDict[str, ToolCall] = OrderedDict()
        self._by_object: dict[int, ToolCall] = {}
        self._cap = cap
        # What changed, for converted history that shows it (sdk/history.py): the
        # label's dependency key (see `deps`) per generation, the latest `cap`.
        self.generation = 0
        self._log: deque[Any] = deque(maxlen=cap)

    def label(self, key: Any, call: ToolCall) -> None:
        if isinstance(key, tuple) and len(key) == 2 and key[0] == STANDALONE:  # pyright: ignore[reportUnknownArgumentType]
            self._remember(self._standalone, str(key[1]), call)  # pyright: ignore[reportUnknownArgumentType]
            dep: Any = (STANDALONE, str(key[1]))  # pyright: ignore[reportUnknownArgumentType]
        elif isinstance(key, str):
            self._remember(self._by_step, key, call)
            dep = key
        elif key is not None:
            if id(key) not in self._by_object:
                weakref.finalize(key, self._by_object.pop, id(key), None)
            self._by_object[id(key)] = call
            dep = id(key)
        else:
            return
        self.generation += 1
        self._log.append(dep)

    def changed_since(self, generation: int) -> list[Any] | None:
        """The dependency keys labelled after `generation`; None when the log no longer reaches back."""
        new = self.generation - generation
        if new > len(self._log):
            return None
        return list(itertools.islice(reversed(self._log), new))[::-1]

    def _remember(self, book: OrderedDict[str, ToolCall], key: str, call: ToolCall) -> None:
        book[key] = call
        book.move_to_end(key)
        while len(book) > self._cap:
            book.popitem(last=False)

    def of(self, call: sdk.ToolCall) -> ToolCall | None:
        step_id: str | None = internals.step_fields(call)["step_id"]
        return self._by_object.get(id(call)) or (self._by_step.get(step_id) if step_id else None)

    def standalone(self, step_id: str) -> ToolCall | None:
        return self._standalone.get(step_id)


def deps(s: sdk.Step) -> list[Any]:
    """The label keys a step's conversion reads (`Labels.of`, `Labels.standalone`)."""
    d = internals.step_fields(s)
    calls = d["tool_calls"]
    if not calls:
        return [(STANDALONE, d["id"])] if d["id"] else []
    out: list[Any] = []
    for c in calls:
        out.append(id(c))
        step_id = internals.step_fields(c)["step_id"]
        if step_id:
            out.append(step_id)
    return out


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


# The harness offers the model some built-ins under other names than the SDK's hooks,
# policies and steps use (google-antigravity 0.1.22, measured: tests/e2e/test_builtin_tools.py).
# On our wire a call is named as the model called it.
MODEL_NAMES = {
    "create_file": "write_to_file",
    "edit_file": "replace_file_content",
    "find_file": "find_by_name",
    "search_directory": "grep_search",
    "list_directory": "list_dir",
}
SDK_NAMES = {model: sdk_name for sdk_name, model in MODEL_NAMES.items()}
# The step the harness streams for a call, by the SDK's name of its tool, where it is
# not the tool's own: a file the model writes streams as an `edit_file` step.
STREAMED_AS = {"create_file": "edit_file"}


def sdk_name(call: sdk.ToolCall | sdk.ToolResult) -> str:
    return str(getattr(call.name, "value", call.name))


def tool_name(call: sdk.ToolCall | sdk.ToolResult) -> str:
    """The name the model called: MCP tools are `server/tool`; a built-in the SDK
    names otherwise gets the model's name back (`create_file` -> `write_to_file`)."""
    name = sdk_name(call)
    return qualified_name(name, call.server_name) if call.server_name else model_name(name)


def model_name(name: str) -> str:
    return MODEL_NAMES.get(name, name)


def step_tool_name(call: sdk.ToolCall) -> str:
    """A streamed step's tool, named without its call: an `edit_file` step stands for
    `write_to_file` or `replace_file_content` alike, so it keeps the SDK's name."""
    name = sdk_name(call)
    if call.server_name:
        return qualified_name(name, call.server_name)
    return name if name in STREAMED_AS.values() else model_name(name)


def tool_call(call: sdk.ToolCall) -> ToolCall:
    args = call_args(dict(call.args), call.server_name)
    known = labels.of(call)
    if known is not None:  # a step without the call's arguments (invoke_subagent's) shows the model's
        return ToolCall(id=known.id, name=known.name, args=args or known.args, call_id=known.call_id, outcome=known.outcome)
    d = internals.step_fields(call)
    return ToolCall(id=d["id"] or d["step_id"] or "", name=step_tool_name(call), args=args)


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
        tool_calls=[tool_call(c) for c in calls] if calls else _standalone(d["id"]),
        error=scrub_known(d["error"]) if d["error"] else "",
        is_complete_response=d.get("is_complete_response"),
        structured_output=structured if structured is None else jsonable(structured),
        usage=None if u is None else usage(u),
    )


def _standalone(step_id: str) -> list[ToolCall]:
    call = labels.standalone(step_id) if step_id else None
    return [] if call is None else [call]


def latest_snapshots(steps: list[sdk.Step]) -> list[sdk.Step]:
    """The SDK keeps every snapshot of a step as it streams; a client wants each step
    once, as it ended, in the order the steps began. A custom tool's step is the SDK's
    one-off step named by the model's call id, which a model may repeat: never merged."""
    latest: dict[Any, sdk.Step] = {}
    for s in steps:
        latest[snapshot_key(s)] = s  # re-assigning keeps the first position
    return list(latest.values())


def snapshot_key(s: sdk.Step) -> Any:
    """What a step's snapshots share: its id, except for a one-off step (a new key each)."""
    d = internals.step_fields(s)
    calls, step_id = d["tool_calls"], d["id"]
    one_off = bool(calls) and not internals.step_fields(calls[0])["step_id"]
    return object() if one_off or not step_id else step_id


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
