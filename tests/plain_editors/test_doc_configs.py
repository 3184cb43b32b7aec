"""The docs/editors.md configurations for editors we do not run here (Helix, Kate's JSON,
Sublime LSP): each snippet is read verbatim, parsed with its format's parser, checked for
the fields that editor needs, and its exact command line is started and driven through
the LSP handshake and a code action by a plain client (no agy capability), as that
editor would."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import tomllib

from tests.plain_editors.conftest import doc_snippet
from tests.plain_editors.stdio_client import StdioClient

COMMANDS = {"agy-lsp.action", "agy-lsp.review", "agy-lsp.chat", "agy-lsp.cancel", "agy-lsp.newAgent", "agy-lsp.planThenGo"}
INCREMENTAL = 2  # TextDocumentSyncKind.Incremental
# Helix merges a user's [[language]] into its built-in one of the same name (file types,
# scope, roots come from there); these are Helix's names for the languages we document.
HELIX_LANGUAGES = {"python", "markdown", "javascript", "typescript", "go", "rust", "c", "cpp", "lua"}
# Kate 22.12's built-in servers (addons/lspclient/settings.json): a user entry with one of
# these names inherits its highlightingModeRegex; any other name needs its own.
KATE_BUILTIN = {"python": "^Python$", "javascript": "^JavaScript.*$", "typescript": "^TypeScript.*$", "go": "^Go$", "rust": "^Rust$"}
SUBLIME_SCOPE = re.compile(r"^(source|text)(\.[a-z0-9_+-]+)+$")


def helix() -> tuple[list[str], Any]:
    config = tomllib.loads(doc_snippet("Helix", "toml"))
    servers = config["language-server"]
    assert isinstance(servers, dict) and servers, "a [language-server.NAME] table"
    ours = [name for name, server in servers.items() if "agy-lsp" in str(server.get("command"))]
    assert len(ours) == 1, f"one [language-server.X] runs agy-lsp: {servers}"
    name, server = ours[0], servers[ours[0]]
    assert isinstance(server["command"], str), "Helix's `command` is a string (arguments go in `args`)"
    args = server.get("args", [])
    assert isinstance(args, list) and all(isinstance(a, str) for a in args)
    languages = config["language"]
    assert isinstance(languages, list), "[[language]] is an array of tables"
    using = [lang for lang in languages if name in lang.get("language-servers", [])]
    assert using, f"a [[language]] lists {name!r} in language-servers"
    for lang in using:
        own = "file-types" in lang and "scope" in lang
        assert lang["name"] in HELIX_LANGUAGES or own, f"{lang['name']}: not a Helix language, so it needs file-types and scope"
    return [server["command"], *args], server.get("config")  # Helix sends `config` as initializationOptions


def kate() -> tuple[list[str], Any]:
    config = json.loads(doc_snippet("Kate", "json"))
    servers = config["servers"]
    assert isinstance(servers, dict) and servers
    for language, server in servers.items():
        command = server["command"]
        assert isinstance(command, list) and command and all(isinstance(c, str) for c in command), "Kate's `command` is a list"
        regex = server.get("highlightingModeRegex", KATE_BUILTIN.get(language))
        assert regex is not None, f"{language}: not one of Kate's built-in servers, so it needs highlightingModeRegex"
        assert re.search(regex, language, re.I), f"{language}: {regex!r} does not match Kate's mode name"
        assert isinstance(server.get("url", ""), str)
    first = next(iter(servers.values()))
    return first["command"], first.get("initializationOptions")


def sublime_json(text: str) -> Any:
    """Sublime settings: JSON plus // and /* */ comments and trailing commas (nothing else)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == '"':  # a string, copied whole: a // in it is no comment
            end = re.compile(r'"(?:[^"\\]|\\.)*"').match(text, i)
            assert end is not None, "unterminated string"
            out.append(end.group())
            i = end.end()
        elif text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
        else:
            out.append(text[i])
            i += 1
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", "".join(out)))


