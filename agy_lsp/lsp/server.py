"""`build_server`: the language server with every feature registered."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from agy_lsp.lsp import agent_methods, initialize, plain_commands, query_methods, turn_methods
from agy_lsp.lsp.language_server import AgyLanguageServer
from agy_lsp.lsp.plain_run import PlainLayer
from agy_lsp.settings import Settings

if TYPE_CHECKING:
    from agy_lsp.sdk.port import Sdk


def build_server(settings: Settings, client_process_id: int | None = None, sdk: Callable[[], Sdk] | None = None) -> AgyLanguageServer:
    """`sdk`: the core's SDK factory (None: the real SDK; tests/inproc passes a fake)."""
    server = AgyLanguageServer(settings, client_process_id, sdk)
    for feature in (initialize, agent_methods, turn_methods, query_methods):
        feature.register(server)
    plain_commands.register(server, PlainLayer(server))  # standard LSP, for clients with no agy plugin
    return server
