"""The architecture contracts of `make lint` (import-linter, in pyproject.toml) are
real: each one breaks when the code breaks it. Checked on a copy of the package
with one bad import added."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]


def lint(tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tmp)}
    return subprocess.run([*LINT, "--config", str(tmp / "pyproject.toml")], cwd=tmp, env=env, capture_output=True, text=True)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "agy_lsp", tmp_path / "agy_lsp", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_import(copy: Path, module: str, line: str) -> None:
    path = copy / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_contracts_hold_on_the_real_package(copy: Path) -> None:
    result = lint(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("agy_lsp.agents.turn", "import pygls", "speak no wire library"),
        ("agy_lsp.agents.session", "from lsprotocol import types", "speak no wire library"),
        ("agy_lsp.agents.manager", "import google.antigravity", "only by its adapter"),
        ("agy_lsp.lsp.rpc", "from google.antigravity import types", "only by its adapter"),
        ("agy_lsp.sdk.port", "from agy_lsp.agents import turn", "Layers"),
        ("agy_lsp.acp.updates", "from agy_lsp.lsp import rpc", "Layers"),
        ("agy_lsp.agents.store", "from agy_lsp.agents import session", "No import cycles"),
        ("agy_lsp.run.output", "import mcp.types", "run imports no wire library"),
        ("agy_lsp.run_cli", "from agy_lsp.lsp import server", "run imports no wire library"),
        ("agy_lsp.acp.turns", "from agy_lsp.agents import session", "only through its faces"),
        ("agy_lsp.mcp.sessions", "from agy_lsp.agents.store import SessionStore", "only through its faces"),
        ("agy_lsp.lsp.server", "from agy_lsp.agents.turn import Turn", "only through its faces"),
        ("agy_lsp.mcp.turns", "import agy_lsp.agents.queries", "only through its faces"),
    ],
)
def test_a_bad_import_breaks_a_contract(copy: Path, module: str, line: str, broken: str) -> None:
    add_import(copy, module, line)
    result = lint(copy)
    assert result.returncode != 0
    section = result.stdout.split("Broken contracts", 1)[-1]
    assert broken in section, result.stdout


FACES = {"manager", "sessions", "editor", "report"}  # what a front-end may import from agy_lsp.agents


def test_the_faces_contract_covers_every_other_core_module(copy: Path) -> None:
    """A front-end importing every module of agy_lsp.agents breaks the contract for each
    one but the faces: a new module is off limits to the front-ends until made a face."""
    modules = sorted(p.stem for p in (ROOT / "agy_lsp" / "agents").glob("*.py") if p.stem != "__init__")
    assert FACES <= set(modules)
    for m in modules:
        add_import(copy, "agy_lsp.acp.turns", f"import agy_lsp.agents.{m}")
    result = lint(copy)
    refused = set(re.findall(r"agy_lsp\.acp is not allowed to import agy_lsp\.agents\.(\w+)", result.stdout))
    assert refused == set(modules) - FACES, result.stdout
