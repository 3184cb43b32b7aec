"""The MCP Inspector CLI (npm @modelcontextprotocol/inspector, pinned; on Node 22) against
the real `agy-lsp --mcp` on a scripted model: tools/list, and tools/call of every tool,
success and error. The Inspector checks each result's structuredContent against the
tool's outputSchema (an invalid one is its exit 1, "data must have required property
..."); a valid isError result is its exit 5. Each call is a new Inspector and a new server
on one state directory, so sessions also cross server restarts."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agy_lsp.backends.script import parse_script
from agy_lsp.backends.scripted import ScriptedModel
from tests.third_party.conftest import AGY_LSP, npm_bin

TOOLS = {"agy_run", "agy_reply", "agy_status", "agy_cancel", "agy_sessions", "agy_history"}
OK, USAGE, TOOL_ERROR = 0, 1, 5  # the Inspector's exit codes


class Inspector:
    def __init__(self, tmp_path: Path, base_url: str) -> None:
        self.home = tmp_path / "home"  # the Inspector's own files (~/.mcp-inspector)
        self.home.mkdir()
        self.server_env = {
            "AGY_STATE_DIR": str(tmp_path / "state"),
            "AGY_KEYRING": "0",
            "AGY_PACING_MS": "0",
            "AGY_BACKEND": "openai",
            "AGY_BASE_URL": base_url,
            "AGY_MODEL": "scripted",
        }
        self.schemas: dict[str, Any] = {}

    def __call__(self, *args: str) -> tuple[int, dict[str, Any]]:
        argv = [*npm_bin("@modelcontextprotocol/inspector", "clients/launcher/build/index.js"), "--cli", "--format", "json"]
        for k, v in self.server_env.items():
            argv += ["-e", f"{k}={v}"]
        argv += [*args, "--", str(AGY_LSP), "--mcp"]
        env = {**os.environ, "HOME": str(self.home), "CI": "1"}
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)
        # With --format json: the result envelope on stdout (also for exit 5), an error one on stderr.
        envelopes = [json.loads(line) for line in (done.stdout + done.stderr).splitlines() if line.startswith("{")]
        body = next((e for e in envelopes if "result" in e), None) or next((e for e in envelopes if "error" in e), None)
        assert body is not None, (args, done.returncode, done.stdout, done.stderr)
        return done.returncode, body

    def call(self, tool: str, **arguments: Any) -> tuple[int, dict[str, Any]]:
        return self("--method", "tools/call", "--tool-name", tool, "--tool-args-json", json.dumps(arguments))

    def ok(self, tool: str, **arguments: Any) -> dict[str, Any]:
        code, body = self.call(tool, **arguments)
        assert code == OK, (tool, body)
        result = body["result"]
        assert result["isError"] is False and json.loads(result["content"][0]["text"]) == result["structuredContent"]
        self.check(tool, result["structuredContent"])
        return result["structuredContent"]

    def failed(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """A tool failure: a result with isError, valid against the tool's schema, and its error."""
        code, body = self.call(tool, **arguments)
        assert code == TOOL_ERROR, (tool, body)  # exit 1 with "data must have ..." when the result breaks the schema
        result = body["result"]
        assert result["isError"] is True
        self.check(tool, result["structuredContent"])
        return result["structuredContent"]["error"]

    def check(self, tool: str, structured: Any) -> None:
        """Again here, so a passing test does not rest on the Inspector's check alone."""
        if tool in self.schemas:
            jsonschema.validate(structured, self.schemas[tool])


@pytest.fixture
def scripted(model: ScriptedModel, tmp_path: Path):
    def make(*replies: dict[str, Any]) -> Inspector:
        base_url, _ = model.register(parse_script(list(replies)))
        inspector = Inspector(tmp_path, base_url)
        code, body = inspector("--method", "tools/list")
        assert code == OK, body
        inspector.schemas = {t["name"]: t["outputSchema"] for t in body["result"]["tools"]}
        return inspector

    return make


