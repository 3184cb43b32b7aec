"""The commands an ACP session offers (`available_commands_update`) and what a typed
one does: `/plan` asks the agent to plan first (the SDK's slash command), `/clear`
forgets the conversation, `/<skill>` asks the agent to use one of its skills. The
SDK cannot compact on request, so there is no `/compact`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from acp.schema import AvailableCommand, AvailableCommandInput, UnstructuredCommandInput

from agy_lsp.protocol.types import ContentPart, Skills

PLAN, CLEAR = "plan", "clear"
BUILT_IN = [
    AvailableCommand(
        name=PLAN,
        description="Plan first: the agent writes a plan and waits for your go-ahead",
        input=AvailableCommandInput(root=UnstructuredCommandInput(hint="what to plan")),
    ),
    AvailableCommand(name=CLEAR, description="Forget this conversation's history and start afresh"),
]
_DESCRIPTION = re.compile(r"^description:\s*(.+?)\s*$", re.MULTILINE)


def skills_of(skills: Skills | None) -> dict[str, str]:
    """The agent's skills by name: inline ones, and each folder with a SKILL.md (a
    skills path is such a folder, or holds them), with their descriptions."""
    out: dict[str, str] = {}
    if skills is None:
        return out
    for skill in skills.inline:
        out[skill.name] = skill.description
    for root in skills.paths:
        folder = Path(root)
        candidates = [folder] if (folder / "SKILL.md").is_file() else sorted(p for p in folder.glob("*") if (p / "SKILL.md").is_file())
        for path in candidates:
            try:
                head = (path / "SKILL.md").read_text(errors="replace")[:4000]
            except OSError:
                continue
            found = _DESCRIPTION.search(head)
            out.setdefault(path.name, found.group(1).strip("\"'") if found else f"the {path.name} skill")
    return out


def available(skills: dict[str, str]) -> list[AvailableCommand]:
    hint = AvailableCommandInput(root=UnstructuredCommandInput(hint="what to do with it"))
    extra = [AvailableCommand(name=n, description=f"Skill: {d}", input=hint) for n, d in skills.items() if n not in (PLAN, CLEAR)]
    return BUILT_IN + extra


@dataclass
class Typed:
    name: str  # the command, without its slash
    rest: list[ContentPart]  # the prompt after it


def typed(parts: list[ContentPart], known: set[str]) -> Typed | None:
    """A prompt whose first text starts with `/<known command>`."""
    if not parts or parts[0].type != "text" or not (parts[0].text or "").startswith("/"):
        return None
    name, _, rest = (parts[0].text or "")[1:].partition(" ")
    name = name.strip()
    if name not in known:
        return None
    tail = [ContentPart(type="text", text=rest.strip())] if rest.strip() else []
    return Typed(name, tail + parts[1:])


def as_plan(parts: list[ContentPart]) -> list[ContentPart]:
    """A prompt the SDK's `/plan` command leads (once)."""
    if parts and parts[0].type == "command":
        return parts
    return [ContentPart(type="command", text=PLAN), *parts]


def as_skill(name: str, parts: list[ContentPart]) -> list[ContentPart]:
    ask = f"Use your skill `{name}` (look it up with lookup_skill) for this."
    return [ContentPart(type="text", text=ask), *parts]
