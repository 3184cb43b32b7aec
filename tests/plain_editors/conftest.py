"""Real editors with no agy plugin, configured exactly as docs/editors.md says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "editors.md"


def doc_snippet(heading: str, language: str) -> str:
    """The first `language` code block under the docs/editors.md section starting with `heading`."""
    text = DOCS.read_text()
    start = text.index(f"\n## {heading}")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    block = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert block is not None, f"no {language} block under '## {heading}' in docs/editors.md"
    return block.group(1)


@pytest.fixture
def model():
    """A scripted model in the test process, so a test can read what the model was sent."""
    from agy_lsp.backends.scripted import ScriptedModel

    server = ScriptedModel()
    yield server
    server.close()