def test_tools_list_declares_every_tool_with_portable_schemas(scripted) -> None:
    inspector = scripted()
    code, body = inspector("--method", "tools/list", "--strict")  # exit 6 on an unportable schema
    assert code == OK, body
    tools = {t["name"]: t for t in body["result"]["tools"]}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool["inputSchema"]["type"] == "object" and tool["inputSchema"].get("additionalProperties") is False, tool
        assert tool["outputSchema"]["type"] == "object", tool
        jsonschema.validators.validator_for(tool["outputSchema"]).check_schema(tool["outputSchema"])


def test_every_tool_succeeds_across_server_restarts(scripted, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("remember the milk\n")
    inspector = scripted(
        {"toolCalls": [{"name": "view_file", "args": {"AbsolutePath": str(work / "notes.txt")}}]},
        {"text": "The notes say: remember the milk."},
        {"text": "Still the milk."},
    )
    run = inspector.ok("agy_run", prompt="What do the notes say?", cwd=str(work))
    assert run["stopReason"] == "end_turn" and run["text"] == "The notes say: remember the milk."
    assert [(c["name"], c["outcome"]) for c in run["toolCalls"]] == [("view_file", "completed")]
    sid = run["sessionId"]

    reply = inspector.ok("agy_reply", sessionId=sid, prompt="And now?")
    assert reply["sessionId"] == sid and reply["text"] == "Still the milk."

    status = inspector.ok("agy_status", sessionId=sid)
    assert status["sessionId"] == sid and status["busy"] is False and status["turnCount"] == 2, status

    listed = inspector.ok("agy_sessions", cwd=str(work))
    assert [s["sessionId"] for s in listed["sessions"]] == [sid] and listed["total"] == 1, listed

    history = inspector.ok("agy_history", sessionId=sid)
    assert "What do the notes say?" in history["markdown"] and "Still the milk." in history["markdown"], history

    cancel = inspector.ok("agy_cancel", sessionId=sid)
    assert cancel == {"sessionId": sid, "cancelled": False}  # nothing was running


def test_a_call_that_needs_confirmation_is_refused_and_never_runs(scripted, tmp_path: Path) -> None:
    """The Inspector CLI cannot answer elicitation, so safeDefaults' "ask" is a deny."""
    marker = tmp_path / "ran"
    inspector = scripted(
        {"toolCalls": [{"name": "run_command", "args": {"CommandLine": f"touch {marker}", "Cwd": str(tmp_path)}}]},
        {"text": "I could not run it."},
    )
    run = inspector.ok("agy_run", prompt="Touch the marker", cwd=str(tmp_path))
    [call] = run["toolCalls"]
    assert call["name"] == "run_command" and call["outcome"] == "denied" and "confirmation" in call["reason"], call
    assert not marker.exists(), "a refused command ran"


def test_bad_arguments_are_protocol_errors(scripted, tmp_path: Path) -> None:
    inspector = scripted()
    for tool, args, field in [
        ("agy_run", {"prompt": "hi", "cwd": "relative"}, "absolute"),
        ("agy_run", {"prompt": "hi", "sessionld": "typo"}, "sessionld"),
        ("agy_reply", {"prompt": "hi"}, "sessionId"),
        ("agy_status", {}, "sessionId"),
        ("agy_cancel", {"sessionId": 7}, "sessionId"),
        ("agy_sessions", {"limit": 0}, "limit"),
        ("agy_history", {"sessionId": "x", "limit": 0}, "limit"),
    ]:
        code, body = inspector.call(tool, **args)
        assert code == USAGE and field in body["error"]["message"], (tool, args, body)


def test_tool_failures_are_results_that_keep_their_schema(scripted, tmp_path: Path) -> None:
    """isError results with the agy error code, each valid against its tool's outputSchema."""
    inspector = scripted({"status": 500, "errorBody": "the model fell over"})
    error = inspector.failed("agy_run", prompt="first", cwd=str(tmp_path))
    assert error["code"] == "BACKEND_ERROR" and "fell over" in json.dumps(error["data"]), error
    for tool, args in [
        ("agy_reply", {"sessionId": "nope", "prompt": "hi"}),
        ("agy_status", {"sessionId": "nope"}),
        ("agy_cancel", {"sessionId": "nope"}),
        ("agy_history", {"sessionId": "nope"}),
    ]:
        assert inspector.failed(tool, **args)["code"] == "AGENT_NOT_FOUND", tool
