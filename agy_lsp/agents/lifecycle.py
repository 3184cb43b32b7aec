"""An agent's lifecycle: its states and the legal transitions, as a table.

A transition that is not in the table is a bug and raises `IllegalTransitionError`;
there are no flag combinations to read together. docs/architecture.md draws it.

- `starting`: its harness is being spawned (create, wake-up, restart, heal).
- `idle` / `busy`: the harness is up; `busy` while a turn runs in it.
- `restarting`: after a model failure or a backend change: the old harness closes,
  a new one starts on the same conversation.
- `hibernated`: no harness (idle timeout, `maxLiveAgents`, or not started yet);
  the conversation is kept and the next turn starts one.
- `failed`: the harness died, or would not start. The next call starts a new one
  on the same conversation (`starting`), so the agent heals itself.
- `closed`: shut down for good.
"""

from __future__ import annotations

from collections.abc import Callable

from agy_lsp.protocol.types import AgentState

TRANSITIONS: dict[AgentState, frozenset[AgentState]] = {
    "starting": frozenset({"idle", "failed", "hibernated", "closed"}),
    "idle": frozenset({"busy", "restarting", "hibernated", "failed", "closed"}),
    "busy": frozenset({"idle", "restarting", "failed", "closed"}),
    "restarting": frozenset({"starting", "failed", "closed"}),
    "hibernated": frozenset({"starting", "closed"}),
    "failed": frozenset({"starting", "closed"}),
    "closed": frozenset(),
}


class IllegalTransitionError(RuntimeError):
    pass


class Lifecycle:
    """The current state; `on_change(state, reason)` runs after every transition."""

    def __init__(self, initial: AgentState, on_change: Callable[[AgentState, str | None], None]) -> None:
        self.state: AgentState = initial
        self._on_change = on_change

    def to(self, state: AgentState, reason: str | None = None) -> None:
        if state not in TRANSITIONS[self.state]:
            raise IllegalTransitionError(f"{self.state} -> {state}")
        self.state = state
        self._on_change(state, reason)

    def can(self, state: AgentState) -> bool:
        return state in TRANSITIONS[self.state]

    @property
    def has_harness(self) -> bool:
        return self.state in ("idle", "busy")
