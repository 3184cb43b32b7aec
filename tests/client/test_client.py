"""Every AgentHandle method, streaming order, cancel, confirmations, an editor tool,
hooks and typed errors, against the real server on the scripted model."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from agy_lsp.client import (
    AgentBusy,
    AgentNotFound,
    AgyClient,
    BackendError,
    ChatChunk,
    ChatResult,
    ConfirmToolCallParams,
    HookParams,
    InvalidParams,
    MethodNotFound,
    QuotaExceeded,
    RequestCancelled,
    Scripted,
    Step,
    Timeout,
    Usage,
)
from agy_lsp.protocol.types import AgentSummary, ServerInfoResult, StatusResult
from tests.client.conftest import scripted

pytestmark = pytest.mark.asyncio(loop_scope="module")

RUN_LS = {"toolCalls": [{"name": "run_command", "args": {"CommandLine": "echo tool-output"}}]}


async def test_streaming_order(client: AgyClient) -> None:
    agent = await client.create_agent(scripted({"text": "one two three four five", "chunks": 5, "chunkDelayMs": 20}))
    turn = agent.chat("count")
    seen: list[ChatChunk] = [chunk async for chunk in turn]
    result = await turn
    assert isinstance(result, ChatResult) and result.text == "one two three four five"
    assert [c.seq for c in seen] == list(range(1, len(seen) + 1))
    assert all(c.turn_id == result.turn_id == turn.turn_id and c.agent_id == agent.agent_id for c in seen)
    assert "".join(c.text or "" for c in seen if c.kind == "text") == result.text
    assert len([c for c in seen if c.kind == "text"]) == 5
    # a finished turn replays its chunks
    assert [c.seq async for c in turn] == [c.seq for c in seen]
    assert result.stop_reason == "end_turn" and isinstance(result.usage, Usage) and result.usage.total_tokens > 0


async def test_every_method(client: AgyClient) -> None:
    agent = await client.create_agent(Scripted(script=[{"text": "first answer"}]), name="every")
    assert "run_command" in agent.tools and agent.state == "idle"
    assert await agent.chat_text("hello") == "first answer"
    assert await agent.chat("again").text() == "You said: again"

    sent = await agent.send("in the background")
    assert sent.turn_id
    assert [c.text async for c in sent if c.kind == "text"]
    assert (await sent).text == "You said: in the background"
    await agent.wait_for_idle()
    assert await agent.is_idle() is True

    assert await agent.turn_count() == 3
    assert await agent.last_response() == "You said: in the background"
    steps = await agent.history()
    assert steps and all(isinstance(s, Step) for s in steps)
    page = await agent.history_page(offset=1, limit=2)
    assert len(page.steps) == 2 and page.total == len(steps)
    total, last = await agent.total_usage(), await agent.last_turn_usage()
    assert total.total_tokens > 0 and last is not None and 0 < last.total_tokens <= total.total_tokens
    assert await agent.compaction_indices() == []
    assert await agent.structured_output() is None
    assert await agent.wait_for_wakeup(0.2) is False
    status = await agent.status()
    assert isinstance(status, StatusResult) and status.name == "every" and status.idle
    await agent.reset_permissions()

    listed = await client.list_agents()
    assert all(isinstance(a, AgentSummary) for a in listed) and agent.agent_id in {a.agent_id for a in listed}
    info = await client.server_info()
    assert isinstance(info, ServerInfoResult) and info.name == "agy-lsp"

    # a subagent: same backend (a fresh copy of the same script), its own instructions
    sub = await agent.spawn_subagent("You are a helper.", name="helper")
    assert sub.agent_id != agent.agent_id and sub.backend == agent.backend
    assert await sub.chat_text("hi") == "first answer"
    assert (await sub.status()).name == "helper"

    await agent.clear_history()
    assert await agent.turn_count() == 0

    await sub.disconnect()
    with pytest.raises(AgentNotFound):
        await sub.status()
    conversation = agent.conversation_id or (await agent.status()).conversation_id
    await agent.shutdown()
    with pytest.raises(AgentNotFound):
        await agent.chat_text("gone")
    other = await client.create_agent(scripted())
    await other.delete()
    assert other.agent_id not in {a.agent_id for a in await client.list_agents()}
    assert conversation


async def test_cancel_then_chat_again(client: AgyClient) -> None:
    agent = await client.create_agent(scripted({"text": "a b c d e f g h i j k l m n o p", "chunkDelayMs": 150}))
    turn = agent.chat("slow")
    async for chunk in turn:
        if chunk.kind == "text":
            break
    assert await agent.cancel() is True
    await turn.wait()
    assert turn.cancelled and turn.done
    with pytest.raises(RequestCancelled):
        await turn
    assert 0 < len(turn.partial_text()) < len("a b c d e f g h i j k l m n o p")
    # the agent stays usable and the next turn gets its own full answer
    assert await agent.chat_text("again") == "You said: again"
    assert await agent.cancel() is False  # idle


async def test_cancel_a_background_turn(client: AgyClient) -> None:
    agent = await client.create_agent(scripted({"text": "a b c d e f g h i j k l m n o p", "chunkDelayMs": 150}))
    turn = await agent.send("slow")
    async for chunk in turn:
        if chunk.kind == "text":
            break
    assert await agent.cancel() is True
    await agent.wait_for_idle()
    assert await agent.is_idle()


async def test_confirmation_allowed(client: AgyClient) -> None:
    asked: list[ConfirmToolCallParams] = []

    def allow(params: ConfirmToolCallParams) -> bool:
        asked.append(params)
        return True

    agent = await client.create_agent(scripted(RUN_LS, {"text": "ran it"}), on_confirm=allow)
    turn = agent.chat("run")
    chunks = [c async for c in turn]
    assert await turn.text() == "ran it"
    assert [p.tool_call.name for p in asked] == ["run_command"]
    assert {o.kind for o in asked[0].options} >= {"allow_once", "reject_once"}
    results = [c.tool_result for c in chunks if c.kind == "toolResult" and c.tool_result]
    assert results and "tool-output" in str(results[0].result)
    assert [c.kind for c in chunks].index("toolCall") < [c.kind for c in chunks].index("toolResult")


async def test_confirmation_rejected(client: AgyClient) -> None:
    asked: list[str] = []

    async def reject(params: ConfirmToolCallParams) -> str:
        asked.append(params.tool_call.name)
        await anyio.lowlevel.checkpoint()
        return "reject_once"

    agent = await client.create_agent(scripted(RUN_LS, {"text": "not allowed"}), on_confirm=reject)
    turn = agent.chat("run")
    chunks = [c async for c in turn]
    assert await turn.text() == "not allowed"
    assert asked == ["run_command"]
    assert not any(c.tool_result and "tool-output" in str(c.tool_result.result) for c in chunks)


async def test_editor_tool_and_hooks(client: AgyClient) -> None:
    calls: list[tuple[int, int]] = []
    hooks_seen: list[str] = []

    async def add(a: int, b: int) -> int:
        """Add two integers."""
        calls.append((a, b))
        return a + b

    def pre_tool(params: HookParams) -> bool:
        hooks_seen.append(params.point)
        return True

    agent = await client.create_agent(
        scripted({"toolCalls": [{"name": "add", "args": {"a": 2, "b": 3}}]}, {"text": "the sum is 5"}),
        tools=[add],
        on_confirm=lambda params: True,
        hooks={"preToolCall": pre_tool, "postTurn": lambda params: hooks_seen.append(params.point)},
    )
    assert "add" in agent.tools
    turn = agent.chat("add 2 and 3")
    chunks = [c async for c in turn]
    assert await turn.text() == "the sum is 5"
    assert calls == [(2, 3)]
    result = next(c.tool_result for c in chunks if c.kind == "toolResult" and c.tool_result)
    assert result.name == "add" and "5" in str(result.result)
    with anyio.fail_after(5):
        while "postTurn" not in hooks_seen:
            await anyio.sleep(0.02)
    assert hooks_seen[0] == "preToolCall"


async def test_errors_are_typed(client: AgyClient) -> None:
    with pytest.raises(AgentNotFound) as not_found:
        await client.agent("nope").status()
    assert not_found.value.code_name == "AGENT_NOT_FOUND" and not_found.value.data["agentId"] == "nope"
    with pytest.raises(InvalidParams):
        await client.create_agent({"type": "openai"})
    with pytest.raises(MethodNotFound):
        await client.connection.request("agy/noSuchMethod", {})

    async def quota_exceeded() -> None:
        quota = await client.create_agent(scripted({"status": 429, "retryAfter": 1}), max_quota_retries=0)
        with pytest.raises(QuotaExceeded) as exceeded:
            await quota.chat_text("x")
        assert exceeded.value.retry_after is not None and exceeded.value.retry_after > 0

    async def backend_error() -> None:
        broken = await client.create_agent(scripted({"status": 500, "errorBody": "boom"}))
        with pytest.raises(BackendError) as backend:
            await broken.chat_text("x")
        assert backend.value.data.get("httpStatus") == 500

    async def timeout() -> None:
        hung = await client.create_agent(scripted({"hang": True}), chat_timeout_secs=1)
        with pytest.raises(Timeout) as timed_out:
            await hung.chat_text("x")
        assert isinstance(timed_out.value, TimeoutError)

    async def busy() -> None:
        slow = await client.create_agent(scripted({"text": "a b c d e f g", "chunkDelayMs": 100}))
        first = slow.chat("one")
        async for _ in first:
            break
        with pytest.raises(AgentBusy):
            await slow.chat_text("two")
        assert (await first).text == "a b c d e f g"

    async with anyio.create_task_group() as tg:  # agents run their turns concurrently
        for case in (quota_exceeded, backend_error, timeout, busy):
            tg.start_soon(case)
