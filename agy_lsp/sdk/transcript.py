"""What the harness really did with each tool call, from its transcript.

The SDK's views of a built-in call (google-antigravity 0.1.22, measured with the
real harness; the table is in docs/protocol.md#built-in-tools) do not say what the
tool returned: the streamed step's content and the post-tool hook's `result` are the
call's `toolSummary` argument for most tools. The harness writes each step to its
transcript (`internals.transcript`) when the step ends, before it calls the post-tool
hook; that entry's `content` is the text the model got back. Its `step_index` is the
hooks' numbering, so a hook's step id finds it.

Some built-ins run without any hook or policy (`define_subagent`, `manage_subagents`,
`manage_task`, `schedule`, `send_message`), and the harness refuses a call to an
unknown tool (or with arguments it cannot use) without hooks: then the only live sign
is a streamed step without the call. `Hookless` finds those calls in the transcript:
the harness starts calls one at a time in the order of their step index, so the k-th
such step of a trajectory in a turn is the k-th transcript entry of its kind (`GENERIC`
for the former, an "invalid tool call" error for the latter) that no hook saw, once
every step before that entry has ended (an entry is written when its step ends, and
steps may end out of order); the model's reply before it (`tool_calls`) gives its
name and arguments.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from agy_lsp.protocol.types import Step
from agy_lsp.sdk import internals
from agy_lsp.secrets import scrub_known

MAX_RESULT = 32_000  # characters of a call's output on our wire; the rest is cut, and said so
_HEADER = re.compile(r"\A(?:(?:Created|Completed) At: [^\n]*\n)+\n?")
_INVALID = "invalid tool call"
# A model reply (the transcript's PLANNER_RESPONSE) and the steps that do not run a tool.
_NOT_CALLS = frozenset({"PLANNER_RESPONSE", "USER_INPUT", "SYSTEM_MESSAGE"})

_roots: list[str] = []  # the app data dirs of this process's agents (usually one)


def register(app_dir: str | None) -> None:
    if app_dir and app_dir not in _roots:
        _roots.append(app_dir)


def read(trajectory_id: str, want: int | None = None, tail: bool = False) -> dict[int, dict[str, Any]]:
    for root in _roots:
        entries = internals.transcript(root, trajectory_id, want, tail)
        if entries:
            return entries
    return {}


def split(step_id: str) -> tuple[str, int] | None:
    """A hook's step id `<trajectory>:<index>` -> (trajectory, index)."""
    trajectory, _, index = step_id.rpartition(":")
    return (trajectory, int(index)) if trajectory and index.isdigit() else None


@dataclass
class Output:
    text: str  # what the model got back, without the harness's timestamp lines, bounded
    error: str | None  # the step's error when it failed
    type: str  # the harness's step type (VIEW_FILE, RUN_COMMAND, GENERIC, AGENCY_TOOL_CALL, ...)


def output_of(entry: dict[str, Any]) -> Output:
    text = _HEADER.sub("", str(entry.get("content") or ""), count=1)
    failed = entry.get("status") == "ERROR" or entry.get("type") == "ERROR_MESSAGE"
    error = str(entry.get("error") or text) if failed else None
    return Output(bounded(text), bounded(error) if error else None, str(entry.get("type") or ""))


def output(step_id: str) -> Output | None:
    """The transcript's output for the call a hook reported (by the hook's step id)."""
    where = split(step_id)
    if where is None:
        return None
    entry = read(where[0], where[1]).get(where[1])
    return output_of(entry) if entry is not None and entry.get("type") not in _NOT_CALLS else None


def bounded(text: str) -> str:
    if len(text) <= MAX_RESULT:
        return text
    return f"{text[:MAX_RESULT]}\n… ({len(text) - MAX_RESULT} more characters)"


