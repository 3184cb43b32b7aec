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
        self._by_dep: dict[Any, Any] = {}  # a label's dependency key -> the key whose conversion read it (a set: several)
        self._snaps: list[sdk.Step] = []  # the SDK's list as of the last call
        self._keys: list[Any] = []  # the key of each of its snapshots
        self._labels = to_wire.labels.generation
        self._secrets = secrets.generation

    def steps(self, history: list[sdk.Step]) -> list[Step]:
        self._advance(history)
        self._relabel()
        by_dep = self._by_dep
        for key in self._dirty:
            s = self._latest.get(key)
            if s is None:  # trimmed away since
                continue
            self._wire[key] = to_wire.step(s)
            for dep in to_wire.deps(s):
                known = by_dep.get(dep)
                if known is None or known is key:
                    by_dep[dep] = key
                elif isinstance(known, set):
                    known.add(key)  # pyright: ignore[reportUnknownMemberType]
                else:
                    by_dep[dep] = {known, key}
        self._dirty.clear()
        return cast(list[Step], list(self._wire.values()))  # every key is converted by now

    def _advance(self, history: list[sdk.Step]) -> None:
        snaps, n, seen = self._snaps, len(history), len(self._snaps)
        if n >= seen and (not seen or (history[0] is snaps[0] and history[seen - 1] is snaps[-1])):
            new = history[seen:]  # only appended to
            keys = [to_wire.snapshot_key(s) for s in new]
            for key, s in zip(keys, new, strict=True):
                if key not in self._latest:
                    self._wire[key] = None
                self._latest[key] = s  # re-assigning keeps the first position
            self._dirty.update(keys)
            snaps += new
            self._keys += keys
            return
        self._remap(history)

    def _remap(self, history: list[sdk.Step]) -> None:
        """The list was trimmed at the SDK's cap (or cleared): map it again (each step at
        its first remaining snapshot, as `to_wire.latest_snapshots`), keeping the
        conversion of every step whose latest snapshot is still the same object."""
        kept = _kept_from(self._snaps, history)
        keys = self._keys[len(self._snaps) - kept :] if kept else []
        keys += [to_wire.snapshot_key(s) for s in history[kept:]]
        latest, wire, dirty = self._latest, self._wire, self._dirty
        self._latest = dict(zip(keys, history, strict=True))
        self._wire, self._dirty = {}, set()
        for key, s in self._latest.items():
            same = wire.get(key) if latest.get(key) is s and key not in dirty else None
            self._wire[key] = same
            if same is None:
                self._dirty.add(key)
        self._snaps, self._keys = list(history), keys

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
            keys = self._by_dep.pop(dep, None)
            if isinstance(keys, set):
                self._dirty.update(keys)  # pyright: ignore[reportUnknownArgumentType]
            elif keys is not None:
                self._dirty.add(keys)


def _kept_from(old: list[sdk.Step], history: list[sdk.Step]) -> int:
    """How many snapshots at the start of `history` are the end of `old` (the SDK drops
    the oldest ones at its cap, then appends): 0 when it is not so."""
    if not old or not history:
        return 0
    last = old[-1]
    for pos in range(len(history) - 1, -1, -1):  # the old last one: near the end
        if history[pos] is last:
            kept = pos + 1
            return kept if kept <= len(old) and history[0] is old[len(old) - kept] else 0
    return 0
