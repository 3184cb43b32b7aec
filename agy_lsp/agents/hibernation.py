"""Hibernation: idle agents give their harness back, and live harnesses stay capped.

Each live agent is a ~155 MB `localharness` process. An agent idle longer than
`idleTimeoutSecs` is hibernated (its harness closed, its conversation kept on
disk and in memory); `maxLiveAgents` caps the live harnesses, hibernating the
least recently used idle agent before another one starts. The next call on a
hibernated agent resumes it on the same conversation (see AgentSession.ensure_live in agents/session.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Protocol

import anyio

from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.settings import Settings


class Hibernatable(Protocol):
    """What hibernation needs of an agent (agents/session.py has it)."""

    agent_id: str
    last_active: float
    spawning: bool

    def holds_harness(self) -> bool: ...
    def check_harness(self) -> None: ...
    def can_hibernate(self) -> bool: ...
    async def hibernate(self, reason: str) -> bool: ...


log = logging.getLogger(__name__)

RETRY_BASE_SECS = 60.0  # the first wait before a save is retried when there is no idle timeout (maxLiveAgents alone)
RETRY_CAP_SECS = 600.0  # a save that keeps failing is still retried this often


class SaveRetry:
    """When an idle agent whose saves fail is next tried for hibernation.

    Hibernating closes the harness, whose memory may then hold the only copy of the
    last turns (a full disk loses the harness's own writes too), so the agent
    hibernates only once its save succeeds. The timer retries it: at the first idle
    tick, then after the idle timeout, doubling up to every 10 minutes, so a full disk
    is not written to at every tick; only the first failure of a streak is told.
    """

    def __init__(self) -> None:
        self.failures = 0
        self.due = 0.0  # time.monotonic() from which a retry may run

    def ready(self) -> bool:
        return time.monotonic() >= self.due

    def failed(self, idle_timeout_secs: float) -> bool:
        """A retry failed: schedules the next one; True the first time (tell it once)."""
        base = idle_timeout_secs if idle_timeout_secs > 0 else RETRY_BASE_SECS
        self.failures += 1
        self.due = time.monotonic() + min(base * 2 ** min(self.failures - 1, 16), max(RETRY_CAP_SECS, base))
        return self.failures == 1

    def reset(self) -> None:
        """A save succeeded."""
        self.failures, self.due = 0, 0.0


class LiveAgents:
    def __init__(self, sessions: Callable[[], Iterable[Hibernatable]], settings: Callable[[], Settings]) -> None:
        self._sessions = sessions
        self._settings = settings
        self._room = anyio.Lock()  # one starter at a time picks who makes way
        self._changed = anyio.Event()

    def changed(self) -> None:
        """A turn ended or a harness went away: a waiting starter may find room now."""
        self._changed.set()

    def live_count(self, excluding: Hibernatable | None = None) -> int:
        return sum(1 for s in self._sessions() if s is not excluding and s.holds_harness())

    async def make_room(self, starting: Hibernatable) -> None:
        """Returns once `starting` may spawn a harness within maxLiveAgents.

        While every live agent is busy it waits (a turn ends, or an agent closes)
        up to the chat timeout, then raises AgentLimit.
        """
        settings = self._settings()
        cap = settings.max_live_agents
        if cap <= 0:
            return
        async with self._room:
            with anyio.move_on_after(settings.chat_timeout_secs) as waited:
                while self.live_count(excluding=starting) >= cap:
                    victim = self._least_recently_used(starting)
                    if victim is not None:
                        await victim.hibernate(f"maxLiveAgents={cap}: making room for agent {starting.agent_id}")
                        continue
                    self._changed = anyio.Event()
                    await self._changed.wait()
            if waited.cancelled_caught:
                raise AgyError(
                    ErrorCode.AGENT_LIMIT,
                    f"all {cap} live agents stayed busy for {settings.chat_timeout_secs:g}s (maxLiveAgents)",
                    {"agentId": starting.agent_id, "maxLiveAgents": cap},
                )
            starting.spawning = True  # counted as live from here, before its harness exists

    def _least_recently_used(self, starting: Hibernatable | None) -> Hibernatable | None:
        idle = [s for s in self._sessions() if s is not starting and s.can_hibernate()]
        return min(idle, key=lambda s: s.last_active, default=None)

    async def hibernate_idle(self) -> None:
        """Hibernates every agent idle for longer than idleTimeoutSecs (0 = never)."""
        timeout = self._settings().idle_timeout_secs
        if timeout <= 0:
            return
        now = time.monotonic()
        for session in list(self._sessions()):
            if session.can_hibernate() and now - session.last_active >= timeout:
                await session.hibernate(f"idle for {timeout:g}s")

    async def trim(self) -> None:
        """Back within maxLiveAgents after it was lowered (didChangeConfiguration), idle agents first."""
        cap = self._settings().max_live_agents
        while cap > 0 and self.live_count() > cap and (victim := self._least_recently_used(None)) is not None:
            if not await victim.hibernate(f"maxLiveAgents={cap}"):
                return

    async def watch(self) -> None:
        """The manager's watcher: notice a harness that died (killed, OOM) while nobody
        was talking to it, hibernate agents idle past idleTimeoutSecs, keep the cap."""
        while True:
            await anyio.sleep(self.poll_interval())
            try:
                for session in list(self._sessions()):
                    session.check_harness()
                await self.hibernate_idle()
                await self.trim()
            except Exception:  # the watcher must outlive any one agent's trouble
                log.exception("agent watcher")

    def poll_interval(self) -> float:
        """How often the manager's watcher looks: often enough for short test timeouts."""
        timeout = self._settings().idle_timeout_secs
        return min(0.5, timeout / 4) if timeout > 0 else 0.5
