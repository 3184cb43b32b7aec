"""The SDK adapter: the one package that imports google-antigravity.

`port` is the contract (plain Python, no SDK import); `adapter.GoogleSdk` implements
it. Importing this package or `port` does not import the SDK.
"""

import importlib
import threading


def installed_version() -> str | None:
    """The installed google-antigravity's version, without importing it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("google-antigravity")
    except PackageNotFoundError:
        return None


def preload() -> None:
    """Import the adapter, and so the SDK (~0.4 s), in a worker thread: the first agent
    then finds it loaded instead of waiting for it (an import the main thread asks for
    meanwhile waits for this one). A failure here is reported by that later import."""

    def load() -> None:
        try:
            importlib.import_module("agy_lsp.sdk.adapter")
        except Exception:  # the real import reports it
            pass

    threading.Thread(target=load, name="agy-sdk-import", daemon=True).start()