def model_call(entries: dict[int, dict[str, Any]], index: int) -> tuple[str, dict[str, Any]] | None:
    """(name, args) the model gave the call that ran as step `index`: the model's reply
    is the nearest earlier PLANNER_RESPONSE, and its calls run as the steps after it."""
    for reply in range(index - 1, -1, -1):
        entry = entries.get(reply)
        if entry is not None and entry.get("type") == "PLANNER_RESPONSE":
            calls = entry.get("tool_calls")
            position = index - reply - 1
            if isinstance(calls, list) and position < len(calls):  # pyright: ignore[reportUnknownArgumentType]
                call: Any = calls[position]
                if isinstance(call, dict):
                    args: Any = call.get("args")  # pyright: ignore[reportUnknownMemberType]
                    return str(call.get("name") or ""), dict(args) if isinstance(args, dict) else {}  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
            return None
    return None


# ---------------------------------------------------------------------- hooked calls


class _Hooked:
    """The step indexes the pre-tool hook saw, per trajectory (bounded): a hookless
    call is an entry no hook saw, and `finish` (no post-tool hook) is found here."""

    def __init__(self, cap: int = 1024) -> None:
        self._by_trajectory: OrderedDict[str, dict[int, tuple[str, str]]] = OrderedDict()
        self._cap = cap

    def add(self, step_id: str, name: str, call_id: str) -> None:
        where = split(step_id)
        if where is None:
            return
        seen = self._by_trajectory.setdefault(where[0], {})
        seen[where[1]] = (name, call_id)
        self._by_trajectory.move_to_end(where[0])
        while len(self._by_trajectory) > self._cap:
            self._by_trajectory.popitem(last=False)

    def of(self, trajectory: str) -> dict[int, tuple[str, str]]:
        return self._by_trajectory.get(trajectory, {})


hooked = _Hooked()


# ---------------------------------------------------------------------- hookless calls

Kind = Literal["generic", "invalid"]


@dataclass
class Found:
    step_id: str  # the streamed step's id: the call's id on our wire
    name: str
    args: dict[str, Any]
    output: Output


@dataclass
class _Waiting:
    step_id: str
    trajectory: str
    kind: Kind
    ordinal: int


@dataclass
class Hookless:
    """One agent's hookless calls of the running turn, waiting for the transcript."""

    waiting: list[_Waiting] = field(default_factory=list[_Waiting])
    _floors: dict[str, int | Future[int]] = field(default_factory=dict[str, "int | Future[int]"])
    _ahead: dict[str, Future[int] | None] = field(default_factory=dict[str, "Future[int] | None"])
    _counts: dict[tuple[str, Kind], int] = field(default_factory=dict[tuple[str, Kind], int])
    _last: float = 0.0

    def begin_turn(self, main: str | None = None) -> None:
        """Before the prompt goes out. The transcripts of the trajectories the last turn
        saw (and of `main`, the conversation's) hold only older turns' steps until the
        harness has it: `read_ahead` reads them then, in a worker thread, while the
        harness works, and not on the way to the first chunk."""
        self._ahead = {t: None for t in (*self._floors, *([main] if main else []))}
        self.waiting.clear()
        self._floors.clear()
        self._counts.clear()

    def read_ahead(self) -> None:
        self._ahead = {t: _reader().submit(_floor, t) for t in self._ahead}

    def seen(self, trajectory: str) -> None:
        """A trajectory's first step in this turn: its transcript so far is older turns'."""
        if trajectory and trajectory not in self._floors:
            ahead = self._ahead.pop(trajectory, None)
            self._floors[trajectory] = ahead if ahead is not None else _floor(trajectory)

    def floor(self, trajectory: str) -> int:
        value = self._floors.get(trajectory, -1)
        if isinstance(value, Future):
            value = self._floors[trajectory] = value.result()
        return value

    def add(self, step_id: str, trajectory: str, kind: Kind) -> None:
        key = (trajectory, kind)
        self._counts[key] = ordinal = self._counts.get(key, 0) + 1
        self.waiting.append(_Waiting(step_id, trajectory, kind, ordinal))

    def withdraw(self, step_id: str) -> None:
        """The step turned out to be a hooked call's: it counts no more (nothing of its
        trajectory started after it)."""
        for w in [w for w in self.waiting if w.step_id == step_id]:
            self.waiting.remove(w)
            self._counts[(w.trajectory, w.kind)] -= 1

    def found(self, final: bool = False) -> list[Found]:
        """The waiting calls the transcript now explains (at most every 50 ms, unless final)."""
        now = time.monotonic()
        if not self.waiting or (not final and now - self._last < 0.05):
            return []
        self._last = now
        out: list[Found] = []
        for trajectory in {w.trajectory for w in self.waiting}:
            entries = read(trajectory)
            floor, seen = self.floor(trajectory), hooked.of(trajectory)
            ranks: dict[Kind, list[int]] = {"generic": [], "invalid": []}
            for index in sorted(i for i in entries if i > floor and i not in seen):
                kind = _kind(entries[index])
                if kind is not None:
                    ranks[kind].append(index)
            for w in [w for w in self.waiting if w.trajectory == trajectory]:
                ranked = ranks[w.kind]
                if len(ranked) < w.ordinal:
                    continue
                index = ranked[w.ordinal - 1]
                if not final and any(i not in entries for i in range(floor + 1, index)):
                    continue  # a step before it is still running: it may be an earlier call of this kind
                call = model_call(entries, index)
                if call is None:
                    continue
                self.waiting.remove(w)
                out.append(Found(w.step_id, call[0], call[1], output_of(entries[index])))
        return out


