"""Every private reach into pygls (2.1.1), in one place.

Pinned by tests/wire/test_seams.py: a pygls upgrade that moves one of them fails
there, loudly, instead of agy-lsp quietly losing its fast encoder (every message
back through `json.dumps`), its clean `exit`, or the cancelling of pending
requests at shutdown.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from cattrs import Converter
from pygls.protocol import LanguageServerProtocol


class SeamProtocol(LanguageServerProtocol):
    """pygls sends every outgoing message (responses, notifications, requests)
    through its private `_send_data`; here it goes to `send_message`, which a
    subclass overrides and which falls back to pygls' own."""

    def _send_data(self, data: Any) -> None:
        self.send_message(data)

    def send_message(self, data: Any) -> None:
        super()._send_data(data)

    @property
    def converter(self) -> Converter:
        """The cattrs converter pygls (un)structures messages with."""
        found: Converter = self._converter  # pyright: ignore[reportPrivateUsage]
        return found

    @property
    def shut_down(self) -> bool:
        """Whether `shutdown` was received (pygls' own flag)."""
        return bool(self._shutdown)  # pyright: ignore[reportPrivateUsage]

    def pending_requests(self) -> dict[Any, Future[Any]]:
        """Our requests to the client still waiting for an answer."""
        found: dict[Any, Future[Any]] = self._request_futures  # pyright: ignore[reportPrivateUsage]
        return found

    def report_server_error(self, error: Exception) -> None:
        """Through the server's error report (a `window/showMessage`), as pygls does."""
        server: Any = self._server
        server._report_server_error(error, Exception)  # pyright: ignore[reportPrivateUsage]
