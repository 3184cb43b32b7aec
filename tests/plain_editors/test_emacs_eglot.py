"""Emacs 28 with eglot (Debian's elpa-eglot), no agy plugin, configured with the
snippet from docs/editors.md, in `emacs --batch`, on the real server, SDK and
scripted model. eglot's own prompts are answered from queues (eglot_driver.el)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from tests.plain_editors.conftest import ROOT, doc_snippet

EMACS = shutil.which("emacs")
DRIVER = Path(__file__).with_name("eglot_driver.el")
# Skipped where Emacs is missing, but never in CI (CI=true): there it must run, not pass by skipping.
pytestmark = pytest.mark.skipif(
    EMACS is None and not os.environ.get("CI"), reason="emacs not installed (tests/plain_editors/provision.sh; `make test` runs it)"
)

BUGGY = "def add(a, b):\n    return a - b\n"
MARKER = "# agy: make this async\ndef load():\n    pass\n"


def run(
    tmp_path: Path,
    model: ScriptedModel,
    scenario: str,
    text: str,
    replies: list[dict[str, Any]],
    name: str = "m.py",
    start: str | None = None,
) -> dict[str, Any]:
    """Runs the driver's `scenario` on `name` (holding `text`), eglot started in `start` if
    given (else in `name`); the driver's result, with the model's requests."""
    base_url, state = model.register(parse_script(replies))
    (tmp_path / ".git").mkdir(exist_ok=True)
    path = tmp_path / name
    path.write_text(text)
    config = tmp_path / "agy-eglot.el"
    config.write_text(doc_snippet("Emacs", "elisp"))  # exactly what the docs tell users
    result = tmp_path / "result.json"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "AGY_STATE_DIR": str(tmp_path / "state"),
        "AGY_PACING_MS": "0",
        "AGY_BACKEND": "openai",
        "AGY_BASE_URL": base_url,
        "AGY_MODEL": "scripted",
        "GEMINI_API_KEY": "",
        "GOOGLE_API_KEY": "",
        "PYTHONPATH": str(ROOT),
        "AGY_SCENARIO": scenario,
        "AGY_FILE": str(path),
        "AGY_RESULT": str(result),
        **({"AGY_START": str(tmp_path / start)} if start else {}),
    }
    assert EMACS is not None
    done = subprocess.run([EMACS, "--batch", "-l", str(config), "-l", str(DRIVER)], env=env, capture_output=True, text=True, timeout=180)
    (tmp_path / "emacs.log").write_text(done.stderr)
    assert result.exists(), f"emacs exited {done.returncode}:\n{done.stderr[-4000:]}"
    return {**json.loads(result.read_text()), "requests": state.requests}


def shell(command: str, cwd: str) -> dict[str, Any]:
    return {"toolCalls": [{"name": "run_command", "id": "c1", "args": {"CommandLine": command, "Cwd": cwd}}]}


def test_a_code_action_at_a_diagnostic_fixes_the_buffer(tmp_path: Path, model: ScriptedModel) -> None:
    finding = [{"line": 2, "severity": "error", "message": "add subtracts", "fix": {"old": "return a - b", "new": "return a + b"}}]
    out = run(tmp_path, model, "fix-at-diagnostic", BUGGY, [{"text": json.dumps(finding)}])
    assert out["text"] == BUGGY.replace("a - b", "a + b") and out["modified"]
    assert (tmp_path / "m.py").read_text() == BUGGY, "the fix is in the buffer, not written behind it"


def test_a_marker_comment_action_does_what_it_says(tmp_path: Path, model: ScriptedModel) -> None:
    path = str(tmp_path / "m.py")
    edit = {"path": path, "old": "# agy: make this async\ndef load():", "new": "async def load():"}
    replies = [{"toolCalls": [{"name": "replace_in_file", "id": "c1", "args": edit}]}, {"text": "done"}]
    out = run(tmp_path, model, "marker", MARKER, replies)
    assert out["text"] == "async def load():\n    pass\n" and out["modified"]
    assert "replace_in_file" in out["prompts"][0] and "async def load():" in out["prompts"][0]


@pytest.mark.parametrize("answer", ["allow", "reject"])
def test_an_ask_call_is_answered_in_eglots_prompt(tmp_path: Path, model: ScriptedModel, answer: str) -> None:
    ran = tmp_path / "ran.txt"
    out = run(tmp_path, model, answer, BUGGY, [shell(f"touch {ran}", str(tmp_path)), {"text": "explained"}])
    assert f"touch {ran}" in out["prompts"][0], "the whole command is in the prompt"
    assert ran.exists() is (answer == "allow"), "a rejected command does not run"


def test_a_cancelled_action_stops_the_turn(tmp_path: Path, model: ScriptedModel) -> None:
    slow = {"text": "word " * 300, "chunks": 300, "chunkDelayMs": 100}  # 30 s of answer
    out = run(tmp_path, model, "cancel", BUGGY, [slow])
    assert out["answer"] == {"cancelled": 1}
    assert any("agy: explain (m.py): cancelled" in m for m in out["messages"])
    assert out["seconds"] < 15


NOTES = "# Notes\n\nsome context\n\n## you\n\nWhat is in m.py?\n"


def test_a_markdown_document_is_a_conversation(tmp_path: Path, model: ScriptedModel) -> None:
    code = tmp_path / "m.py"
    code.write_text("X = 1\n")
    read = {"toolCalls": [{"name": "read_file", "id": "c1", "args": {"path": str(code)}}]}
    replies = [read, {"text": "It sets X to 1."}, {"text": "X times 2 is 2."}]
    out = run(tmp_path, model, "chat", NOTES, replies, "notes.agy.md", start="m.py")  # eglot started in m.py, as in a session
    assert out["mode"] == "text-mode", "the docs' snippet gives *.agy.md a mode eglot manages (Emacs 28 has no markdown-mode)"
    first = NOTES + "\n## agy\n\n> ⚙ read_file\n\n> ✓ read_file completed\n\nIt sets X to 1.\n\n## you\n\n"
    assert out["first"] == first, "streamed under `## agy`, tool calls as quoted lines, closed by `## you`"
    assert out["text"] == first + "And what is X times 2?\n\n## agy\n\nX times 2 is 2.\n\n## you\n\n"
    asked = out["requests"][0]["messages"][-1]["content"]
    assert "What is in m.py?" in asked and "some context" not in asked, "only the text under the last heading is sent"
    again = str(out["requests"][-1]["messages"])
    assert "And what is X times 2?" in again and "What is in m.py?" in again and "It sets X to 1." in again, (
        "the second message continues the same conversation"
    )
    assert out["modified"] and (tmp_path / "notes.agy.md").read_text() == NOTES, "in the buffer; the disk changes when the person saves"
    assert out["confirms"] >= 2, "eglot asks before each streamed piece by default, as docs/editors.md says"
    assert len([m for m in out["messages"] if "agy: chat (notes.agy.md): done" in m]) == 2, "no progress in eglot 1.9: a message"


def test_typing_while_the_answer_streams_loses_nothing(tmp_path: Path, model: ScriptedModel) -> None:
    # eglot reports the person's typing 0.5 s later and refuses the batches sent meanwhile
    # (a stale version) with an error answer: they are sent again on the new version.
    slow = {"text": "word " * 30, "chunks": 30, "chunkDelayMs": 100}
    out = run(tmp_path, model, "chat-typing", NOTES, [slow], "notes.agy.md")
    typed = NOTES.replace("# Notes", "# Notes!", 1)
    assert out["text"] == typed + "\n## agy\n\n" + "word " * 30 + "\n\n## you\n\n", out["messages"]


def test_write_tests_puts_a_new_file_on_disk_after_the_person_allows_it(tmp_path: Path, model: ScriptedModel) -> None:
    # eglot 1.9 declares no workspaceEdit.resourceOperations, so it cannot take a CreateFile:
    # the server writes a new file itself, once the person allowed the write in eglot's prompt.
    new = tmp_path / "tests" / "test_m.py"
    content = "from m import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    pytest_run = {"CommandLine": "python -m pytest -q -p no:cacheprovider tests/test_m.py"}
    replies = [
        {"toolCalls": [{"name": "write_file", "id": "c1", "args": {"path": str(new), "content": content}}]},
        {"toolCalls": [{"name": "run_command", "id": "c2", "args": {**pytest_run, "Cwd": str(tmp_path), "WaitMsBeforeAsync": 30000}}]},
        {"text": "wrote tests/test_m.py; it passes"},
    ]
    out = run(tmp_path, model, "tests", "def add(a, b):\n    return a + b\n", replies)
    assert "Write tests for the code at lines 1-" in str(out["requests"][0]["messages"])
    write, command = out["prompts"]
    assert "write_file" in write and str(new) in write and "assert add(1, 2) == 3" in write, "the person sees the whole file"
    assert "python -m pytest" in command, "the model's test run is asked in eglot's prompt"
    assert new.read_text() == content, "on disk, as docs/protocol.md says for a client that cannot create files"
    assert str(new) not in out["buffers"] and not out["confirms"], "no buffer: eglot 1.9 cannot take a CreateFile"
    told = [str(m.get("content")) for m in out["requests"][-1]["messages"] if m.get("role") == "tool"]
    assert any("1 passed" in m for m in told), told
