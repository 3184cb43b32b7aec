"""File tools for plain-LSP agents: reads see the editor's unsaved buffers, writes
go to the editor as `workspace/applyEdit`, so they land in its buffers and undo.

When the client supports `applyEdit`, the agent gets these in place of the SDK's
`view_file`, `write_to_file` and `replace_file_content` (docs/protocol.md,
"Standard LSP"). A write to an open document whose text changed since the agent
last saw it is refused (the model is told to read it again): a stale edit never
lands. The edit carries the document's version, so a change in flight makes the
editor refuse it too; a refused edit returns to the model as a tool error with the
editor's reason.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from agy_lsp.lsp.plain_state import READ, TOOLS, WRITE, PlainState, uri_of
from agy_lsp.protocol.types import RunToolParams, RunToolResult

if TYPE_CHECKING:
    from agy_lsp.lsp.language_server import AgyLanguageServer

log = logging.getLogger(__name__)


def open_document(ls: AgyLanguageServer, path: str) -> Any:
    """The open document at `path`, or None."""
    for uri, doc in ls.workspace.text_documents.items():
        if to_fs_path(uri) == path:
            return doc
    return None


async def text_of(ls: AgyLanguageServer, path: str) -> tuple[str | None, Any]:
    """(text, open document or None): the buffer when open, else the disk; None text for no file."""
    doc = open_document(ls, path)
    if doc is not None:
        return doc.source, doc
    file = anyio.Path(path)
    if not await file.is_file():
        return None, None
    return await file.read_text(errors="replace"), None


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def end_position(text: str) -> lsp.Position:
    lines = text.split("\n")
    return lsp.Position(line=len(lines) - 1, character=_utf16(lines[-1]))


def minimal_edit(old: str, new: str) -> lsp.TextEdit:
    """One TextEdit turning `old` into `new`, spanning only the lines that differ."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1] and a[end_a - 1].endswith("\n"):
        end_a, end_b = end_a - 1, end_b - 1
    before = "".join(a[:start])
    replaced = "".join(a[start:end_a])
    begin = end_position(before)
    finish = end_position(before + replaced)
    return lsp.TextEdit(range=lsp.Range(start=begin, end=finish), new_text="".join(b[start:end_b]))


