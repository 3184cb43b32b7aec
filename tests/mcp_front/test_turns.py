"""agy_run and agy_reply: one session across turns, progress, files changed, two
sessions at once, a busy session."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from agy_lsp.backends.script import parse_script
from tests.helpers import harness_children
from tests.mcp_front.conftest import Host, failed, ok, replies

pytestmark = pytest.mark.asyncio(loop_scope="package")  # the shared server lives in the package's loop


async def test_a_run_and_a_reply_share_the_session(host: Host) -> None:
    replies(host, {"text": "The answer is 42."}, {"text": "You asked twice."})
    first = await host.run("What is the answer?")
    assert first["text"] == "The answer is 42."
    assert first["stopReason"] == "end_turn"
    assert first["usage"]["totalTokens"] > 0
    assert first["filesChanged"] == [] and first["toolCalls"] == []
    session_id = first["sessionId"]

    second = await host.reply(session_id, "And again?")
    assert second == {**second, "sessionId": session_id, "text": "You asked twice."}
    # The model saw the whole conversation on the second turn.
    last = host.script.requests[-1]
    assert "What is the answer?" in json.dumps(last["messages"]) and "The answer is 42." in json.dumps(last["messages"])

    # agy_run with sessionId continues too (repeating the policy it has costs no restart);
    # a run without one starts afresh.
    harnesses = harness_children(host.pid)
    third = await host.run("Third?", sessionId=session_id, policy="safeDefaults", model="scripted")
    assert third["sessionId"] == session_id and third["text"] == "You said: Third?"
    assert harness_children(host.pid) == harnesses
    fresh = await host.run("Who am I?")
    assert fresh["sessionId"] != session_id
    assert "What is the answer?" not in json.dumps(host.script.requests[-1]["messages"])

    status = ok(await host.call("agy_status", {"sessionId": session_id}))
    assert status["state"] == "idle" and status["busy"] is False and status["turnCount"] == 3
    assert status["title"] == "What is the answer?" and status["cwd"] == host.workdir and status["model"] == "scripted"
    assert status["lastResponse"] == "You said: Third?"


async def test_progress_carries_the_streamed_text_so_far(host: Host) -> None:
    long = "word " * 700  # 3500 characters: the progress message keeps the end
    replies(host, {"text": "Thinking it over, step by step.", "chunks": 6, "chunkDelayMs": 120}, {"text": long, "chunks": 4})
    seen: list[tuple[float, str | None]] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append((value, message))

    result = ok(await host.call("agy_run", {"prompt": "go"}, progress_callback=progress))
    assert len(seen) >= 2, seen
    values = [v for v, _ in seen]
    assert values == sorted(values) and len(set(values)) == len(values)
    texts = [m or "" for _, m in seen]
    assert all(result["text"].startswith(t) for t in texts), texts
    assert texts[-1] == result["text"]  # the last one has it all

    seen.clear()
    ok(await host.call("agy_reply", {"sessionId": result["sessionId"], "prompt": "more"}, progress_callback=progress))
    assert seen and all(len(m or "") <= 2001 for _, m in seen)
    assert (seen[-1][1] or "").endswith(long[-100:])


async def test_a_retry_is_reported_in_progress(start: Any) -> None:
    """The harness retries Gemini's 503 after about 4 s: the progress message says so
    while the retry runs, then carries the answer (issue #26, defect 6)."""
    async with start({"status": 503, "errorBody": "overloaded"}, {"text": "Back again.", "delayMs": 1000}, gemini=True) as host:
        seen: list[str] = []

        async def progress(value: float, total: float | None, message: str | None) -> None:
            seen.append(message or "")

        result = ok(await host.call("agy_run", {"prompt": "go"}, progress_callback=progress))
        assert result["text"] == "Back again."
        retrying = [m for m in seen if m.startswith("model request failed (HTTP 503: overloaded), retrying (attempt 2)")]
        assert retrying, seen
        assert seen.index(retrying[0]) < seen.index("Back again.") and seen[-1] == "Back again."


async def test_files_the_agent_created_or_edited_are_listed(host: Host) -> None:
    target = str(Path(host.workdir) / "notes.txt")
    write = {"name": "write_to_file", "args": {"TargetFile": target, "CodeContent": "one\n", "Description": "d", "Overwrite": True}}
    edit = {
        "name": "replace_file_content",
        "args": {
            "TargetFile": target,
            "TargetContent": "one",
            "ReplacementContent": "two",
            "StartLine": 1,
            "EndLine": 1,
            "Description": "d",
            "Instruction": "i",
            "AllowMultiple": False,
        },
    }
    replies(host, {"toolCalls": [write]}, {"toolCalls": [edit]}, {"text": "Written."})
    result = await host.run("write notes", policy="allowAll")
    assert result["text"] == "Written."
    assert result["filesChanged"] == [target]
    assert [c["outcome"] for c in result["toolCalls"]] == ["completed", "completed"]
    assert all("file" in c["name"] for c in result["toolCalls"]), result["toolCalls"]
    assert Path(target).read_text() == "two\n"
    assert host.elicitations == []  # allowAll asks nothing


async def test_two_sessions_run_at_once_and_a_busy_one_says_so(host: Host) -> None:
    a, b = await asyncio.gather(host.run("first"), host.run("second"))  # both harnesses start at once
    assert a["sessionId"] != b["sessionId"]
    assert {a["text"], b["text"]} == {"You said: first", "You said: second"}

    slow = {"text": "slow answer " * 10, "chunkDelayMs": 60}
    replies(host, slow, slow)
    t0 = asyncio.get_running_loop().time()
    a2, b2 = await asyncio.gather(host.reply(a["sessionId"], "again"), host.reply(b["sessionId"], "again"))
    elapsed = asyncio.get_running_loop().time() - t0
    assert a2["text"] == b2["text"] == "slow answer " * 10
    # Each turn streams 20 deltas 60 ms apart (~1.2 s); one after the other they need ~2.4 s.
    assert elapsed < 2.3, f"the turns did not overlap: {elapsed:.2f}s"

    replies(host, slow)
    asked = len(host.script.requests)
    running = asyncio.ensure_future(host.reply(a["sessionId"], "long one"))
    await _until(lambda: len(host.script.requests) > asked)  # the model is answering it
    assert ok(await host.call("agy_status", {"sessionId": a["sessionId"]}))["busy"] is True
    busy = failed(await host.call("agy_reply", {"sessionId": a["sessionId"], "prompt": "meanwhile"}))
    assert busy["code"] == "AGENT_BUSY"
    other = await host.reply(b["sessionId"], "meanwhile")  # another session is not held up
    assert other["text"] == "You said: meanwhile"
    assert (await running)["text"] == "slow answer " * 10


async def _until(predicate: Any) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met within 10 s")


async def test_model_and_thinking_level(start: Any, model: Any) -> None:
    async with start({"text": "thought hard"}, {"text": "thought less"}, gemini=True) as host:
        first = await host.run("think", thinkingLevel="high")
        assert first["text"] == "thought hard"
        assert host.script.requests[-1]["generationConfig"]["thinkingConfig"]["thinkingLevel"] == "high"
        second = await host.run("less", sessionId=first["sessionId"], thinkingLevel="low")
        assert second["text"] == "thought less"
        assert host.script.requests[-1]["generationConfig"]["thinkingConfig"]["thinkingLevel"] == "low"

        other = f"other-{uuid.uuid4().hex[:8]}"
        _, state = model.register(parse_script({"replies": [{"text": "from the other model"}]}), name=other)
        third = await host.run("which model?", sessionId=first["sessionId"], model=other)
        assert third["text"] == "from the other model"
        assert "think" in json.dumps(state.requests[-1]["contents"])  # the conversation carried over
        status = ok(await host.call("agy_status", {"sessionId": first["sessionId"]}))
        assert status["model"] == other
