"""Kate 22.12 (Debian's `kate`), no agy plugin, configured with the JSON from
docs/editors.md, under Xvfb and driven with xdotool, on the real server, SDK and
scripted model. `agy-lsp` on Kate's PATH is kate_probe.py, which runs the real server
and logs the frames both ways, so the test reads what Kate sent and got."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from tests.plain_editors.conftest import ROOT, doc_snippet

TOOLS = {name: shutil.which(name) for name in ("kate", "Xvfb", "xdotool", "dbus-run-session")}
# Skipped where Kate or Xvfb is missing, but never in CI (CI=true): there it must run, not pass by skipping.
pytestmark = pytest.mark.skipif(
    not all(TOOLS.values()) and not os.environ.get("CI"),
    reason=f"missing {[n for n, p in TOOLS.items() if p is None]} (tests/plain_editors/provision.sh; `make test` runs it)",
)

BUGGY = "def add(a, b):\n    return a - b\n"
Message = dict[str, Any]


class Kate:
    """Kate on its own Xvfb display and session bus, in its own process group."""

    def __init__(self, tmp_path: Path, backend_url: str) -> None:
        self.log = tmp_path / "probe.jsonl"
        home = tmp_path / "home"
        (home / ".config/kate/lspclient").mkdir(parents=True)
        # where Kate 22.12 reads "User Server Settings": exactly what the docs say
        (home / ".config/kate/lspclient/settings.json").write_text(doc_snippet("Kate", "json"))
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        self.probe = bin_dir / "agy-lsp"
        self.probe.write_text(f"#!{sys.executable}\n" + Path(__file__).with_name("kate_probe.py").read_text())
        self.probe.chmod(0o755)
        # Kate asks once before it starts a server's command line; this is the "Yes" it keeps
        (home / ".config/katerc").write_text(f"[lspclient]\nAllowedServerCommandLines={self.probe}\n")
        self.project = tmp_path / "proj"
        (self.project / ".git").mkdir(parents=True)
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local/share"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_RUNTIME_DIR": str(tmp_path / "run"),
            "AGY_PROBE_REAL": str(Path(sys.executable).parent / "agy-lsp"),
            "AGY_PROBE_LOG": str(self.log),
            "AGY_STATE_DIR": str(tmp_path / "state"),
            "AGY_PACING_MS": "0",
            "AGY_BACKEND": "openai",
            "AGY_BASE_URL": backend_url,
            "AGY_MODEL": "scripted",
            "GEMINI_API_KEY": "",
            "GOOGLE_API_KEY": "",
            "PYTHONPATH": str(ROOT),
            "QT_QPA_PLATFORM": "xcb",
        }
        (tmp_path / "run").mkdir(mode=0o700)
        self.kate_log = tmp_path / "kate.log"
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, path: Path) -> None:
        read, write = os.pipe()
        xvfb = subprocess.Popen(
            [str(TOOLS["Xvfb"]), "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            pass_fds=(write,),
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.procs.append(xvfb)
        os.close(write)
        with os.fdopen(read) as displayfd:
            self.env["DISPLAY"] = f":{displayfd.readline().strip()}"
        with open(self.kate_log, "wb") as out:
            kate = [str(TOOLS["dbus-run-session"]), "--", str(TOOLS["kate"]), "-n", str(path)]
            self.procs.append(subprocess.Popen(kate, env=self.env, cwd=self.project, stdout=out, stderr=out, start_new_session=True))

    def stop(self) -> None:
        for proc in reversed(self.procs):  # each leads its own group: Kate's group holds the probe and the server
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    def xdo(self, *args: str) -> str:
        done = subprocess.run([str(TOOLS["xdotool"]), *args], env=self.env, capture_output=True, text=True, timeout=60)
        return done.stdout.strip()

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.xdo("key", "--delay", "50", key)

    def focus(self) -> None:
        window = self.xdo("search", "--sync", "--onlyvisible", "--class", "kate").split()[-1]
        self.xdo("windowfocus", "--sync", window)

    def messages(self) -> list[Message]:
        if not self.log.exists():
            return []
        whole = self.log.read_text().split("\n")[:-1]  # the last piece may be a line still being written
        return [json.loads(line) for line in whole if line.strip()]

    def wait_for(self, what: str, find: Callable[[list[Message]], Any], timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := find(self.messages()):
                return found
            time.sleep(0.2)
        seen = "\n".join(json.dumps(m)[:300] for m in self.messages()[-20:])
        raise AssertionError(f"timed out waiting for {what}; last frames:\n{seen}\nkate:\n{self.kate_log.read_text()[-2000:]}")

    def choose_code_action(self, title: str, then: tuple[str, str]) -> Message:
        """Alt+Return (Kate's "Code Action" menu at the cursor), then the item titled `title`;
        returns the first `then` (sender, method) frame after it. The menu shows "Loading..."
        until Kate has the answer: a choice made before that is tried again, a little later."""
        for attempt in range(1, 4):
            mark = len(self.messages())
            self.keys("alt+Return")
            request = self.wait_for(
                "Kate's textDocument/codeAction", lambda ms, mark=mark: _sent(ms[mark:], "editor", "textDocument/codeAction")
            )
            reply = self.wait_for("its answer", lambda ms, request=request: _reply(ms, request["id"]))
            titles = [a["title"] for a in reply["result"]]
            assert title in titles, titles
            time.sleep(0.5 * attempt)
            self.keys(*["Down"] * (titles.index(title) + 1), "Return")
            try:
                return self.wait_for(f"{then[1]} after choosing {title!r}", lambda ms, mark=mark: _sent(ms[mark:], *then), timeout=15)
            except AssertionError:
                self.keys("Escape")
        raise AssertionError(f"choosing {title!r} in Kate's code action menu did nothing, 3 times")


def _sent(messages: list[Message], sender: str, method: str) -> Message | None:
    return next((m["msg"] for m in messages if m["from"] == sender and m["msg"].get("method") == method), None)


def _reply(messages: list[Message], request_id: Any) -> Message | None:
    replies = (m["msg"] for m in messages if m["from"] == "server" and "method" not in m["msg"])
    return next((r for r in replies if r.get("id") == request_id), None)


def _offset(text: str, pos: dict[str, int]) -> int:
    return sum(len(line) + 1 for line in text.split("\n")[: pos["line"]]) + pos["character"]


def _text_after_changes(text: str, changes: list[dict[str, Any]]) -> str:
    for change in changes:
        if "range" not in change:
            text = change["text"]
        else:
            rng = change["range"]
            text = text[: _offset(text, rng["start"])] + change["text"] + text[_offset(text, rng["end"]) :]
    return text


@pytest.fixture
def kate(tmp_path: Path, model: ScriptedModel) -> Iterator[Callable[[list[dict[str, Any]]], Kate]]:
    started: list[Kate] = []

    def start(replies: list[dict[str, Any]]) -> Kate:
        base_url, _ = model.register(parse_script(replies))
        editor = Kate(tmp_path, base_url)
        started.append(editor)
        return editor

    yield start
    for editor in started:
        editor.stop()


@pytest.mark.parametrize("how", ["menu", "quick-fix"])
def test_kate_starts_agy_lsp_from_the_docs_and_a_review_fix_lands_in_its_buffer(kate: Any, how: str) -> None:
    finding = [{"line": 2, "severity": "error", "message": "add subtracts", "fix": {"old": "return a - b", "new": "return a + b"}}]
    editor: Kate = kate([{"text": json.dumps(finding)}])
    path = editor.project / "m.py"
    path.write_text(BUGGY)
    editor.start(path)

    opened = editor.wait_for("Kate's didOpen", lambda ms: _sent(ms, "editor", "textDocument/didOpen"), timeout=90)
    assert opened["params"]["textDocument"]["text"] == BUGGY and opened["params"]["textDocument"]["languageId"] == "python"
    init = _sent(editor.messages(), "editor", "initialize")
    assert init is not None
    params = init["params"]
    assert Path(f"/proc/{params['processId']}/comm").read_text().strip() == "kate", "Kate itself started the server"
    assert params["initializationOptions"] == json.loads(doc_snippet("Kate", "json"))["servers"]["python"]["initializationOptions"]
    assert params["rootUri"] == editor.project.as_uri(), "rootIndicationFileNames found the project"
    caps = params["capabilities"]
    # What docs/editors.md says of Kate 22.12: a plain client that declares neither applyEdit
    # nor showMessage (and answers showMessageRequest with an error), but shows progress.
    assert "experimental" not in caps and "applyEdit" not in caps.get("workspace", {}) and "showMessage" not in caps["window"]
    assert caps["window"]["workDoneProgress"] is True

    editor.focus()
    editor.keys("ctrl+Home", "Down")  # the cursor on `return a - b`
    run = editor.choose_code_action("agy: review this", then=("editor", "workspace/executeCommand"))
    assert run["params"]["command"] == "agy-lsp.review"
    published = editor.wait_for("the finding as a diagnostic", lambda ms: _sent(ms, "server", "textDocument/publishDiagnostics"))
    assert [d["message"] for d in published["params"]["diagnostics"]] == ["add subtracts"]

    if how == "menu":
        changed = editor.choose_code_action("agy: add subtracts", then=("editor", "textDocument/didChange"))
    else:  # Quick Fix runs every action offered: at our own finding that is its fix alone
        mark = len(editor.messages())
        editor.keys("ctrl+period")
        changed = editor.wait_for("Quick Fix's didChange", lambda ms: _sent(ms[mark:], "editor", "textDocument/didChange"))
        time.sleep(1)
        assert _sent(editor.messages()[mark:], "editor", "workspace/executeCommand") is None, "Quick Fix started no turn"
    fixed = BUGGY.replace("a - b", "a + b")
    assert _text_after_changes(BUGGY, changed["params"]["contentChanges"]) == fixed, "the fix is in Kate's buffer"
    assert path.read_text() == BUGGY, "and not written behind it"
    editor.keys("ctrl+s")
    deadline = time.monotonic() + 30
    while path.read_text() != fixed and time.monotonic() < deadline:
        time.sleep(0.2)
    assert path.read_text() == fixed, "Kate saved its buffer"


def test_in_kate_an_agent_write_asks_and_kates_error_refuses_it(kate: Any, tmp_path: Path) -> None:
    """Kate 22.12 cannot show window/showMessageRequest: a write that asks is refused, never done behind it."""
    marker = "# agy: make this async\ndef load():\n    pass\n"
    path = tmp_path / "proj" / "m.py"  # where Kate's project is
    write = {"TargetFile": str(path), "CodeContent": "async def load():\n    pass\n", "Overwrite": True, "Description": "async"}
    editor: Kate = kate([{"toolCalls": [{"name": "write_to_file", "id": "c1", "args": write}]}, {"text": "could not write"}])
    path.write_text(marker)
    editor.start(path)
    editor.wait_for("Kate's didOpen", lambda ms: _sent(ms, "editor", "textDocument/didOpen"), timeout=90)

    editor.focus()
    editor.keys("ctrl+Home")
    run = editor.choose_code_action("agy: make this async", then=("editor", "workspace/executeCommand"))
    assert run["params"]["arguments"][0]["action"] == "marker"
    asked = editor.wait_for("the consent prompt", lambda ms: _sent(ms, "server", "window/showMessageRequest"))
    assert "write_to_file" in asked["params"]["message"] and str(path) in asked["params"]["message"], "the whole call is shown"
    answer = editor.wait_for(
        "Kate's answer", lambda ms: next((m["msg"] for m in ms if m["msg"].get("id") == asked["id"] and m["from"] == "editor"), None)
    )
    assert "error" in answer, "Kate 22.12 answers the prompt with an error"

    def ended(ms: list[Message]) -> Any:
        return next((m for m in ms if m["msg"].get("method") == "$/progress" and m["msg"]["params"]["value"]["kind"] == "end"), None)

    editor.wait_for("the action to end", ended)
    assert path.read_text() == marker, "the refused write did not happen"
    assert _sent(editor.messages(), "editor", "textDocument/didChange") is None, "nor in Kate's buffer"
