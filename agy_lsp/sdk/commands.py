"""The harness's shell commands, so that a cancelled turn leaves none running.

The harness runs each `run_command` as `bash -c <CommandLine>` in a session of its
own (setsid), a direct child of the harness; MCP servers stay in the harness's
session. A halt kills the command that runs, but not one the harness is starting:
a cancel right after the command was allowed (issue #27) leaves it running to its
end, though the harness reports the turn idle (sometimes with the call's post-tool
hook, as if it had ended). So after a cancel, a command session the harness started
that nothing accounts for is killed.

Accounted for: the sessions alive when the turn's first command was allowed
(background commands of earlier turns), and those alive when a command of the turn
ended before the cancel (its own background command, which outlives its call by
design). Any other is a command of the cancelled turn that should have died with it.
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass

log = logging.getLogger(__name__)

RUN_COMMAND = "run_command"


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    session: int
    start: int  # clock ticks after boot: a pid reused later is another Proc
    zombie: bool


def processes() -> list[Proc]:
    out: list[Proc] = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                rest = f.read().rsplit(b")", 1)[1].split()  # the name before ")" may hold spaces
            out.append(Proc(int(name), int(rest[1]), int(rest[3]), int(rest[19]), rest[0] == b"Z"))
        except (OSError, IndexError, ValueError):  # gone meanwhile, or unreadable
            continue
    return out


def command_sessions(harness: int) -> set[Proc]:
    """The live children of the harness that lead a session of their own."""
    return {p for p in processes() if p.ppid == harness and p.session == p.pid and not p.zombie}


def kill_session(leader: Proc) -> None:
    """SIGKILL every process of the leader's session (a pipeline, background jobs),
    the leader first."""
    for proc in sorted(processes(), key=lambda p: p.pid != leader.pid):
        if proc.session == leader.pid and not proc.zombie:
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except OSError:
                pass


@dataclass
class Commands:
    """One harness's command sessions in the current turn. The hooks say when a
    command may start and when one ended; `reap` runs once a cancelled turn is idle."""

    harness: int | None = None
    _known: set[Proc] | None = None  # None until the turn's first command
    _cancelled: bool = False

    def begin_turn(self) -> None:
        if self._cancelled:  # one the harness started after the cancelled turn went idle
            self.reap()
        self._known, self._cancelled = None, False

    def allowed(self) -> None:
        """A command's pre-tool hook answered allow: it may start from now on."""
        if self._known is None:
            self._known = self._sessions()

    def ended(self) -> None:
        if self._known is not None and not self._cancelled:
            self._known |= self._sessions()

    def cancel(self) -> None:
        self._cancelled = True

    def reap(self) -> int:
        """After a cancel, kill the command sessions nothing accounts for; how many."""
        if not self._cancelled or self._known is None:
            return 0
        stray = self._sessions() - self._known
        for leader in stray:
            log.info("killing command session %d, which the cancelled turn left running", leader.pid)
            kill_session(leader)
        return len(stray)

    def _sessions(self) -> set[Proc]:
        return command_sessions(self.harness) if self.harness is not None else set()
