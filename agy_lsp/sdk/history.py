"""A conversation's history as the wire shows it, each SDK step converted once.

The SDK's `conversation.history` holds every snapshot of every step it streamed
(a long tool call streams hundreds), appended in order; the wire shows each step
once, as it ended (`to_wire.latest_snapshots`). `HistoryView` keeps that mapping
and the converted steps between requests: a request converts only the steps that
are new or changed since the last one (a new snapshot, a label a turn gave one of
its calls, a key registered since), so its cost follows the new steps, not the
whole history.
"""

from __future__ import annotations

from typing import Any, cast

from google.antigravity import types as sdk

from agy_lsp import secrets
from agy_lsp.protocol.types import Step
from agy_lsp.sdk import to_wire


class HistoryView:
    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._latest: dict[Any, sdk.Step] = {}  # the latest snapshot of each step, in the order the steps began
        self._wire: dict[Any, Step | None] = {}  # the same keys, converted (None: not yet)
        self._dirty: set[Any] = set()  # keys to convert
        self._by_dep: dict[Any, set[Any]] = {}  # a label's dependency key -> the keys whose conversion read it
        self._seen = 0  # how many snapshots of the SDK's list are in `_latest`
        self._first: sdk.Step | None = None  # its first and last: the list was only appended to if they still are
        self._last: sdk.Step | None = None
        self._labels = to_wire.labels.generation
        self._secrets = secrets.generation

    def steps(self, history: list[sdk.Step]) -> list[Step]:
        self._advance(history)
        self._relabel()
        for key in self._dirty:
            s = self._latest[key]
            self._wire[key] = to_wire.step(s)
            for dep in to_wire.deps(s):
                self._by_dep.setdefault(dep, set()).add(key)
        self._dirty.clear()
        return cast(list[Step], list(self._wire.values()))  # every key is converted by now

    def _advance(self, history: list[sdk.Step]) -> None:
        n, seen = len(history), self._seen
        if not (seen and n >= seen and history[0] is self._first and history[seen - 1] is self._last):
            self._reset()  # cleared, or trimmed at the SDK's cap: start over
            seen = 0
        for s in history[seen:]:
            key = to_wire.snapshot_key(s)
            if key not in self._latest:
                self._wire[key] = None
            self._latest[key] = s  # re-assigning keeps the first position
            self._dirty.add(key)
        if n:
            self._seen, self._first, self._last = n, history[0], history[-1]

    def _relabel(self) -> None:
        if secrets.generation != self._secrets:
            self._secrets = secrets.generation
            self._dirty.update(self._latest)
        changed = to_wire.labels.changed_since(self._labels)
        self._labels = to_wire.labels.generation
        if changed is None:
            self._dirty.update(self._latest)
            return
        for dep in changed:
            self._dirty.update(self._by_dep.pop(dep, ()))
