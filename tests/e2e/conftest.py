"""The server under test: `python -m agy_lsp` as a subprocess, driven by pytest-lsp."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.helpers import Recorder

STATE_DIR = tempfile.mkdtemp(prefix="agy-e2e-")
SERVER_ENV = {
    **os.environ,
    "AGY_STATE_DIR": STATE_DIR,
    "AGY_PACING_MS": "0",
    "AGY_CONFIRM_TIMEOUT_SECS": "5",
    "AGY_BACKEND": "",
    "GEMINI_API_KEY": "",
}
SERVER = [sys.executable, "-m", "agy_lsp"]


def capabilities(confirm: bool = True, progress: bool = False) -> lsp.ClientCapabilities:
    return lsp.ClientCapabilities(
        experimental={"agy": {"confirmToolCall": confirm}},
        window=lsp.WindowClientCapabilities(work_done_progress=progress),
    )


def attach_recorder(client: LanguageClient) -> Recorder:
    recorder = Recorder()
    for method in ("agy/chatChunk", "agy/agentState", "agy/quota"):

        def handler(params: Any, method: str = method) -> None:
            recorder.add(method, params)

        client.feature(method)(handler)
    return recorder


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=SERVER_ENV))
async def client(lsp_client: LanguageClient):
    lsp_client.recorder = attach_recorder(lsp_client)  # type: ignore[attr-defined]
    await lsp_client.initialize_session(lsp.InitializeParams(capabilities=capabilities(progress=True)))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def recorder(client: LanguageClient) -> Recorder:
    return client.recorder  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def model():
    """A scripted model in the test process, so tests can read what the model was sent."""
    from agy_lsp.backends.scripted import ScriptedModel

    server = ScriptedModel()
    yield server
    server.close()


async def start_client(env: dict[str, str] | None = None, confirm: bool = True) -> LanguageClient:
    """A second server with its own environment or capabilities."""
    config = ClientServerConfig(server_command=SERVER, server_env={**SERVER_ENV, **(env or {})})
    started: Any = await config.start()
    started.recorder = attach_recorder(started)
    await started.initialize_session(lsp.InitializeParams(capabilities=capabilities(confirm=confirm)))
    return started
