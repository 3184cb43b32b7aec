"""Minimum spacing between successive model requests, across all agents.

A burst of chats (an editor restoring ten panes) would otherwise hit the model
at once. Each start reserves the next free slot; waiting happens outside the lock.
"""

from __future__ import annotations

import time

import anyio


class Pacer:
    def __init__(self, min_interval_ms: int) -> None:
        self.min_interval = max(0, min_interval_ms) / 1000
        self._next_slot = 0.0
        self._lock = anyio.Lock(fast_acquire=True)

    async def wait_turn(self) -> float:
        """Sleep until this caller may start; returns the seconds waited."""
        if self.min_interval <= 0:
            return 0.0
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next_slot)
            self._next_slot = start + self.min_interval
        delay = start - now
        if delay > 0:
            await anyio.sleep(delay)
        return delay
