"""Claude Code and Gemini CLI (npm, pinned; on Node 22), set up with the exact
`mcp add` commands of docs/mcp.md (read from the docs file) in a scratch HOME: their own
`mcp list` connects to the real `agy-lsp --mcp` (an MCP initialize and tools/list)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.third_party.conftest import NODE, NODE_MODULES, ROOT, require


def documented(host: str) -> list[str]:
    """The `<host> mcp add` lines of docs/mcp.md's section for that host, verbatim."""
    text = (ROOT / "docs" / "mcp.md").read_text()
    title = {"claude": "### Claude Code", "gemini": "### Gemini CLI"}[host]
    section = text.split(title, 1)[1].split("\n### ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, f"docs/mcp.md: no sh block under {title}"
    lines = [line for line in block.group(1).splitlines() if line.startswith(f"{host} mcp add ")]
    assert lines, f"docs/mcp.md: no `{host} mcp add` under {title}"
    return lines


def shell(tmp_path: Path, command: str, cwd: Path) -> str:
    """`command` in bash as a person would type it, in a scratch HOME, with the pinned
    hosts, Node 22 and this checkout's agy-lsp on PATH."""
    require(NODE, "Node 22")
    path = [str(NODE.parent), str(NODE_MODULES / ".bin"), str(Path(sys.executable).parent), os.environ["PATH"]]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AGY_", "GEMINI_", "GOOGLE_", "ANTHROPIC_", "CLAUDE"))},
        "HOME": str(tmp_path / "home"),
        "PATH": os.pathsep.join(path),
        "GEMINI_API_KEY": "scripted-not-a-key",  # what the documented commands pass on
        "AGY_KEYRING": "0",  # the server never asks this machine's keyring
        "AGY_STATE_DIR": str(tmp_path / "state"),
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    done = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, (command, done.stdout, done.stderr)
    return done.stdout + done.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    path = tmp_path / "project"
    path.mkdir()
    return path


@pytest.mark.parametrize("command", documented("claude"))
def test_claude_code_connects_with_the_documented_command(command: str, tmp_path: Path, project: Path) -> None:
    require(NODE_MODULES / ".bin" / "claude", "Claude Code")
    shell(tmp_path, command, project)
    listed = shell(tmp_path, "claude mcp list", project)
    assert re.search(r"^agy: agy-lsp --mcp - ✔ Connected$", listed, re.M), listed


@pytest.mark.parametrize("command", documented("gemini"))
def test_gemini_cli_connects_with_the_documented_command_in_a_trusted_folder(command: str, tmp_path: Path, project: Path) -> None:
    require(NODE_MODULES / ".bin" / "gemini", "Gemini CLI")
    shell(tmp_path, command, project)
    # An untrusted folder shows the server but never starts it.
    assert re.search(r"agy: agy-lsp --mcp \(stdio\) - Disabled", shell(tmp_path, "gemini mcp list", project)), "trusted already?"
    # Trusting the folder, as Gemini CLI's trust dialog ("Trust folder") records it.
    trusted = tmp_path / "home" / ".gemini" / "trustedFolders.json"
    trusted.write_text(json.dumps({str(project): "TRUST_FOLDER"}))
    listed = shell(tmp_path, "gemini mcp list", project)
    assert re.search(r"✓ agy: agy-lsp --mcp \(stdio\) - Connected", listed), listed
