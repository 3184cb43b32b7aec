"""Plans the agent writes. In planning mode (`/plan`) the harness has the agent write
an implementation plan artifact, `implementation_plan.md`, and keep a task list,
`task.md` (both in its app data dir, `brain/<conversation>/`), then wait for the
person's go-ahead. A write of either becomes a `plan` chunk: the Markdown, and its
checklist items (`- [ ]`, `- [/]`, `- [x]`) as entries.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from agy_lsp.protocol.types import Plan, PlanEntry

PLAN_FILES = frozenset({"implementation_plan.md", "task.md"})
_PATH_ARGS = ("TargetFile", "target_file", "path", "file_path", "AbsolutePath")
_CONTENT_ARGS = ("CodeContent", "code_content", "content")
_ITEM = re.compile(r"^\s*[-*]\s+\[( |x|X|/)\]\s+(.+?)\s*$", re.MULTILINE)
_STATUS = {" ": "pending", "/": "in_progress", "x": "completed", "X": "completed"}
MAX_PLAN_BYTES = 256 * 1024


def plan_written(args: dict[str, Any]) -> Plan | None:
    """The plan a file write produced, if it wrote one of the plan artifacts."""
    path = next((v for k in _PATH_ARGS if isinstance(v := args.get(k), str) and v), None)
    if path is None or Path(path).name not in PLAN_FILES:
        return None
    markdown = _read(path)
    if markdown is None:  # not on disk (yet): the content the tool was given
        markdown = next((v for k in _CONTENT_ARGS if isinstance(v := args.get(k), str)), None)
    if markdown is None:
        return None
    return Plan(path=path, markdown=markdown, entries=entries(markdown))


def entries(markdown: str) -> list[PlanEntry]:
    return [PlanEntry(content=m.group(2), status=_STATUS[m.group(1)]) for m in _ITEM.finditer(markdown)]  # pyright: ignore[reportArgumentType]


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(MAX_PLAN_BYTES)
    except OSError:
        return None
