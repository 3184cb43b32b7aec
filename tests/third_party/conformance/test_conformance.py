"""The official MCP conformance suite (npm @modelcontextprotocol/conformance, pinned; on
Node 22) against the real `agy-lsp --mcp --http`, on the scripted model.

The suite has no option for request headers: bearer.cjs, preloaded into it, adds our
token to every request it makes. Every server scenario runs (`--suite all`); those
that apply to agy-lsp must pass; the others test the suite's own fixtures (its test
tools `test_*`, resources `test://...`, prompts), which a server without them cannot
pass: they are in the baseline (`--expected-failures`), so the suite's exit code is 0
only when exactly they fail, and each of their failures is checked to be that (the
fixture is missing), not a defect. docs/mcp.md lists every scenario and why."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.third_party.conftest import NODE, NODE_MODULES, ROOT, require

HERE = Path(__file__).resolve().parent
SUITE = NODE_MODULES / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"

APPLIES = {
    "server-initialize",
    "ping",
    "tools-list",
    "resources-list",
    "server-sse-polling",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
}
# Passes (no check fails) but warns, and the suite's baseline counts a warning as a failure.
WARNS = {
    "server-sse-polling": "its priming-event, retry and resume checks run on the suite's own test_reconnection tool "
    "(a POST at protocol 2025-03-26, for which the mcp package sends no priming event); "
    "agy-lsp's own resumption is tested in tests/mcp_front/test_http_reconnect.py",
}
NO_LOGGING = "agy-lsp offers no logging capability (deprecated as of MCP 2026-07-28); its logs go to stderr"
NO_PROMPTS = "agy-lsp offers no prompts"
TEST_TOOL = "calls one of the suite's own test tools (test_*), which agy-lsp does not have"
TEST_RESOURCE = "reads the suite's own test:// resources; agy-lsp's resources are agy://sessions/<id>"
NOT_APPLICABLE = {
    "logging-set-level": NO_LOGGING,
    "completion-complete": "agy-lsp offers no completions (no prompts, one resource template whose id is not guessable)",
    "tools-call-simple-text": TEST_TOOL,
    "tools-call-image": TEST_TOOL,
    "tools-call-audio": TEST_TOOL,
    "tools-call-embedded-resource": TEST_TOOL,
    "tools-call-mixed-content": TEST_TOOL,
    "tools-call-with-logging": TEST_TOOL,
    "tools-call-error": TEST_TOOL,
    "tools-call-with-progress": TEST_TOOL,
    "tools-call-sampling": TEST_TOOL,
    "tools-call-elicitation": TEST_TOOL,
    "json-schema-2020-12": "looks for the suite's own tool json_schema_2020_12_tool",
    "elicitation-sep1034-defaults": TEST_TOOL,
    "elicitation-sep1330-enums": TEST_TOOL,
    "resources-read-text": TEST_RESOURCE,
    "resources-read-binary": TEST_RESOURCE,
    "resources-templates-read": TEST_RESOURCE,
    "resources-subscribe": TEST_RESOURCE,
    "resources-unsubscribe": TEST_RESOURCE,
    "prompts-list": NO_PROMPTS,
    "prompts-get-simple": NO_PROMPTS,
    "prompts-get-with-args": NO_PROMPTS,
    "prompts-get-embedded-resource": NO_PROMPTS,
    "prompts-get-with-image": NO_PROMPTS,
}
# How a scenario fails when what it needs is not there (and only then).
MISSING = re.compile(
    r"Method not found|unknown tool 'test_\w+'|not an agy session resource: 'test://|Tool 'json_schema_2020_12_tool' not found"
)


def test_the_official_conformance_suite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    node, suite = require(NODE, "Node 22"), require(SUITE, "@modelcontextprotocol/conformance")
    token = secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "AGY_STATE_DIR": str(tmp_path / "state"),
        "AGY_KEYRING": "0",
        "AGY_BACKEND": "scripted",
        "AGY_TOKEN": token,
        "GEMINI_API_KEY": "",
    }
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "agy_lsp", "--mcp", "--http", "127.0.0.1:0", "--sessions-per-token", "1000"],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    try:
        port = _port(server, log_path)
        baseline = tmp_path / "baseline.yml"
        baseline.write_text("server:\n" + "".join(f"  - {name}\n" for name in sorted({*NOT_APPLICABLE, *WARNS})))
        out = tmp_path / "results"
        argv = [str(node), "--require", str(HERE / "bearer.cjs"), str(suite), "server", "--url", f"http://localhost:{port}/mcp"]
        argv += ["--suite", "all", "-o", str(out), "--expected-failures", str(baseline)]
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=600,
            cwd=ROOT / "tests" / "third_party",
            env={**os.environ, "AGY_CONFORMANCE_TOKEN": token},
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    summary = done.stdout[done.stdout.find("=== SUMMARY ===") :] if "=== SUMMARY ===" in done.stdout else done.stdout[-3000:]
    with capsys.disabled():  # the suite's own summary, each line marked as its (its "Total: N passed, M failed"
        # counts the not-applicable scenarios of its baseline, and must not read as this run's result)
        print("\n" + "\n".join(f"[conformance] {line}" for line in summary.strip().splitlines()) + "\n")

    results = _results(out)
    assert set(results) == APPLIES | set(NOT_APPLICABLE), (
        f"scenarios the docs do not list: {set(results) ^ (APPLIES | set(NOT_APPLICABLE))}"
    )
    for name in APPLIES:
        failures = [c for c in results[name] if c["status"] == "FAILURE"]
        assert not failures, (name, failures)
    warned = [c["id"] for c in results["server-sse-polling"] if c["status"] == "WARNING"]
    assert set(warned) <= {"server-sse-priming-event", "server-sse-retry-field", "server-sse-disconnect-resume"}, warned
    for name in NOT_APPLICABLE:
        for check in results[name]:
            if check["status"] == "FAILURE":
                assert MISSING.search(check.get("errorMessage") or ""), (name, check)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert server.returncode == 0, log_path.read_text()


def _port(server: subprocess.Popen[bytes], log_path: Path) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        if m := re.search(r"serving MCP on http://127\.0\.0\.1:(\d+)/mcp", text):
            return int(m.group(1))
        assert server.poll() is None, text
        time.sleep(0.1)
    raise AssertionError("the server did not start")


def _results(out: Path) -> dict[str, list[dict[str, str]]]:
    """scenario -> its checks, from the suite's `server-<scenario>-<timestamp>/checks.json`."""
    found: dict[str, list[dict[str, str]]] = {}
    for checks in out.glob("server-*/checks.json"):
        name = re.sub(r"-\d{4}-\d\d-\d\dT.*$", "", checks.parent.name.removeprefix("server-"))
        found[name] = json.loads(checks.read_text())
    return found