class PlainTools:
    def __init__(self, ls: AgyLanguageServer, state: PlainState) -> None:
        self._ls = ls
        self._state = state
        self.seen: dict[tuple[str, str], str] = {}  # (agent, path) -> the text the agent last saw or wrote
        self.allowed: set[str] = set()  # calls the person allowed in the prompt, which showed the whole edit

    def saw(self, agent_id: str, path: str, text: str) -> None:
        self.seen[(agent_id, path)] = text

    async def run(self, params: RunToolParams) -> RunToolResult | None:
        """Our tools for our agents; None for anything else (the client's own tools)."""
        name = params.tool_call.name
        if params.agent_id not in self._state.plain_agents or name not in TOOLS:
            return None
        args = params.tool_call.args
        asked = params.tool_call.id in self.allowed
        self.allowed.discard(params.tool_call.id)
        path = args.get("path")
        if not isinstance(path, str) or not Path(path).is_absolute():
            return RunToolResult(error="`path` must be an absolute path")
        try:
            if name == READ:
                return await self._read(params.agent_id, path, args)
            if name == WRITE:
                return await self._write(params.agent_id, path, str(args.get("content", "")), whole=True, asked=asked)
            return await self._replace(params.agent_id, path, args, asked)
        except OSError as e:
            return RunToolResult(error=f"{type(e).__name__}: {e}")

    async def _read(self, agent_id: str, path: str, args: dict[str, Any]) -> RunToolResult:
        text, _ = await text_of(self._ls, path)
        if text is None:
            return RunToolResult(error=f"no such file: {path}")
        self.saw(agent_id, path, text)
        line, limit = args.get("line"), args.get("limit")
        lines = text.splitlines(keepends=True)
        start = max(0, (line if isinstance(line, int) else 1) - 1)
        stop = None if not isinstance(limit, int) else start + max(0, limit)
        return RunToolResult(content="".join(lines[start:stop]))

    async def _replace(self, agent_id: str, path: str, args: dict[str, Any], asked: bool) -> RunToolResult:
        old, new = args.get("old"), args.get("new")
        if not isinstance(old, str) or not old or not isinstance(new, str):
            return RunToolResult(error="`old` (non-empty) and `new` must be strings")
        text, _ = await text_of(self._ls, path)
        if text is None:
            return RunToolResult(error=f"no such file: {path}")
        count = text.count(old)
        if count != 1:
            return RunToolResult(error=f"`old` occurs {count} times in {path}; it must occur exactly once")
        return await self._write(agent_id, path, text.replace(old, new, 1), whole=False, asked=asked)

    async def _write(self, agent_id: str, path: str, content: str, *, whole: bool, asked: bool) -> RunToolResult:
        text, doc = await text_of(self._ls, path)
        seen = self.seen.get((agent_id, path))
        if whole and doc is not None and seen is not None and seen != text:
            return RunToolResult(
                error=f"{path} changed in the editor since you last read it; nothing was written. Read it again with read_file."
            )
        if text == content:
            return RunToolResult(content=f"{path} already has this content")
        edit = await self._send(path, text, content, doc, asked)
        if not edit.applied:
            reason = edit.failure_reason or "no reason given"
            return RunToolResult(error=f"the editor did not apply the edit to {path}: {reason}")
        self.saw(agent_id, path, content)
        if doc is not None:
            await self._until_synced(path, content)
        if text is None and not self._can_create():
            return RunToolResult(content=f"wrote the new file {path} on disk ({len(content)} characters; this editor cannot create files)")
        return RunToolResult(content=f"edited {path} in the editor ({len(content)} characters)")

    def _can_create(self) -> bool:
        return self._state.support.document_changes and self._state.support.resource_create

    async def _send(self, path: str, old: str | None, new: str, doc: Any, asked: bool) -> lsp.ApplyWorkspaceEditResult:
        support, uri = self._state.support, uri_of(path)
        if old is None and not self._can_create():
            # A client that cannot create files (eglot 1.9): the new file is on disk, its folder too, as an editor's CreateFile would.
            await anyio.Path(path).parent.mkdir(parents=True, exist_ok=True)
            await anyio.Path(path).write_text(new)
            return lsp.ApplyWorkspaceEditResult(applied=True)
        edit = minimal_edit(old or "", new)
        annotation = "agy" if support.change_annotations and support.document_changes else None
        if support.document_changes:
            changes: list[Any] = []
            if old is None:
                changes.append(lsp.CreateFile(uri=uri, options=lsp.CreateFileOptions(ignore_if_exists=True)))
            version = doc.version if doc is not None else None
            ident = lsp.OptionalVersionedTextDocumentIdentifier(uri=doc.uri if doc is not None else uri, version=version)
            edits: list[lsp.TextEdit | lsp.AnnotatedTextEdit] = [edit]
            if annotation is not None:
                edits = [lsp.AnnotatedTextEdit(range=edit.range, new_text=edit.new_text, annotation_id=annotation)]
            changes.append(lsp.TextDocumentEdit(text_document=ident, edits=edits))
            workspace_edit = lsp.WorkspaceEdit(document_changes=changes)
        else:
            workspace_edit = lsp.WorkspaceEdit(changes={doc.uri if doc is not None else uri: [edit]})
        if annotation is not None:
            workspace_edit.change_annotations = {
                # one yes is enough: the prompt showed this whole edit; an edit nobody was asked about (a
                # policy or an "always" allowed it) waits for the editor's own confirmation
                annotation: lsp.ChangeAnnotation(label="agy", needs_confirmation=not asked, description=f"the agent edits {path}")
            }
        params = lsp.ApplyWorkspaceEditParams(edit=workspace_edit, label=f"agy: edit {Path(path).name}")
        try:
            result: Any = await self._ls.workspace_apply_edit_async(params)
        except Exception as e:  # an editor that answers with an error (eglot does, for a refused edit): not applied
            return lsp.ApplyWorkspaceEditResult(applied=False, failure_reason=str(getattr(e, "message", None) or e))
        if isinstance(result, dict):
            return lsp.ApplyWorkspaceEditResult(applied=bool(result.get("applied")), failure_reason=result.get("failureReason"))  # pyright: ignore[reportUnknownArgumentType, reportUnknownMemberType]
        return result

    async def _until_synced(self, path: str, content: str) -> None:
        """Wait (briefly) for the editor's didChange, so the next read sees the edit."""
        for _ in range(50):
            doc = open_document(self._ls, path)
            if doc is None or doc.source == content:
                return
            await asyncio.sleep(0.02)
        log.info("the editor did not report the edit of %s within 1 s", path)
