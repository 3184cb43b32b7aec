"""The embedding example in docs/client.md runs exactly as written, and so does `make demo`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.client.conftest import FULL_ENV

ROOT = Path(__file__).resolve().parents[2]


def docs_example() -> str:
    text = (ROOT / "docs" / "client.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert blocks, "docs/client.md has no python block"
    return blocks[0]


def test_docs_example_and_demo_run(tmp_path: Path) -> None:
    example = tmp_path / "example.py"
    example.write_text(docs_example(), encoding="utf-8")
    run = {"env": FULL_ENV, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, "cwd": tmp_path}
    docs = subprocess.Popen([sys.executable, str(example)], **run)  # type: ignore[call-overload]
    demo = subprocess.Popen([sys.executable, "-m", "agy_lsp.demo"], **{**run, "cwd": ROOT})  # type: ignore[call-overload]

    out, err = docs.communicate(timeout=40)
    assert docs.returncode == 0, err
    assert out.splitlines() == [
        "Hello from the model!",
        "stop reason: end_turn",
        "[allowing word_count]",
        "That text has 3 words.",
        out.splitlines()[-1],
    ]
    assert re.fullmatch(r"turns: 2 tokens: \d+", out.splitlines()[-1])

    out, err = demo.communicate(timeout=40)
    assert demo.returncode == 0, err
    assert "answered by the demo" in out and "⚙ run_command" in out and "Output: hello from a tool call" in out
    assert "tokens:" in out and "server exited with code 0" in out
