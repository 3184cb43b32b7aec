"""The localharness process behind an SDK Agent: find it, and close it within a bound."""

from __future__ import annotations

import logging
import subprocess
import threading
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from google.antigravity import Agent

log = logging.getLogger(__name__)


def process_of(agent: Agent) -> subprocess.Popen[bytes] | None:
    """The harness process the SDK spawned (a private attribute; checked in tests)."""
    try:
        return agent.conversation.connection._process  # pyright: ignore
    except Exception:
        return None


def pid_of(agent: Agent | None) -> int | None:
    process = process_of(agent) if agent is not None else None
    return process.pid if process is not None and process.poll() is None else None


async def close(agent: Agent, timeout_secs: float) -> None:
    """Closes the SDK agent, then kills the harness if it is still there.

    The SDK's disconnect waits for the harness with a blocking `wait()`, which can
    stall the event loop; a watchdog thread kills the process at the deadline so
    that wait returns.
    """
    process = process_of(agent)
    watchdog = threading.Timer(timeout_secs, kill, args=(process,))
    watchdog.daemon = True
    watchdog.start()
    try:
        with anyio.move_on_after(timeout_secs), anyio.CancelScope(shield=True):
            await agent.__aexit__(None, None, None)
    except Exception as e:
        log.info("agent closed with %s", type(e).__name__)
    finally:
        watchdog.cancel()
        kill(process)


def kill(process: subprocess.Popen[bytes] | None) -> None:
    # Popen.kill is a no-op once the process was reaped, so a recycled pid is safe.
    if process is not None and process.poll() is None:
        try:
            process.kill()
            process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
