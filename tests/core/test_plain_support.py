"""What the server reads of a plain client's declared capabilities (plain_state.ClientSupport)."""

from __future__ import annotations

from typing import Any

from lsprotocol import converters
from lsprotocol import types as lsp

from agy_lsp.lsp.plain_state import ClientSupport


def support(workspace_edit: dict[str, Any]) -> ClientSupport:
    caps = {"workspace": {"applyEdit": True, "workspaceEdit": workspace_edit}}
    return ClientSupport.of(converters.get_converter().structure(caps, lsp.ClientCapabilities))


def test_resource_operations_without_document_changes_still_get_document_changes() -> None:
    # Neovim 0.12's declaration, verbatim: no `documentChanges`, yet it applies them; by the
    # spec only a client with neither documentChanges nor resourceOperations is limited to `changes`
    neovim = support({"resourceOperations": ["rename", "create", "delete"], "normalizesLineEndings": True,
                      "changeAnnotationSupport": {"groupsOnLabel": True}})  # fmt: skip
    assert neovim.document_changes and neovim.resource_create and neovim.change_annotations


def test_a_client_declaring_neither_gets_plain_changes() -> None:
    assert not support({}).document_changes
    assert not support({"resourceOperations": []}).document_changes
    assert support({"documentChanges": True}).document_changes
