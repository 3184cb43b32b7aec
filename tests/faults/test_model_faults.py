"""Model faults from the scripted model: quota, 5xx, cut streams, hangs, refused connections."""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

from pytest_lsp import LanguageClient

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from tests.e2e.conftest import start_client
from tests.e2e.test_confirm import openai_backend
from tests.e2e.test_thoughts import gemini_env
from tests.helpers import request, request_error, to_dict


def quota_notices(recorder: Any) -> list[dict[str, Any]]:
    return [to_dict(q) for q in recorder.by_method["agy/quota"]]


async def test_429_with_retry_after_is_retried(client: LanguageClient, model: ScriptedModel, recorder) -> None:
    backend, state = openai_backend(model, {"status": 429, "retryAfter": 1}, {"text": "after the wait"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "go"})
    assert result["text"] == "after the wait"
    assert state.times[-1] - state.times[0] >= 0.95, "the retry waited out Retry-After"
    notices = quota_notices(recorder)
    assert notices[0]["state"] == "backoff" and notices[0]["retryAfterMs"] == 1000
    assert notices[-1]["state"] == "clear"
    assert "restarting" in recorder.states(agent_id) and recorder.states(agent_id)[-1] == "idle"


async def test_429_without_retry_after_backs_off_from_2s(client: LanguageClient, model: ScriptedModel, recorder) -> None:
    backend, state = openai_backend(model, {"status": 429}, {"text": "ok"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    assert (await request(client, "agy/chat", {"agentId": agent_id, "prompt": "go"}))["text"] == "ok"
    assert quota_notices(recorder)[0]["retryAfterMs"] == 2000
    assert state.times[-1] - state.times[0] >= 1.95


async def test_backoff_is_shared_by_agents_on_one_key(client: LanguageClient, model: ScriptedModel, recorder) -> None:
    base_url, first = model.register(
        __import__("agy_lsp.backends.scripted", fromlist=["x"]).parse_script(
            [{"status": 429, "retryAfter": 2}, {"text": "a ok"}, {"text": "b ok"}]
        )
    )
    backend = {"type": "openai", "baseUrl": base_url, "model": "m", "apiKey": "same-key"}
    a = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    b = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    chat_a = asyncio.ensure_future(request(client, "agy/chat", {"agentId": a, "prompt": "a"}))
    while not quota_notices(recorder):
        await asyncio.sleep(0.02)
    t_backoff = asyncio.get_running_loop().time()
    result_b = await request(client, "agy/chat", {"agentId": b, "prompt": "b"})
    waited = asyncio.get_running_loop().time() - t_backoff
    assert waited >= 1.5, f"agent b did not wait out agent a's backoff ({waited:.2f}s)"
    assert result_b["text"] in ("a ok", "b ok")
    await chat_a
    assert len(first.requests) == 3


async def test_quota_retries_exhausted(client: LanguageClient, model: ScriptedModel) -> None:
    backend, state = openai_backend(model, *[{"status": 429, "retryAfter": 0.2}] * 3, {"text": "never reached"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend, "maxQuotaRetries": 1}))["agentId"]
    error = await request_error(client, "agy/chat", {"agentId": agent_id, "prompt": "go"})
    assert error.code == -32004 and error.data["code"] == "QUOTA_EXCEEDED"
    assert error.data["retryAfterMs"] == 200 and error.data["httpStatus"] == 429
    assert len(state.requests) == 2, "one try plus maxQuotaRetries=1"


async def test_5xx_fails_the_turn_and_the_agent_restarts_with_history(client: LanguageClient, model: ScriptedModel, recorder) -> None:
    backend, state = openai_backend(model, {"text": "first answer"}, {"status": 503, "errorBody": "overloaded"}, {"text": "recovered"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    await request(client, "agy/chat", {"agentId": agent_id, "prompt": "remember me"})
    error = await request_error(client, "agy/chat", {"agentId": agent_id, "prompt": "fail now"})
    assert error.code == -32007 and error.data["code"] == "BACKEND_ERROR" and error.data["httpStatus"] == 503
    assert "overloaded" in error.data["cause"]
    assert recorder.states(agent_id)[-2:] == ["starting", "idle"] and "restarting" in recorder.states(agent_id)
    result = await request(client, "agy/chat", {"agentId": agent_id, "prompt": "and now?"})
    assert result["text"] == "recovered"
    user_messages = [str(m["content"]) for m in state.requests[-1]["messages"] if m["role"] == "user"]
    assert any("remember me" in m for m in user_messages), "history survived the restart"
    history = await request(client, "agy/history", {"agentId": agent_id})
    assert any(s["content"] == "remember me" for s in history["steps"])
    status = await request(client, "agy/status", {"agentId": agent_id})
    assert status["turnCount"] >= 2


async def test_cut_stream_is_a_backend_error(client: LanguageClient, model: ScriptedModel) -> None:
    backend, _ = openai_backend(model, {"text": "a b c d e f g h", "cutAfter": 3}, {"text": "whole"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    error = await request_error(client, "agy/chat", {"agentId": agent_id, "prompt": "go"})
    assert error.code == -32007, error.data
    assert (await request(client, "agy/chat", {"agentId": agent_id, "prompt": "again"}))["text"] == "whole"


async def test_hung_model_times_out_and_the_agent_stays_usable(client: LanguageClient, model: ScriptedModel, recorder) -> None:
    backend, _ = openai_backend(model, {"hang": True}, {"text": "awake"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend, "chatTimeoutSecs": 1.5}))["agentId"]
    t0 = asyncio.get_running_loop().time()
    error = await request_error(client, "agy/chat", {"agentId": agent_id, "prompt": "go"})
    assert error.code == -32003 and error.data["code"] == "TIMEOUT" and error.data["timeoutSecs"] == 1.5
    assert asyncio.get_running_loop().time() - t0 < 8
    assert (await request(client, "agy/chat", {"agentId": agent_id, "prompt": "again"}))["text"] == "awake"


async def test_refused_connection_is_a_backend_error(client: LanguageClient) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    backend = {"type": "openai", "baseUrl": f"http://127.0.0.1:{port}/v1", "model": "m"}
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    error = await asyncio.wait_for(request_error(client, "agy/chat", {"agentId": agent_id, "prompt": "go"}), 60)
    assert error.code in (-32007, -32008), error.data
    assert error.data["cause"]


async def test_a_401_from_an_openai_compatible_server_is_a_backend_error_and_the_agent_stays(
    client: LanguageClient, model: ScriptedModel
) -> None:
    backend, _ = openai_backend(model, {"status": 401, "errorBody": '{"error": {"message": "invalid api key"}}'}, {"text": "fixed"})
    agent_id = (await request(client, "agy/createAgent", {"backend": backend}))["agentId"]
    error = await request_error(client, "agy/chat", {"agentId": agent_id, "prompt": "go"})
    assert error.code == -32007 and error.data["code"] == "BACKEND_ERROR" and error.data["httpStatus"] == 401, error.data
    assert (await request(client, "agy/chat", {"agentId": agent_id, "prompt": "again"}))["text"] == "fixed"


async def test_a_401_or_403_on_the_gemini_path_is_a_backend_error_not_a_dead_agent(model: ScriptedModel) -> None:
    """The SDK raises its own AntigravityConnectionError for the Gemini API's 400/401/403."""
    name = f"auth-{uuid.uuid4().hex[:8]}"
    bad_key = '{"error": {"code": 401, "message": "API key not valid", "status": "UNAUTHENTICATED"}}'
    forbidden = '{"error": {"code": 403, "message": "Permission denied", "status": "PERMISSION_DENIED"}}'
    replies = [{"status": 401, "errorBody": bad_key}, {"status": 403, "errorBody": forbidden}, {"text": "ok"}]
    model.register(parse_script(replies), name=name)
    client = await start_client(env=gemini_env(model))
    try:
        agent_id = (await request(client, "agy/createAgent", {"backend": {"type": "gemini", "model": name}}))["agentId"]
        for status in (401, 403):
            error = await request_error(client, "agy/chat", {"agentId": agent_id, "prompt": "go"})
            assert error.code == -32007 and error.data["code"] == "BACKEND_ERROR", error.data
            assert error.data["httpStatus"] == status and "credentials" in error.message, error.data
        assert (await request(client, "agy/chat", {"agentId": agent_id, "prompt": "again"}))["text"] == "ok"
    finally:
        await client.shutdown_session()
        await client.stop()