def _floor(trajectory: str) -> int:
    return max(read(trajectory, tail=True), default=-1)


_pool: ThreadPoolExecutor | None = None


def _reader() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agy-transcript")
    return _pool


def _kind(entry: dict[str, Any]) -> Kind | None:
    kind = entry.get("type")
    if kind == "GENERIC":
        return "generic"
    if kind == "ERROR_MESSAGE" and _INVALID in str(entry.get("error") or entry.get("content") or ""):
        return "invalid"
    return None


_USER_REQUEST = re.compile(r"<USER_REQUEST>\s*(.*?)\s*</USER_REQUEST>", re.DOTALL)
_ENDED = ("DONE", "ERROR")


def repaired(steps: list[Step], memo: dict[str, tuple[str, str] | None]) -> list[Step]:
    """`steps` with what the harness's record lost put back from its transcript. A
    model reply the harness refused as too large (over about 8 MB) leaves the steps
    before it in its record unfinished after a resume, the person's prompts without
    their text (docs/reliability.md, "Poisoned conversations"); the transcript keeps
    them, ended, under the same step index. Only a step the transcript shows as the
    same kind (a prompt; a reply with the same text) is repaired. `memo`: by step id."""
    out = steps
    for i, s in enumerate(steps):
        user = s.source == "USER"
        if s.tool_calls or (s.status in _ENDED and (s.content or not user)) or (where := split(s.id)) is None:
            continue
        if s.id not in memo:
            memo[s.id] = _ended(read(where[0], want=where[1]).get(where[1]) or {}, user, s.content)
        if (found := memo[s.id]) is not None:
            out = list(steps) if out is steps else out
            out[i] = msgspec.structs.replace(s, content=found[0], status=found[1])
    return out


def _ended(entry: dict[str, Any], user: bool, content: str) -> tuple[str, str] | None:
    """(content, status) of a step from its transcript entry, when it is that step."""
    if entry.get("status") not in _ENDED or not isinstance(text := entry.get("content"), str):
        return None
    if user and entry.get("type") == "USER_INPUT":
        match = _USER_REQUEST.search(text)
        return (content or scrub_known(match.group(1)), entry["status"]) if match else None
    if not user and entry.get("type") == "PLANNER_RESPONSE" and content and text.strip() == content.strip():
        return content, entry["status"]
    return None
