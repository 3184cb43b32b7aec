"""sdk/commands.py on real processes: a stand-in harness starts commands the way
localharness does (each in a session of its own, a direct child) and a helper in its
own session (as an MCP server). After a cancel, only the commands nothing accounts
for are killed, with everything in their session."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from agy_lsp.sdk.commands import Commands, command_sessions
from tests.helpers import pid_alive, wait_until

HARNESS = textwrap.dedent(
    """
    import signal, subprocess, sys
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed children are reaped at once
    helper = subprocess.Popen(["sleep", "300"])  # in the harness's session, like an MCP server
    print(helper.pid, flush=True)
    for line in sys.stdin:
        p = subprocess.Popen(["bash", "-c", line.strip()], start_new_session=True)
        print(p.pid, flush=True)
    """
)
# A command whose process name holds ") (" and spaces (the name in /proc/<pid>/stat is
# parenthesised), with a child that stays in its session.
ODD = "python3 -c 'import ctypes,time; ctypes.CDLL(None).prctl(15, b\"a) b (c\"); time.sleep(300)' & sleep 300"


class Harness:
    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", HARNESS], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.helper = int(self.process.stdout.readline())

    def run(self, command: str) -> int:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    @property
    def pid(self) -> int:
        return self.process.pid


def session_of(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-eo", "pid=,sid="], capture_output=True, text=True).stdout.split()
    pairs = zip(map(int, out[::2]), map(int, out[1::2]), strict=True)
    return {p for p, sid in pairs if sid == pid and pid_alive(p)}


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness()
    yield h
    for leader in command_sessions(h.pid):
        subprocess.run(["pkill", "-KILL", "-s", str(leader.pid)], check=False)
    subprocess.run(["kill", "-KILL", str(h.helper)], check=False)
    h.process.kill()
    h.process.wait()


async def test_a_cancel_kills_the_commands_nothing_accounts_for(harness: Harness) -> None:
    commands = Commands(harness=harness.pid)
    earlier = harness.run("sleep 300")  # an earlier turn's background command
    commands.begin_turn()
    commands.allowed()
    background = harness.run("sleep 300")  # this turn's command that went to the background
    commands.ended()
    commands.allowed()
    starting = harness.run(ODD)  # the command the halt missed
    await wait_until(lambda: len(session_of(starting)) == 3)  # bash, python3, sleep
    commands.cancel()
    commands.ended()  # a post-tool hook after the cancel accounts for nothing
    assert commands.reap() == 1
    await wait_until(lambda: not session_of(starting), timeout=5)
    assert all(pid_alive(p) for p in (earlier, background, harness.helper))
    late = harness.run("sleep 300")  # started after the cancelled turn went idle
    commands.begin_turn()  # the next turn ends it before its own commands
    await wait_until(lambda: not pid_alive(late), timeout=5)
    assert all(pid_alive(p) for p in (earlier, background, harness.helper))
    commands.allowed()
    harness.run("sleep 300")
    assert commands.reap() == 0, "no cancel, nothing to reap"


async def test_a_turn_without_a_command_reaps_nothing(harness: Harness) -> None:
    commands = Commands(harness=harness.pid)
    other = harness.run("sleep 300")
    commands.begin_turn()
    commands.cancel()
    assert commands.reap() == 0 and pid_alive(other)
