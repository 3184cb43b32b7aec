"""`agy-lsp run`'s three output formats, each against docs/run-events.schema.json,
and the ways a prompt comes in."""

from __future__ import annotations

import jsonschema

from tests.run.conftest import SCHEMA, Runner, events, result_of, script


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_text_output_is_the_answer_alone(run: Runner) -> None:
    done = run("--script", script({"text": "The answer is 42."}), "what is it?")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "The answer is 42.\n"
    assert done.stderr == ""  # stderr is no terminal: no progress lines


def test_json_output_is_one_result_object(run: Runner) -> None:
    done = run("--output", "json", "--script", script({"text": "Hello there.", "promptTokens": 7, "completionTokens": 3}), "hi")
    assert done.returncode == 0, done.stderr
    result = result_of(done.stdout)
    assert result["status"] == "success" and result["exitCode"] == 0
    assert result["text"] == "Hello there." and result["stopReason"] == "end_turn"
    assert result["usage"]["totalTokens"] > 0
    assert result["sessionId"] and result["error"] is None and result["toolCalls"] == []


def test_stream_json_is_one_event_a_line_as_they_happen(run: Runner) -> None:
    done = run("--output", "stream-json", "--script", script({"text": "one two three", "chunks": 3, "chunkDelayMs": 300}), "count")
    assert done.returncode == 0, done.stderr
    seen = events(done.stdout)
    assert seen[0]["type"] == "init" and seen[0]["resumed"] is False and seen[0]["backend"] == "scripted"
    assert seen[-1]["type"] == "result" and seen[-1]["text"] == "one two three"
    texts = [e for e in seen if e["type"] == "text"]
    assert len(texts) >= 2 and "".join(e["text"] for e in texts) == "one two three"  # streamed, word by word
    assert [e["seq"] for e in texts] == sorted(e["seq"] for e in texts)
    assert [e["type"] for e in seen[-2:]] == ["usage", "result"]


def test_stream_json_shows_tool_calls_with_their_outcomes(run: Runner) -> None:
    file = run.cwd / "note.txt"
    args = {"TargetFile": str(file), "CodeContent": "hi\n", "Overwrite": False, "Description": "d"}
    write = {"toolCalls": [{"name": "write_to_file", "args": args}]}
    done = run("--output", "stream-json", "--yes", "--script", script(write, {"text": "Wrote it."}), "write a note")
    assert done.returncode == 0, done.stderr
    seen = events(done.stdout)
    call = next(e for e in seen if e["type"] == "tool_call")
    ended = next(e for e in seen if e["type"] == "tool_result")
    assert call["name"] == "write_to_file" and ended["id"] == call["id"] and ended["outcome"] == "completed"
    result = seen[-1]
    assert result["filesChanged"] == [str(file)] and file.read_text() == "hi\n"
    assert [(c["name"], c["outcome"]) for c in result["toolCalls"]] == [("write_to_file", "completed")]


def test_the_prompt_from_stdin(run: Runner) -> None:
    done = run("--script", script(), "-", stdin="hello from stdin\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "You said: hello from stdin\n"  # the scripted model echoes


def test_the_prompt_with_dash_p(run: Runner) -> None:
    done = run("--script", script(), "-p", "flagged prompt")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "You said: flagged prompt\n"


def test_schema_gives_structured_output(run: Runner) -> None:
    schema = run.cwd / "schema.json"
    schema.write_text('{"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}')
    finish = {"toolCalls": [{"name": "finish", "args": {"answer": "42"}}]}
    done = run("--output", "json", "--schema", str(schema), "--script", script(finish, {"text": "done"}), "what is it?")
    assert done.returncode == 0, done.stderr
    assert result_of(done.stdout)["structuredOutput"] == {"answer": "42"}


def test_no_wire_library_is_imported(run: Runner) -> None:
    """run drives the core in-process: pygls, lsprotocol, acp and mcp stay unloaded."""
    done = run("--script", script({"text": "ok"}), "hi", python=["-X", "importtime"])
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "agy_lsp.agents.manager" in imported and "google.antigravity" in imported  # the check sees imports
    wire = {m for m in imported if m.split(".")[0] in ("pygls", "lsprotocol", "acp", "mcp")}
    assert wire == set()


def test_progress_goes_to_stderr_only_when_it_is_a_terminal(run: Runner) -> None:

    from tests.run.conftest import run_command_call

    done, progress = run.with_tty_stderr("--yes", "--script", script(run_command_call("echo tty"), {"text": "Ran it."}), "run it")
    assert done.returncode == 0 and done.stdout == "Ran it.\n"  # stdout: the answer alone
    assert "allowed run_command(CommandLine='echo tty') (--yes)" in progress
    assert "→ run_command(" in progress and "run_command: completed" in progress
