"""A model that cannot be reached fails the turn within seconds with BACKEND_ERROR,
the network cause and a hint, on the OpenAI path and on the Gemini path (where the
harness would otherwise retry with a growing backoff until chatTimeoutSecs)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.sdk.errors import unreachable_step
from tests.e2e.conftest import start_client
from tests.helpers import request, request_error

UNRESOLVABLE = "http://nonexistent.invalid"  # .invalid never resolves (RFC 6761): fails fast offline too


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # closed again: nothing listens there


async def _fails_fast(client: Any, backend: dict[str, Any]) -> Any:
    created = await request(client, "agy/createAgent", {"backend": backend, "chatTimeoutSecs": 60})
    t0 = asyncio.get_running_loop().time()
    error = await asyncio.wait_for(request_error(client, "agy/chat", {"agentId": created["agentId"], "prompt": "go"}), 70)
    elapsed = asyncio.get_running_loop().time() - t0
    assert elapsed < 15, f"{elapsed:.1f}s of silence before the error: {error.data}"
    assert error.code == -32007 and error.data["code"] == "BACKEND_ERROR", error.data
    assert error.message.startswith("cannot reach the model backend"), error.message
    assert error.data["hint"], error.data
    return error


@pytest.mark.parametrize("where", ["refused", "dns"])
async def test_an_unreachable_openai_server_fails_fast_with_the_cause(where: str) -> None:
    base = closed_port_url() if where == "refused" else UNRESOLVABLE
    client = await start_client()
    try:
        error = await _fails_fast(client, {"type": "openai", "baseUrl": f"{base}/v1", "model": "m"})
        assert error.data["network"] == where
        assert ("connection refused" if where == "refused" else "no such host") in error.data["cause"]
    finally:
        await client.shutdown_session()
        await client.stop()


@pytest.mark.parametrize("where", ["refused", "dns"])
async def test_an_unreachable_gemini_api_fails_fast_instead_of_retrying_for_minutes(where: str) -> None:
    base = closed_port_url() if where == "refused" else UNRESOLVABLE
    client = await start_client(env={"GOOGLE_GEMINI_BASE_URL": base, "GEMINI_API_KEY": "not-a-key"})
    try:
        error = await _fails_fast(client, {"type": "gemini", "model": "gemini-unreachable"})
        assert error.data["network"] == where, error.data
        # the agent stays usable: the next turn fails the same way, not AGENT_FAILED
        again = await request_error(client, "agy/chat", {"agentId": error.data["agentId"], "prompt": "again"})
        assert again.data["code"] == "BACKEND_ERROR", again.data
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_a_base_url_that_is_not_http_is_invalid_params_at_create() -> None:
    client = await start_client()
    try:
        error = await request_error(client, "agy/createAgent", {"backend": {"type": "openai", "baseUrl": "notaurl", "model": "m"}})
        assert error.code == -32602 and error.data["field"] == "backend.baseUrl", error.data
        assert "not an http(s) URL" in error.message
    finally:
        await client.shutdown_session()
        await client.stop()


# ---------------------------------------------------------------- the harness's words, classified

_GEMINI_DNS = (
    "Encountered retryable error from model provider: There was a network issue connecting to the server, please try "
    'again. ("doRequest: error sending request: Post \\"https://generativelanguage.googleapis.com/v1beta/models/m:'
    'streamGenerateContent?alt=sse\\": dial tcp: lookup generativelanguage.googleapis.com on 10.0.0.53:53: no such host: '
    'doRequest: error sending request: Post \\"https://generativelanguage.googleapis.com/v1beta/models/m\\": dial tcp")'
)


@pytest.mark.parametrize(
    ("error", "network", "cause"),
    [
        (_GEMINI_DNS, "dns", "dial tcp: lookup generativelanguage.googleapis.com on 10.0.0.53:53: no such host (https://"),
        (
            'agent executor error: failed to send HTTP request: Post "http://127.0.0.1:9/v1/chat/completions": '
            "dial tcp 127.0.0.1:9: connect: connection refused",
            "refused",
            "dial tcp 127.0.0.1:9: connect: connection refused (http://127.0.0.1:9/v1/chat/completions)",
        ),
        (
            'failed to send HTTP request: Post "https://h/v1/chat/completions": tls: failed to verify certificate: x509: unknown authority',
            "tls",
            "tls: failed to verify certificate: x509: unknown authority (https://h/v1/chat/completions)",
        ),
        ('failed to send HTTP request: Post "notaurl/v1/chat/completions": unsupported protocol scheme ""', "url", "unsupported"),
    ],
)
def test_a_request_that_never_reached_the_model_is_named_with_its_network_cause(error: str, network: str, cause: str) -> None:
    err = unreachable_step(error)
    assert err is not None and err.code == ErrorCode.BACKEND_ERROR
    assert err.data["network"] == network and err.data["cause"].startswith(cause) and err.data["hint"], err.data


@given(st.text(max_size=300))
def test_other_system_errors_are_left_to_the_harness(text: str) -> None:
    """An invalid tool call's error may quote the model's arguments ("connection refused")."""
    assume("error sending request" not in text.lower() and "failed to send http request" not in text.lower())
    assume("network issue connecting" not in text.lower())
    assert unreachable_step(f"invalid tool call: {text} connection refused") is None
