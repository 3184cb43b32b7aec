"""The bare pygls baseline: a stock pygls 2 LanguageServer with one echo request."""

from __future__ import annotations

from typing import Any

from pygls.lsp.server import LanguageServer

server = LanguageServer("bench-echo", "1")


@server.feature("bench/echo")
def echo(ls: LanguageServer, params: Any) -> Any:
    return params


if __name__ == "__main__":
    server.start_io()
