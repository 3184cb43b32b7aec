"""Tool calls of an ACP session, by the core's tool call id.

The core gives each tool call one id, the same in its confirmation, its streamed
`toolCall`, its `toolResult` and history (docs/protocol.md#tool-call-ids), so two
parallel calls of the same tool are two entries here. The ACP `toolCallId` is that
id, unless this session already showed it (a replayed history, or the same model
id again after the session's agent was restarted): then it gets a suffix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tracked:
    call_id: str  # the ACP toolCallId
    name: str
    announced: bool = False  # a `tool_call` went out
    done: bool = False  # finished, rejected or cancelled
    diff: list[Any] | None = None  # whole-file diff content, once the old text was read
    terminal: bool = False  # its content is the editor's terminal running it


@dataclass
class ToolTracker:
    calls: dict[str, Tracked] = field(default_factory=dict[str, Tracked])  # this turn's, by core id
    used: set[str] = field(default_factory=set[str])  # ACP ids this session gave out
    counter: int = 0

    def get(self, core_id: str, name: str) -> Tracked:
        """The call with this core id, new if unseen this turn."""
        key = core_id
        if not key:  # the core always gives one; never merge two calls without
            self.counter += 1
            key = f"\0{self.counter}"
        call = self.calls.get(key)
        if call is None:
            call = self.calls[key] = Tracked(call_id=self._unused(core_id or name), name=name)
        return call

    def reserve(self, ids: list[str]) -> None:
        """ACP ids already shown in this session (a replayed history)."""
        self.used.update(ids)

    def _unused(self, wanted: str) -> str:
        acp_id = wanted
        while acp_id in self.used:
            self.counter += 1
            acp_id = f"{wanted}#{self.counter}"
        self.used.add(acp_id)
        return acp_id

    def end_turn(self) -> None:
        self.calls.clear()
