"""`textDocument/codeAction` for any LSP client: Antigravity actions on a range.

Listing never starts a turn: each action carries the command `agy-lsp.action` with its
arguments, and only running that command starts the agent. A document the server
has not seen, or a range outside it, offers nothing (never an error).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from agy_lsp.lsp.plain_state import PlainState

if TYPE_CHECKING:
    from agy_lsp.lsp.language_server import AgyLanguageServer

ACTION_COMMAND = "agy-lsp.action"
KINDS: dict[str, str] = {
    "fix": lsp.CodeActionKind.QuickFix.value,
    "marker": "refactor.rewrite.agy.marker",
    "document": "refactor.rewrite.agy.document",
    "tests": "source.agy.tests",
    "explain": "source.agy.explain",
    "review": "source.agy.review",
    "cancel": "source.agy.cancel",
}
OFFERED_KINDS = [lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.RefactorRewrite, lsp.CodeActionKind.Source]  # and chat: source.agy.chat
# `# agy: ...`, `// agy: ...`, `-- agy: ...`, `; agy: ...`, `/* agy: ... */`, `<!-- agy: ... -->`
MARKER = re.compile(r"(?:#|//|--|;|/\*|<!--)\s*agy:\s*(?P<text>.+?)\s*(?:\*/|-->)?\s*$")
WHOLE_FILE_LINES = 2000  # a longer file is sent as a window around the range
WINDOW_LINES = 150  # lines before and after the range in that window


def document(ls: AgyLanguageServer, uri: str) -> Any:
    """The open document with this uri, or None (never read from disk: unseen is nothing)."""
    docs = ls.workspace.text_documents
    doc = docs.get(uri)
    if doc is None:
        path = to_fs_path(uri)
        doc = next((d for u, d in docs.items() if path is not None and to_fs_path(u) == path), None)
    return doc


def in_document(doc: Any, rng: lsp.Range) -> bool:
    lines = len(doc.lines) or 1
    return 0 <= rng.start.line <= lines and 0 <= rng.end.line <= lines and rng.start.line <= rng.end.line


def _overlaps(a: lsp.Range, b: lsp.Range) -> bool:
    return not (a.end.line < b.start.line or b.end.line < a.start.line)


def _wanted(kind: str, only: list[str] | None) -> bool:
    return not only or any(kind == o or kind.startswith(o + ".") for o in only)


def _action(title: str, kind: str, args: dict[str, Any], diagnostics: list[lsp.Diagnostic] | None = None) -> lsp.CodeAction:
    return lsp.CodeAction(
        title=title,
        kind=KINDS[kind],
        diagnostics=diagnostics,
        command=lsp.Command(title=title, command=ACTION_COMMAND, arguments=[{"action": kind, **args}]),
    )


def markers(doc: Any, rng: lsp.Range) -> list[tuple[int, str]]:
    """(line, instruction) of every `agy:` marker comment on the range's lines."""
    lines = doc.lines
    found: list[tuple[int, str]] = []
    for n in range(rng.start.line, min(rng.end.line, len(lines) - 1) + 1):
        if m := MARKER.search(lines[n]):
            found.append((n, m.group("text")))
    return found


