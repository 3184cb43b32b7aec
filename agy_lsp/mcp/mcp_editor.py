"""The core's `Editor`, spoken in MCP: one per server (stdio is one host).

A running `agy_run` / `agy_reply` is a `Run`, found by its turn's id: the core's
report of the turn (agents/report.py) is what the progress notifications and the
tool's result read; a confirmation becomes an `elicitation/create` sent with that
tool call's request, when the host can elicit. When it cannot, `can_confirm` says
so and the core denies the call with a reason (fail closed).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp.server.session import ServerSession
from mcp_types import RequestId

from agy_lsp.agents.editor import LOG_LEVELS
from agy_lsp.agents.report import TurnReport
from agy_lsp.protocol.shown import action_text, fence, visible
from agy_lsp.protocol.types import (
    AgentStateNotice,
    ChatChunk,
    ConfirmToolCallParams,
    ConfirmToolCallResult,
    HookParams,
    HookResult,
    QuotaNotice,
    RunToolParams,
    RunToolResult,
)

log = logging.getLogger(__name__)
# Past this a host may show the message in a box too small for it (MCP sets no limit
# and says nothing of how hosts show it): the message then says so and defaults to Reject.
LONG_CALL_CHARS = 1000
LONG_CALL_LINES = 20


@dataclass
class Run:
    """One turn as its tools/call request sees it."""

    session_id: str
    agent_id: str
    session: ServerSession  # the request's: elicitation and progress ride with it
    request_id: RequestId | None
    report: TurnReport = field(default_factory=TurnReport)  # the core fills it in as the turn streams
    changes: int = 0
    changed: anyio.Event = field(default_factory=anyio.Event)

    def __post_init__(self) -> None:
        self.report.on_change = self.touch

    def touch(self) -> None:
        self.changes += 1
        self.changed.set()


def decision_schema(options: list[tuple[str, str]], default: str | None = None) -> dict[str, Any]:
    """The elicitation form: one required choice among the core's options."""
    return {
        "type": "object",
        "properties": {
            "decision": {
                "type": "string",
                "title": "Decision",
                "oneOf": [{"const": option_id, "title": name} for option_id, name in options],
                "default": default or options[0][0],
            }
        },
        "required": ["decision"],
    }


def is_long(params: ConfirmToolCallParams) -> bool:
    text = action_text(params.tool_call)
    return len(text) > LONG_CALL_CHARS or text.count("\n") >= LONG_CALL_LINES


def confirmation_message(params: ConfirmToolCallParams) -> str:
    """The whole call, every argument in full and control characters escaped, then
    an end mark; a long one opens with how long it is and that Reject is the default.
    The mark carries a random tag, so text in the call cannot fake it."""
    call = params.tool_call
    end = f"(end of the call {secrets.token_hex(3)})"
    text = action_text(call)
    name = visible(call.name, newlines=False)
    head = f"The Antigravity agent wants to run the tool `{name}`. The whole call:"
    if is_long(params):
        head += (
            f"\n\nThis call is long ({text.count(chr(10)) + 1} lines, {len(text)} characters). If you cannot read all of"
            f" it down to the line {end!r}, choose Reject (the default)."
        )
    why = f"\n\nWhy you are asked: {visible(params.reason)}" if params.reason else ""
    return f"{head}\n\n{fence(text)}\n{end}{why}\n\nAllow it?"


def default_option(params: ConfirmToolCallParams) -> str | None:
    """Reject for a long call (the host may not show it all), else the core's first option."""
    if is_long(params):
        return next((o.option_id for o in params.options if o.kind == "reject_once"), None)
    return None


class McpEditor:
    def __init__(self) -> None:
        self.runs: dict[str, Run] = {}  # by turn id
        self.can_elicit = False  # set from the host's capabilities on each request

    # ------------------------------------------------------------------ events

    def chunk(self, chunk: ChatChunk) -> None:
        pass  # a turn's text and calls reach its tool call through the core's report (Run.report)

    def agent_state(self, notice: AgentStateNotice) -> None:
        if notice.state in ("failed", "restarting"):
            log.warning("agent %s is %s: %s", notice.agent_id, notice.state, notice.reason or "")

    def quota(self, notice: QuotaNotice) -> None:
        log.info("quota %s: %s (retry after %d ms)", notice.key, notice.state, notice.retry_after_ms)

    def log(self, level: str, message: str) -> None:
        log.log(LOG_LEVELS.get(level.lower(), logging.INFO), message)

    def can_confirm(self) -> bool:
        return self.can_elicit

    # ------------------------------------------------------------------ requests

    async def confirm_tool_call(self, params: ConfirmToolCallParams) -> ConfirmToolCallResult:
        """An `elicitation/create` form with the core's options. Decline is a
        rejection; cancel (dismissed) is cancelled; anything else raises and the
        core denies the call."""
        run = self.runs.get(params.turn_id)
        if run is None:
            return ConfirmToolCallResult(outcome="cancelled")
        options = [(o.option_id, o.name) for o in params.options]
        schema = decision_schema(options, default_option(params))
        result = await run.session.elicit_form(confirmation_message(params), schema, related_request_id=run.request_id)
        if result.action == "decline":
            return ConfirmToolCallResult(outcome="reject_once")
        if result.action == "cancel":
            return ConfirmToolCallResult(outcome="cancelled")
        decision = (result.content or {}).get("decision")
        if not isinstance(decision, str):
            raise ValueError("the form came back without a decision")
        return ConfirmToolCallResult(outcome=decision)

    async def run_tool(self, params: RunToolParams) -> RunToolResult:
        return RunToolResult(error="this server declares no editor tools")

    async def hook(self, params: HookParams) -> HookResult:
        return HookResult()  # MCP has no hooks; we never subscribe

    def hook_notice(self, params: HookParams) -> None:
        pass
