"""initialize / shutdown / configuration: settings and client capabilities."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from agy_lsp.settings import merge_initialization_options

if TYPE_CHECKING:
    from agy_lsp.lsp.language_server import AgyLanguageServer


def declares_agy(capabilities: lsp.ClientCapabilities) -> bool:
    """Whether the client declared `experimental.agy` (any value): it speaks agy/*."""
    experimental: Any = capabilities.experimental
    return isinstance(experimental, dict) and "agy" in experimental


def _experimental_agy(capabilities: lsp.ClientCapabilities) -> dict[str, Any]:
    experimental: Any = capabilities.experimental
    if isinstance(experimental, dict):
        agy: Any = experimental.get("agy")  # pyright: ignore[reportUnknownMemberType]
        if isinstance(agy, dict):
            return agy  # pyright: ignore[reportUnknownVariableType]
    return {}


def register(server: AgyLanguageServer) -> None:
    @server.feature(lsp.INITIALIZE)
    def initialize(ls: AgyLanguageServer, params: lsp.InitializeParams) -> None:
        agy = _experimental_agy(params.capabilities)
        ls.editor.agy_client = declares_agy(params.capabilities)  # else no agy/* notification reaches it
        ls.editor.confirm_supported = bool(agy.get("confirmToolCall"))
        window = params.capabilities.window
        ls.client_supports_progress = bool(window and window.work_done_progress)
        try:
            ls.reconfigure(merge_initialization_options(ls.settings, params.initialization_options))
        except ValueError as e:
            ls.editor.log("error", f"{e}; keeping the previous settings")
        ls.client_process_id = ls.client_process_id or params.process_id
        ls.watch_client_process(ls.client_process_id)  # or once the core is up (serve)
        ls.initialized = True

    @server.feature(lsp.INITIALIZED)
    def initialized(ls: AgyLanguageServer, params: lsp.InitializedParams) -> None:
        ls.manager.preload()  # the SDK, in a worker thread: the first agent need not wait for its import
        ls.manager.announce_fallback()
        if ls.editor.plain is not None:
            ls.editor.plain.initialized()  # the standard-LSP features read the client's capabilities

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: AgyLanguageServer, params: lsp.DidChangeConfigurationParams) -> None:
        settings: Any = params.settings
        if isinstance(settings, dict) and isinstance(settings.get("agy"), dict):  # pyright: ignore[reportUnknownMemberType]
            settings = settings["agy"]
        try:
            ls.settings = merge_initialization_options(ls.settings, settings)
        except ValueError as e:
            ls.editor.log("error", f"{e}; keeping the previous settings")
            return
        ls.manager.reconfigure(ls.settings)
        ls.editor.log("info", "settings updated; new agents and turns use them")

    @server.feature(lsp.SHUTDOWN)
    async def shutdown(ls: AgyLanguageServer, params: Any) -> None:
        await ls.manager.close_all()
