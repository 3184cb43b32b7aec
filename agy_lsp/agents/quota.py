"""Per-key quota backoff shared by every agent on the same API key and endpoint.

When one agent sees HTTP 429 / RESOURCE_EXHAUSTED, all agents on that key wait
out the backoff before their next model request: `Retry-After` when the backend
sent one, otherwise exponential from 2 s. Only a successful turn clears it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import anyio

from agy_lsp.agents.editor import Editor
from agy_lsp.protocol.types import QuotaNotice

BASE_BACKOFF_MS = 2000
MAX_BACKOFF_MS = 120_000


@dataclass
class _KeyState:
    failures: int = 0
    until: float = 0.0  # monotonic deadline


class QuotaRegistry:
    def __init__(self, base_backoff_ms: int = BASE_BACKOFF_MS) -> None:
        self.base_backoff_ms = base_backoff_ms
        self._keys: dict[str, _KeyState] = {}

    def remaining_ms(self, key: str) -> int:
        state = self._keys.get(key)
        if state is None:
            return 0
        return max(0, int((state.until - time.monotonic()) * 1000))

    async def wait(self, key: str) -> None:
        """Sleep until `key` is out of backoff (re-checking: another agent may extend it)."""
        while (remaining := self.remaining_ms(key)) > 0:
            await anyio.sleep(remaining / 1000)

    def backoff(self, key: str, retry_after_ms: object, editor: Editor) -> int:
        """Record a quota failure; returns the backoff in ms that now applies to the key."""
        state = self._keys.setdefault(key, _KeyState())
        if isinstance(retry_after_ms, int) and retry_after_ms > 0:
            delay = retry_after_ms
        else:
            delay = min(MAX_BACKOFF_MS, self.base_backoff_ms * 2**state.failures)
        state.failures += 1
        state.until = max(state.until, time.monotonic() + delay / 1000)
        editor.quota(QuotaNotice(key=key, state="backoff", retry_after_ms=delay))
        return delay

    def success(self, key: str, editor: Editor) -> None:
        state = self._keys.pop(key, None)
        if state is not None and state.failures:
            editor.quota(QuotaNotice(key=key, state="clear", retry_after_ms=0))
