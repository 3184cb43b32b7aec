"""A plain LSP client for the standard-LSP tests: it never declares the agy
capability, keeps its open documents like an editor (applying `workspace/applyEdit`
to them and reporting each change with `didChange`), and answers prompts as told."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Union

from lsprotocol import types as lsp
from pygls.uris import from_fs_path, to_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import SERVER, SERVER_ENV
from tests.helpers import wait_until


@dataclass
class Editor:
    client: LanguageClient
    docs: dict[str, list[Any]] = field(default_factory=dict)  # uri -> [version, text]
    edits: list[lsp.ApplyWorkspaceEditParams] = field(default_factory=list)
    prompts: list[lsp.ShowMessageRequestParams] = field(default_factory=list)
    answers: list[str | None] = field(default_factory=list)  # titles to answer showMessageRequest with
    reject_edits: str | None = None  # a failureReason to refuse every edit with
    fail_edits: str | None = None  # an error to answer every edit with (as eglot does)
    after_edit: Any = None  # called (uri) after an edit was applied: a person typing meanwhile
    server_capabilities: lsp.ServerCapabilities | None = None
    agy_chunks: list[Any] = field(default_factory=list)  # agy/chatChunk notifications (a plain client wants none)
    received: list[str] = field(default_factory=list)  # the method of every request and notification from the server

    def agy_received(self) -> list[str]:
        """The agy/* messages the server sent: a plain client has never heard of them."""
        return [m for m in self.received if m.startswith("agy/")]

    def open(self, path: str, text: str, language: str = "python") -> str:
        uri = from_fs_path(path) or path
        self.docs[uri] = [1, text]
        item = lsp.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=item))
        return uri

    def change(self, uri: str, text: str) -> None:
        """The person edits the buffer (a whole-text change)."""
        self.docs[uri][0] += 1
        self.docs[uri][1] = text
        ident = lsp.VersionedTextDocumentIdentifier(uri=uri, version=self.docs[uri][0])
        change = lsp.TextDocumentContentChangeWholeDocument(text=text)
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(text_document=ident, content_changes=[change]))

    def text(self, uri: str) -> str:
        return self.docs[uri][1]

    def apply(self, params: lsp.ApplyWorkspaceEditParams) -> lsp.ApplyWorkspaceEditResult:
        self.edits.append(params)
        if self.fail_edits is not None:
            raise ValueError(self.fail_edits)
        if self.reject_edits is not None:
            return lsp.ApplyWorkspaceEditResult(applied=False, failure_reason=self.reject_edits)
        for change in params.edit.document_changes or []:
            if isinstance(change, lsp.CreateFile):
                self.docs.setdefault(change.uri, [0, ""])  # a new buffer, not yet on disk
                continue
            if not isinstance(change, lsp.TextDocumentEdit):
                continue
            uri = change.text_document.uri
            if uri not in self.docs:
                return lsp.ApplyWorkspaceEditResult(applied=False, failure_reason=f"{uri} is not open")
            version, text = self.docs[uri]
            if change.text_document.version is not None and change.text_document.version != version:
                return lsp.ApplyWorkspaceEditResult(applied=False, failure_reason="version mismatch")
            for edit in change.edits:
                text = splice(text, edit.range, edit.new_text)
            if version == 0:  # a created file: the editor opens it
                self.open(to_fs_path(uri) or uri, text)
                continue
            self.change(uri, text)
            if self.after_edit is not None:
                self.after_edit(uri)
        return lsp.ApplyWorkspaceEditResult(applied=True)


def offset(text: str, pos: lsp.Position) -> int:
    lines = text.split("\n")
    return sum(len(line) + 1 for line in lines[: pos.line]) + pos.character


def splice(text: str, rng: lsp.Range, new: str) -> str:
    return text[: offset(text, rng.start)] + new + text[offset(text, rng.end) :]


def plain_capabilities(
    *, apply_edit: bool = True, show: bool = True, progress: bool = True, annotations: bool = False
) -> lsp.ClientCapabilities:
    edit = lsp.WorkspaceEditClientCapabilities(document_changes=True, resource_operations=[lsp.ResourceOperationKind.Create])
    if annotations:
        edit.change_annotation_support = lsp.ChangeAnnotationsSupportOptions(groups_on_label=True)
    return lsp.ClientCapabilities(
        workspace=lsp.WorkspaceClientCapabilities(apply_edit=apply_edit, workspace_edit=edit),
        window=lsp.WindowClientCapabilities(
            work_done_progress=progress,
            show_message=lsp.ShowMessageRequestClientCapabilities() if show else None,
        ),
    )


def fix_code_action_parsing(client: Any) -> None:
    """lsprotocol reads any object with a `command` key as a Command, so a CodeAction
    that carries a command comes out as a Command with its whole body in `command`;
    a real editor tells them apart by the key's type, as we do here."""
    converter = client.protocol._converter

    def hook(obj: Any, _: Any) -> Any:
        is_command = isinstance(obj.get("command"), str)
        return converter.structure(obj, lsp.Command if is_command else lsp.CodeAction)

    converter.register_structure_hook(Union[lsp.Command, lsp.CodeAction], hook)


async def start_plain(backend: dict[str, Any], folder: str, options: dict[str, Any] | None = None, **caps: bool) -> Editor:
    config = ClientServerConfig(server_command=SERVER, server_env=SERVER_ENV)
    client: Any = await config.start()
    editor = Editor(client)
    fix_code_action_parsing(client)
    handle = client.protocol.handle_message

    def record(message: Any) -> None:  # every message, also those the client has no handler for
        if isinstance(getattr(message, "method", None), str):
            editor.received.append(message.method)
        handle(message)

    client.protocol.handle_message = record

    @client.feature(lsp.WORKSPACE_APPLY_EDIT)
    def apply(params: lsp.ApplyWorkspaceEditParams) -> lsp.ApplyWorkspaceEditResult:
        return editor.apply(params)

    @client.feature("agy/chatChunk")
    def chunk(params: Any) -> None:
        editor.agy_chunks.append(params)

    if caps.get("show", True):  # a client that cannot show the prompt answers it with an error

        @client.feature(lsp.WINDOW_SHOW_MESSAGE_REQUEST)
        def prompt(params: lsp.ShowMessageRequestParams) -> lsp.MessageActionItem | None:
            editor.prompts.append(params)
            title = editor.answers.pop(0) if editor.answers else None
            return lsp.MessageActionItem(title=title) if title else None

    result = await client.initialize_session(
        lsp.InitializeParams(
            capabilities=plain_capabilities(**caps),
            initialization_options={"backend": backend, **(options or {})},
            workspace_folders=[lsp.WorkspaceFolder(uri=from_fs_path(folder) or folder, name="w")],
        )
    )
    editor.server_capabilities = result.capabilities
    return editor


async def run_command(editor: Editor, command: lsp.Command) -> dict[str, Any]:
    params = lsp.ExecuteCommandParams(command=command.command, arguments=command.arguments)
    result: Any = await editor.client.workspace_execute_command_async(params)
    return result


def progress_of(editor: Editor, turn_id: str) -> list[Any]:
    return editor.client.progress_reports.get(f"agy-{turn_id}", [])


async def until_done(editor: Editor, turn_id: str, timeout: float = 30) -> list[Any]:
    await wait_until(lambda: any(isinstance(r, lsp.WorkDoneProgressEnd) for r in progress_of(editor, turn_id)), timeout)
    return progress_of(editor, turn_id)


def workspace(tmp_path: Any, name: str, text: str) -> str:
    path = os.path.join(str(tmp_path), name)
    with open(path, "w") as f:
        f.write(text)
    return path
