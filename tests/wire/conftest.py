"""One real server per wire and test module (`python -m agy_lsp [--acp|--mcp]`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.wire.wire import Wire


@pytest.fixture(scope="module", params=["lsp", "acp", "mcp"])
def wire(request: pytest.FixtureRequest) -> Iterator[Wire]:
    server = Wire(request.param)
    try:
        server.handshake()
        yield server
        assert server.alive(), f"the server died; stderr:\n{server.stderr_text()[-3000:]}"
    finally:
        code = server.close()
    assert code == 0, f"exit code {code}"
