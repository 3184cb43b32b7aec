"""The SDK adapter: the one package that imports google-antigravity.

`port` is the contract (plain Python, no SDK import); `adapter.GoogleSdk` implements
it. Importing this package or `port` does not import the SDK.
"""

from importlib.metadata import PackageNotFoundError, version


def installed_version() -> str | None:
    """The installed google-antigravity's version, without importing it."""
    try:
        return version("google-antigravity")
    except PackageNotFoundError:
        return None
