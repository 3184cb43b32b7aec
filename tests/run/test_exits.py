"""`agy-lsp run`'s exit codes (docs/run.md#exit-codes), refused calls, signals, a
closed stdout, and going on with a stored session."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from tests.helpers import harness_children, pid_alive
from tests.run.conftest import TIMEOUT, Runner, events, result_of, run_command_call, script


def test_usage_errors_exit_2(run: Runner) -> None:
    assert run("--no-such-flag", "x").returncode == 2
    no_prompt = run("--script", script())
    assert no_prompt.returncode == 2 and "no prompt" in no_prompt.stderr
    unknown = run("--output", "json", "--resume", "nosuchsession", "--script", script(), "hi")
    assert unknown.returncode == 2 and "nosuchsession" in unknown.stderr
    result = result_of(unknown.stdout)
    assert result["status"] == "usage" and result["exitCode"] == 2 and "nosuchsession" in result["error"]["message"]
    run.env["AGY_MAX_LIVE_AGENTS"] = "abc"
    bad_env = run("--script", script(), "hi")
    del run.env["AGY_MAX_LIVE_AGENTS"]
    assert bad_env.returncode == 2 and "AGY_MAX_LIVE_AGENTS='abc'" in bad_env.stderr and "Traceback" not in bad_env.stderr
    hostile = run("--resume", "../../etc/passwd", "--script", script(), "hi")
    assert hostile.returncode == 2 and "--resume" in hostile.stderr and "Traceback" not in hostile.stderr
    bad_schema = run("--output", "json", "--schema", str(run.cwd / "missing.json"), "--script", script(), "hi")
    assert bad_schema.returncode == 2 and result_of(bad_schema.stdout)["error"]["name"] == "USAGE"
    nothing = run("--continue", "--script", script(), "hi")
    assert nothing.returncode == 2 and "no stored session" in nothing.stderr


def test_a_model_error_exits_1(run: Runner) -> None:
    done = run("--output", "json", "--script", script({"status": 400, "errorBody": "bad request"}), "hi")
    assert done.returncode == 1
    result = result_of(done.stdout)
    assert result["status"] == "error" and result["error"]["name"] == "BACKEND_ERROR"
    assert "HTTP 400" in done.stderr


def test_a_timeout_exits_4(run: Runner) -> None:
    t0 = time.monotonic()
    done = run("--output", "json", "--timeout", "3", "--script", script({"hang": True}), "hi")
    assert done.returncode == 4, done.stderr
    assert result_of(done.stdout)["status"] == "timeout"
    assert time.monotonic() - t0 < 30


def test_a_call_that_needs_consent_is_refused_and_ends_the_turn(run: Runner) -> None:
    done = run("--output", "json", "--script", script(run_command_call(), {"text": "never said"}), "run it")
    assert done.returncode == 3
    assert "refused run_command" in done.stderr and "--allow run_command" in done.stderr and "--yes" in done.stderr
    result = result_of(done.stdout)
    assert result["status"] == "refused" and result["stopReason"] == "cancelled" and "never said" not in result["text"]
    [call] = result["toolCalls"]
    assert call["name"] == "run_command" and call["outcome"] == "denied"
    assert call["allowWith"] == ["--allow run_command", "--yes"] and "--allow run_command" in call["error"]


@pytest.mark.parametrize("flags", [["--allow", "run_command"], ["--yes"]])
def test_the_flags_allow_it(run: Runner, flags: list[str]) -> None:
    done = run("--output", "json", *flags, "--script", script(run_command_call("echo ran-it"), {"text": "Ran it."}), "run it")
    assert done.returncode == 0, done.stderr
    result = result_of(done.stdout)
    [call] = result["toolCalls"]
    assert call["outcome"] == "completed" and "ran-it" in str(call["result"]) and result["text"] == "Ran it."


def _first_text(proc: subprocess.Popen[str]) -> list[str]:
    """Reads stream-json lines up to the first text event."""
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, "the run ended before its first text"
        lines.append(line)
        if json.loads(line)["type"] == "text":
            return lines
    raise AssertionError("no text event")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_cancels_the_turn_stores_it_and_leaves_no_harness(run: Runner, signum: int, code: int) -> None:
    slow = {"text": "one two three four five six seven eight", "chunks": 8, "chunkDelayMs": 700}
    proc = run.spawn("--output", "stream-json", "--script", script(slow, {"text": "second turn"}), "count slowly")
    try:
        lines = _first_text(proc)
        harnesses = harness_children(proc.pid)
        assert harnesses, "the run's harness is its child"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    seen = events("".join(lines) + out)
    result = seen[-1]
    assert result["status"] == "cancelled" and result["stopReason"] == "cancelled" and result["exitCode"] == code
    assert result["text"].startswith("one") and "eight" not in result["text"]
    assert not any(pid_alive(p) for p in harnesses)
    # stored, and resumable: the next run goes on with the same conversation
    again = run("--output", "stream-json", "--resume", result["sessionId"], "--script", script({"text": "resumed"}), "go on")
    assert again.returncode == 0, again.stderr
    resumed = events(again.stdout)
    assert resumed[0]["resumed"] is True and resumed[-1]["sessionId"] == result["sessionId"]
    assert resumed[-1]["text"] == "resumed"


def test_continue_goes_on_with_the_workspaces_latest_session(run: Runner) -> None:
    first = result_of(run("--output", "json", "--script", script({"text": "first"}), "remember 7").stdout)
    later = result_of(run("--output", "json", "--script", script({"text": "later"}), "another").stdout)
    assert first["sessionId"] != later["sessionId"]
    done = run("--output", "stream-json", "--continue", "--script", script({"text": "continued"}), "go on")
    assert done.returncode == 0, done.stderr
    seen = events(done.stdout)
    assert seen[0]["resumed"] is True and seen[-1]["sessionId"] == later["sessionId"] and seen[-1]["text"] == "continued"


def test_a_closed_stdout_ends_the_run_quietly(run: Runner) -> None:
    """`agy-lsp run ... | head -1`: no traceback, no complaint, no harness left."""
    slow = {"text": "line1\nline2\nline3\nline4\nline5\n", "chunks": 5, "chunkDelayMs": 400}
    cmd = " ".join(f"'{a}'" for a in run.args("--script", script(slow), "lines"))
    shell = f"{cmd} 2>{run.cwd}/err | head -1; echo rc=${{PIPESTATUS[0]}}"
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, env=run.env, cwd=run.cwd, timeout=TIMEOUT)
    assert done.stdout.splitlines() == ["line1", "rc=141"]
    assert (run.cwd / "err").read_text() == ""


@pytest.mark.parametrize(
    ("flags", "reply", "stop_reason"),
    [
        (["--max-turn-requests", "1"], {"toolCalls": [{"name": "view_file", "args": {"AbsolutePath": "/x"}}]}, "MAX_MODEL_CALLS_EXCEEDED"),
        (["--max-tokens", "10"], {"text": "long", "promptTokens": 100, "completionTokens": 50}, "MAX_TOTAL_TOKENS_EXCEEDED"),
    ],
)
def test_a_budget_stops_the_turn_with_exit_1(run: Runner, flags: list[str], reply: dict[str, object], stop_reason: str) -> None:
    done = run("--output", "json", *flags, "--script", script(reply, {"text": "more"}), "go")
    assert done.returncode == 1, done.stderr
    result = result_of(done.stdout)
    assert result["status"] == "error" and result["stopReason"] == stop_reason
