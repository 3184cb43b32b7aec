"""`agy-lsp chat`: interactive through a pty (streamed answer, a confirmation
answered at the keyboard, Ctrl-C cancelling a turn, Ctrl-C twice quitting) and one
shot (answer on stdout, --json lines, the scripted-model note on stderr).
tests/chat_tmux/ checks what a person sees in a real terminal."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import uuid

from tests.client.conftest import CHAT, FULL_ENV
from tests.client.pty_session import PtySession
from tests.helpers import running_sleeps, sleep_reply

# prompt_toolkit asks a terminal where its cursor is; a bare pty does not answer.
PTY_ENV = {**FULL_ENV, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
SCRIPT = json.dumps(
    [
        {"text": "hello from the model", "chunks": 4, "chunkDelayMs": 40},
        {"toolCalls": [{"name": "run_command", "args": {"CommandLine": "echo typed-yes"}}]},
        {"text": "the command ran"},
        {"text": "a b c d e f g h i j k l m n o p q r s t", "chunkDelayMs": 150},
    ]
)


def test_interactive_chat_in_a_pty() -> None:
    session = PtySession([*CHAT, "--script", SCRIPT], PTY_ENV)
    try:
        session.expect("scripted model")
        mark = session.expect("›").end()
        # a streamed answer, then the usage line and a new prompt
        session.send("hi\r")
        mark = session.expect(r"hello from the model[\s\S]*tokens: \d+ in · \d+ out · \d+ total[\s\S]*›", start=mark).end()
        # a confirmation answered at the keyboard
        session.send("run it\r")
        mark = session.expect(r"CommandLine: echo typed-yes[\s\S]*allow run_command .*\? \[y\]es / \[n\]o /", start=mark).end()
        session.send("y\r")
        mark = session.expect(r"✓ #1 run_command.* · completed: [\s\S]*typed-yes", start=mark).end()
        mark = session.expect(r"the command ran[\s\S]*tokens:[\s\S]*›", start=mark).end()
        # Ctrl-C cancels the running turn; the chat goes on
        session.send("slow\r")
        mark = session.expect(r" c ", start=mark).end()
        session.interrupt()
        mark = session.expect(r"cancelling the turn[\s\S]*turn cancelled[\s\S]*›", start=mark).end()
        assert "q r s t" not in session.text
        session.send("still here\r")
        mark = session.expect(r"You said: still here[\s\S]*tokens:[\s\S]*›", start=mark).end()
        # Ctrl-C at the prompt arms, a second one quits, and the server goes with it
        session.send("\x03")
        session.expect(r"›[^\n]*Ctrl-C again to qui\r?t")  # at the prompt's right (its last column drawn apart)
        session.send("\x03")
        assert session.wait() == 130
    finally:
        session.close()


def test_one_shot_to_stdout_and_json() -> None:
    env = {**FULL_ENV}
    # stdin is not a terminal: one shot (in a terminal, the prompt starts a chat)
    plain = subprocess.Popen(
        [*CHAT, "hello there"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    as_json = subprocess.Popen(
        [*CHAT, "--json", "--script", json.dumps([{"text": "one two three", "chunks": 3}]), "count"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = plain.communicate(timeout=40)
    assert plain.returncode == 0, err
    assert out == "You said: hello there\n"  # nothing but the answer: it can be piped
    assert "scripted model" in err and "tokens:" in err

    out, err = as_json.communicate(timeout=40)
    assert as_json.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    chunks, result = events[:-1], events[-1]
    assert [c["kind"] for c in chunks] == ["text"] * len(chunks) and chunks
    assert [c["seq"] for c in chunks] == list(range(1, len(chunks) + 1))
    assert "".join(c["text"] for c in chunks) == "one two three"
    assert result["kind"] == "result" and result["text"] == "one two three" and result["usage"]["totalTokens"] > 0


def long_command(tag: str) -> str:
    """40 lines, about 2,000 characters, the dangerous part last."""
    lines = [f"echo checking the build status now please wait step {i:02d} of 40 ok" for i in range(39)]
    return "\n".join([*lines, f"echo done; touch /tmp/PWNED-{tag}"])


def test_the_question_shows_the_whole_call_and_escapes_controls() -> None:
    """A 40-line command whose last line is the dangerous one: every line reaches the
    question, and an escape sequence or a carriage return in an argument is shown,
    not obeyed (it cannot erase or overwrite what was shown)."""
    command = long_command("xyz")
    assert len(command) > 2000 and command.count("\n") == 39
    args = {"CommandLine": command, "Cwd": "/tmp", "Note": "fine\r\x1b[2Kharmless\x1b]0;title\x07\u202e"}
    script = json.dumps([{"toolCalls": [{"name": "run_command", "args": args}]}, {"text": "not run"}])
    session = PtySession([*CHAT, "--script", script], {**PTY_ENV, "NO_COLOR": "1"})  # no rich: its own \x1b[2K
    try:
        mark = session.expect("›").end()
        session.send("go\r")
        prompt = session.expect(r"\? allow run_command \(the whole call is above[\s\S]{0,40}\[y\]es / \[n\]o /", start=mark)
        shown = session.text[mark : prompt.start()]
        for line in command.split("\n"):
            assert line in shown, f"{line!r} was not shown before the question:\n{shown}"
        assert "; touch /tmp/PWNED-xyz" in shown
        assert "Cwd: /tmp" in shown
        assert "fine\\r\\x1b[2Kharmless\\x1b]0;title\\x07\\u202e" in shown
        raw = session.raw.decode(errors="replace")
        assert "\x1b[2K" not in raw and "\x1b]0;" not in raw and "fine\r" not in raw
        session.send("n\r")
        session.expect(r"not run[\s\S]*tokens:[\s\S]*›", start=prompt.end())
        session.send("\x04")  # Ctrl-D quits
        assert session.wait() == 0
    finally:
        session.close()


def test_ctrl_c_while_a_command_runs_then_the_chat_goes_on() -> None:
    """Ctrl-C as a terminal sends it (SIGINT to the foreground process group: the chat,
    its server and the harness) while `run_command` runs a long sleep, which ends at
    about the same time (before the Ctrl-C, or just after): the turn is cancelled, no
    sleep is left, and the next prompts answer. Before, the killed command's late
    post-tool hook was answered to a harness that had dropped it, and the next prompt
    failed with AGENT_FAILED "lost the connection to the agent's harness"."""
    tag = uuid.uuid4().int % 10**5
    marks = [f"30.{tag:05d}{i}" for i in range(2)]
    script = json.dumps({"replies": [sleep_reply(m) for m in marks], "fallback": "echo"})
    session = PtySession([*CHAT, "-y", "--script", script], PTY_ENV)
    try:
        at = session.expect("›").end()
        for n, mark in enumerate(marks):
            session.send(f"sleep {mark}\r")
            deadline = time.monotonic() + 20
            while not running_sleeps(mark):
                assert time.monotonic() < deadline, session.text
                session._pump(0.1)  # keep reading the terminal
            time.sleep(0.3)
            sleeps = running_sleeps(mark)
            if n == 0:
                _sigint(*sleeps)
            os.killpg(session.proc.pid, signal.SIGINT)
            if n == 1:
                time.sleep(0.05)
                _sigint(*sleeps)
            at = session.expect(r"turn cancelled[\s\S]*›", start=at).end()
            for prompt in ("one", "two", "three"):
                session.send(f"{prompt}\r")
                at = session.expect(rf"You said: {prompt}[\s\S]*tokens:[\s\S]*›", start=at).end()
            assert not running_sleeps(mark)
        session.send("\x04")
        assert session.wait() == 0
    finally:
        session.close()


def _sigint(*pids: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
