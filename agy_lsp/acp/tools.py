"""Tool call identity across the core's three views of one call.

One call reaches us up to three times, under different ids: the policy's
confirmation (no id, the model's arguments), the streamed step (the step's id,
normalised arguments) and the tool result (the model's call id). We match them
per tool name, first in first out, within one turn, and give each call one ACP
`toolCallId` of ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Tracked:
    call_id: str
    name: str
    asked: bool = False  # seen by the confirmation
    streamed: bool = False  # seen in the step stream
    done: bool = False  # finished, rejected or cancelled


@dataclass
class ToolTracker:
    calls: list[Tracked] = field(default_factory=list[Tracked])
    counter: int = 0

    def _new(self, name: str) -> Tracked:
        self.counter += 1
        call = Tracked(call_id=f"{name}-{self.counter}", name=name)
        self.calls.append(call)
        return call

    def on_confirm(self, name: str) -> Tracked:
        """The call being confirmed; `created` calls still need a `tool_call`."""
        for call in self.calls:
            if call.name == name and not call.asked and not call.done:
                call.asked = True
                return call
        call = self._new(name)
        call.asked = True
        return call

    def on_stream(self, name: str) -> tuple[Tracked, bool]:
        """The streamed call, and whether it is new (announce it)."""
        for call in self.calls:
            if call.name == name and call.asked and not call.streamed:
                call.streamed = True
                return call, False
        call = self._new(name)
        call.streamed = True
        return call, True

    def on_result(self, name: str) -> tuple[Tracked, bool]:
        for call in self.calls:
            if call.name == name and not call.done:
                call.done = True
                return call, False
        call = self._new(name)
        call.done = True
        return call, True

    def end_turn(self) -> None:
        self.calls.clear()
