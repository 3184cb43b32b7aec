"""The harness retrying a failed model request shows as a line in the Neovim chat,
before the answer (a real headless Neovim, the real server, the scripted model's
Gemini dialect: the harness retries its 503 after about 4 s)."""

from __future__ import annotations

import uuid

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from tests.nvim.conftest import Nvim


def test_a_retry_is_a_line_before_the_answer(nvim: Nvim, model: ScriptedModel) -> None:
    name = f"retry-{uuid.uuid4().hex[:8]}"
    model.register(parse_script([{"status": 503, "errorBody": "overloaded"}, {"text": "Back again."}]), name=name)
    env = {"GOOGLE_GEMINI_BASE_URL": model.gemini_base_url, "GEMINI_API_KEY": "scripted-not-a-key"}
    nvim.setup(backend={"type": "gemini", "model": name}, env=env)
    nvim.cmd("AgyChat hello")
    assert nvim.wait_turn()["text"] == "Back again."
    lines = nvim.chat_lines()
    line = "  ↻ model request failed (HTTP 503: overloaded), retrying (attempt 2)…"
    assert line in lines, lines
    assert lines.index(line) < lines.index("Back again.")
