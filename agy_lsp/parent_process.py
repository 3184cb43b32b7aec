"""Exit with the editor: watch the client's process id and say when it is gone.

LSP clients pass it as `--clientProcessId=N` on the command line or as `processId`
in `initialize`. An editor that crashes (or is killed) never sends `exit`, and its
pipes may stay open in a grandchild, so stdin EOF alone does not end the server.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import anyio

log = logging.getLogger(__name__)

POLL_SECS = 0.5


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


async def watch(pid: int, on_gone: Callable[[], None]) -> None:
    """Returns (after calling `on_gone`) once `pid` no longer runs."""
    while alive(pid):
        await anyio.sleep(POLL_SECS)
    log.warning("the client process %d is gone; shutting down", pid)
    on_gone()
