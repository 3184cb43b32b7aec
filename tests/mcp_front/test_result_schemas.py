"""Every tool's result, a success or a failure (`isError`), validates against the
output schema the tool declares in tools/list. The official client checks only
successes; a host such as the MCP Inspector checks failures too, and before, an
error result missed the success's required fields ("data must have required property
'stopReason'" instead of the cause)."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import jsonschema
import mcp_types as types
import pytest

from agy_lsp.mcp import errors
from agy_lsp.mcp.tools import Tools
from agy_lsp.protocol.errors import AgyError, ErrorCode
from tests.helpers import harness_children, wait_until
from tests.mcp_front.conftest import Host, replies

pytestmark = pytest.mark.asyncio(loop_scope="package")  # the shared server lives in the package's loop

SLOW = {"text": "slow answer " * 10, "chunkDelayMs": 60}


class Checked:
    """The tools' declared output schemas, and every result seen, by tool and error code."""

    def __init__(self, tools: list[types.Tool]) -> None:
        self.validators: dict[str, jsonschema.protocols.Validator] = {}
        for tool in tools:
            assert tool.output_schema is not None, tool.name
            cls = jsonschema.validators.validator_for(tool.output_schema)
            cls.check_schema(tool.output_schema)
            self.validators[tool.name] = cls(tool.output_schema)
        self.seen: set[tuple[str, str]] = set()

    def __call__(self, tool: str, result: types.CallToolResult) -> dict[str, Any]:
        content = result.structured_content
        assert content is not None, (tool, result)
        problems = [e.message for e in self.validators[tool].iter_errors(content)]
        assert problems == [], (tool, content, problems)
        code = content["error"]["code"] if result.is_error else "ok"
        self.seen.add((tool, code))
        return content


async def checked(host: Host) -> Checked:
    return Checked((await host.session.list_tools()).tools)


async def test_every_tool_result_and_failure_fits_its_output_schema(host: Host) -> None:
    check = await checked(host)

    async def call(tool: str, **args: Any) -> dict[str, Any]:
        return check(tool, await host.call(tool, args))

    replies(host, {"status": 500, "errorBody": "the model fell over"})
    failed = await call("agy_run", prompt="first")
    assert failed["error"]["code"] == "BACKEND_ERROR" and "fell over" in str(failed["error"]["data"])
    session_id = failed["sessionId"]
    assert (await call("agy_reply", sessionId=session_id, prompt="again"))["stopReason"] == "end_turn"
    assert (await call("agy_run", prompt="more", sessionId=session_id))["text"] == "You said: more"
    for tool in ("agy_status", "agy_cancel", "agy_history"):
        await call(tool, sessionId=session_id)
        assert (await call(tool, sessionId="nope"))["error"]["code"] == "AGENT_NOT_FOUND"
    await call("agy_sessions")
    for tool, args in (("agy_reply", {"prompt": "hi"}), ("agy_run", {"prompt": "hi"})):
        assert (await call(tool, sessionId="nope", **args))["error"]["code"] == "AGENT_NOT_FOUND"

    replies(host, SLOW)
    asked = len(host.script.requests)
    running = asyncio.ensure_future(host.call("agy_reply", {"sessionId": session_id, "prompt": "long one"}))
    await wait_until(lambda: len(host.script.requests) > asked)
    await asyncio.sleep(0.2)
    for tool in ("agy_reply", "agy_run"):
        assert (await call(tool, sessionId=session_id, prompt="meanwhile"))["error"]["code"] == "AGENT_BUSY"
    assert (await call("agy_status", sessionId=session_id))["busy"] is True
    assert (await call("agy_cancel", sessionId=session_id))["cancelled"] is True
    assert check("agy_reply", await running)["stopReason"] == "cancelled"

    assert {code for _, code in check.seen} >= {"ok", "BACKEND_ERROR", "AGENT_NOT_FOUND", "AGENT_BUSY"}


async def test_a_timed_out_or_failed_turn_fits_the_output_schema(start) -> None:
    async with start({"hang": True}, {"hang": True}, env={"AGY_CHAT_TIMEOUT_SECS": "2"}) as host:
        check = await checked(host)
        timed_out = check("agy_run", await host.call("agy_run", {"prompt": "hang"}))
        assert timed_out["error"]["code"] == "TIMEOUT"
        session_id = timed_out["sessionId"]
        # The harness dies mid-turn: AGENT_FAILED.
        turn = asyncio.ensure_future(host.call("agy_reply", {"sessionId": session_id, "prompt": "hang again"}))
        await wait_until(lambda: len(host.script.requests) >= 2, timeout=20)
        for pid in harness_children(host.pid):
            os.kill(pid, signal.SIGKILL)
        failed = check("agy_reply", await turn)
        assert failed["error"]["code"] in ("AGENT_FAILED", "BACKEND_ERROR"), failed


async def test_every_error_code_of_every_tool_fits_its_output_schema() -> None:
    """The codes no scripted run reaches (SAFETY, MAX_TOKENS, SERVER_SHUTTING_DOWN, an
    internal error, ...), as each tool's failure is built (mcp/errors.py, mcp/turns.py)."""
    tools = Tools(turns=_Turns(), queries=None, editor=None, notifier=None)  # type: ignore[arg-type]
    calls = [{"id": "c", "name": "x", "outcome": "failed"}]
    turn_extra = {"sessionId": "s1", "text": "so far", "filesChanged": ["a.py"], "toolCalls": calls}
    for name, handler in tools.handlers.items():
        validator = jsonschema.Draft202012Validator(handler.tool.output_schema)
        for code in ErrorCode:
            err = AgyError(code, f"{code.name} happened", {"detail": 1})
            for extra in ({}, {"sessionId": "s1"}, turn_extra if name in ("agy_run", "agy_reply") else {}):
                content = errors.tool_error(err, **extra).structured_content
                assert list(validator.iter_errors(content)) == [], (name, code, content)
        content = errors.internal(RuntimeError("a bug")).structured_content
        assert list(validator.iter_errors(content)) == [], (name, content)
        # and a result that is neither a success nor a failure does not pass
        assert list(validator.iter_errors({"sessionId": "s1"})), name


class _Turns:
    async def run(self, ctx: Any, args: Any) -> Any: ...
    async def reply(self, ctx: Any, args: Any) -> Any: ...