def code_actions(ls: AgyLanguageServer, state: PlainState, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    doc = document(ls, params.text_document.uri)
    rng = params.range
    if doc is None or not in_document(doc, rng):
        return []
    only = [str(k.value if isinstance(k, lsp.CodeActionKind) else k) for k in params.context.only or []]
    where: dict[str, Any] = {"uri": doc.uri, "range": _range_json(rng)}
    actions: list[lsp.CodeAction] = []
    for diag in params.context.diagnostics:
        if _overlaps(diag.range, rng) and _wanted(KINDS["fix"], only) and diag.source != "agy":
            message = diag.message.strip().splitlines()[0] if diag.message.strip() else "this problem"
            args = {**where, "range": _range_json(diag.range), "diagnostic": _diag_json(diag)}
            actions.append(_action(f"agy: fix “{message[:80]}”", "fix", args, [diag]))
    for line, text in markers(doc, rng):
        if _wanted(KINDS["marker"], only):
            line_range = lsp.Range(start=lsp.Position(line=line, character=0), end=lsp.Position(line=line + 1, character=0))
            args = {**where, "range": _range_json(line_range), "instruction": text}
            actions.append(_action(f"agy: {text[:80]}", "marker", args))
    for kind, title in (("explain", "agy: explain this code"), ("tests", "agy: write tests for this"), ("document", "agy: document this")):
        if _wanted(KINDS[kind], only):
            actions.append(_action(title, kind, where))
    if _wanted(KINDS["review"], only):  # commands as code actions too: not every editor can run a server command
        actions.append(_command_action("agy: review this", "review", "agy-lsp.review", where))
    path = to_fs_path(doc.uri)
    running = state.turn_of_agent(state.agents.get(state.folder_of(path), "")) if path else None
    if running is not None and _wanted(KINDS["cancel"], only):
        actions.insert(0, _command_action(f"agy: cancel “{running.title}”", "cancel", "agy-lsp.cancel", {"turnId": running.turn_id}))
    return actions


def _command_action(title: str, kind: str, command: str, args: dict[str, Any]) -> lsp.CodeAction:
    return lsp.CodeAction(title=title, kind=KINDS[kind], command=lsp.Command(title=title, command=command, arguments=[args]))


def _range_json(rng: lsp.Range) -> dict[str, Any]:
    start, end = rng.start, rng.end
    return {"start": {"line": start.line, "character": start.character}, "end": {"line": end.line, "character": end.character}}


def _diag_json(diag: lsp.Diagnostic) -> dict[str, Any]:
    out: dict[str, Any] = {"message": diag.message, "range": _range_json(diag.range)}
    if diag.source:
        out["source"] = diag.source
    if diag.code is not None:
        out["code"] = diag.code
    return out


def excerpt(text: str, start: int, end: int) -> tuple[str, str]:
    """What the model is shown of a file, and a note saying whether it is the whole."""
    lines = text.splitlines(keepends=True)
    if len(lines) <= WHOLE_FILE_LINES:
        return _numbered(lines, 0), "the whole file"
    first, last = max(0, start - WINDOW_LINES), min(len(lines), end + 1 + WINDOW_LINES)
    note = f"lines {first + 1}-{last} of {len(lines)} only (the file is too long to send whole); read more with read_file if you need it"
    return _numbered(lines[first:last], first), note


def _numbered(lines: list[str], first: int) -> str:
    return "".join(f"{first + i + 1:>6}  {line}" for i, line in enumerate(lines)) + ("" if not lines or lines[-1].endswith("\n") else "\n")


INSTRUCTIONS = {
    "fix": "Fix this problem the editor reports: {problem}. Change only what the fix needs.",
    "marker": "Do what this comment (at line {line}) asks: {instruction}. Then remove the `agy:` marker comment.",
    "explain": "Explain what the code at lines {start}-{end} does, briefly. Do not change any file.",
    "tests": "Write tests for the code at lines {start}-{end}, where and how this project keeps its tests.",
    "document": "Document the code at lines {start}-{end} (docstrings or comments, in the file's own style). Change nothing else.",
}


def prompt_for(action: str, path: str, text: str, args: dict[str, Any], can_edit: bool) -> str:
    rng = args.get("range") or {}
    start = int(rng.get("start", {}).get("line", 0))
    end = int(rng.get("end", {}).get("line", start))
    diag = args.get("diagnostic") or {}
    problem = str(diag.get("message", "")).strip() or "the diagnostic"
    if diag.get("source"):
        problem += f" (from {diag['source']}{' ' + str(diag['code']) if diag.get('code') is not None else ''})"
    task = INSTRUCTIONS[action].format(
        problem=f"line {start + 1}: {problem}", line=start + 1, instruction=args.get("instruction", ""), start=start + 1, end=end + 1
    )
    shown, note = excerpt(text, start, end)
    how = (
        "Make changes with replace_in_file (or write_file for a whole file): they go to the editor's buffer."
        if can_edit
        else "Make the changes in the file on disk."
    )
    return f"{task}\n\nFile: {path}. The editor has it open; below is {note}, with line numbers.\n{how}\n\n```\n{shown}```\n"