def sublime() -> tuple[list[str], Any]:
    config = sublime_json(doc_snippet("Sublime Text", "json"))
    clients = config["clients"]
    assert isinstance(clients, dict) and len(clients) == 1
    client = next(iter(clients.values()))
    assert client["enabled"] is True
    command = client["command"]
    assert isinstance(command, list) and command and all(isinstance(c, str) for c in command)
    scopes = [s.strip() for s in client["selector"].split("|")]
    assert all(SUBLIME_SCOPE.match(s) for s in scopes), f"selector is `scope | scope`: {client['selector']!r}"
    assert "source.python" in scopes
    return command, client.get("initializationOptions")


def test_sublime_settings_parser_strips_only_comments_and_trailing_commas() -> None:
    text = '{\n  // a comment\n  "a": "x // not a comment", /* block */ "b": [1, 2,],\n}\n'
    assert sublime_json(text) == {"a": "x // not a comment", "b": [1, 2]}
    with pytest.raises(json.JSONDecodeError):
        sublime_json("{'a': 1}")  # single quotes are not Sublime JSON


PLAIN_CAPABILITIES = {  # an editor that has never heard of agy: no experimental.agy
    "workspace": {"applyEdit": True, "workspaceEdit": {"documentChanges": True}},
    "textDocument": {"codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix", "refactor", "source"]}}}},
    "window": {"workDoneProgress": True, "showMessage": {}},
}


@pytest.mark.parametrize("editor", [helix, kate, sublime], ids=["helix", "kate", "sublime"])
def test_the_documented_command_serves_a_plain_client(editor: Any, tmp_path: Path) -> None:
    command, options = editor()
    (tmp_path / ".git").mkdir()
    path = tmp_path / "m.py"
    text = "# agy: make this async\ndef load():\n    pass\n"
    path.write_text(text)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # where `pip install` puts agy-lsp
        "HOME": str(tmp_path),
        "AGY_STATE_DIR": str(tmp_path / "state"),
        "AGY_BACKEND": "",
        "GEMINI_API_KEY": "",
        "GOOGLE_API_KEY": "",
    }
    client = StdioClient(command, env, str(tmp_path))
    try:
        root = path.parent.as_uri()
        init = {"processId": os.getpid(), "rootUri": root, "capabilities": PLAIN_CAPABILITIES, "initializationOptions": options}
        init["workspaceFolders"] = [{"uri": root, "name": "w"}]
        caps = client.request("initialize", init)["capabilities"]
        assert caps["codeActionProvider"]
        assert COMMANDS <= set(caps["executeCommandProvider"]["commands"])
        sync = caps["textDocumentSync"]
        assert (sync["change"] if isinstance(sync, dict) else sync) == INCREMENTAL
        assert not (isinstance(sync, dict) and sync.get("openClose") is False)
        client.notify("initialized", {})

        uri = path.as_uri()
        client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})
        where = {"start": {"line": 0, "character": 3}, "end": {"line": 0, "character": 3}}
        actions = client.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": where, "context": {"diagnostics": []}})
        by_title = {a["title"]: a for a in actions}
        marker = by_title["agy: make this async"]
        assert marker["kind"].startswith("refactor.rewrite") and marker["command"]["command"] == "agy-lsp.action"
        assert {"agy: explain this code", "agy: write tests for this", "agy: document this"} <= set(by_title)
        assert all(a["command"]["command"] in COMMANDS for a in actions), "every action runs an advertised command"

        assert client.request("shutdown") is None
        client.notify("exit")
        assert client.proc.wait(15) == 0
        assert client.error is None, f"the server's stdout broke the framing: {client.error!r}"
        errors = [n for n in client.notifications if n["method"] == "window/logMessage" and n["params"]["type"] == 1]
        assert not errors, f"the documented initializationOptions were refused: {errors}"
        assert not [r for r in client.server_requests if r["method"] == "workspace/applyEdit"], "listing actions started a turn"
    finally:
        client.close()
