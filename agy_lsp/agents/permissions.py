"""The editor as confirmation handler.

An `ask_user` policy lands here. It answers from remembered `*_always` choices, or
asks the editor (`agy/confirmToolCall`, ACP `session/request_permission`) and waits.
It fails closed: no capability, an error, garbage, a timeout or a cancelled turn all
mean the tool does not run, with a reason a person can read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

import anyio

from agy_lsp.agents.editor import Editor
from agy_lsp.agents.tool_calls import CallRecord, Outcome
from agy_lsp.agents.turn import Turn
from agy_lsp.protocol.types import ConfirmToolCallParams, Permission, PermissionOption

log = logging.getLogger(__name__)

OPTIONS = [
    PermissionOption(option_id="allow_once", kind="allow_once", name="Allow once"),
    PermissionOption(option_id="allow_always", kind="allow_always", name="Always allow"),
    PermissionOption(option_id="reject_once", kind="reject_once", name="Reject"),
    PermissionOption(option_id="reject_always", kind="reject_always", name="Always reject"),
]
_KIND_BY_ID = {o.option_id: o.kind for o in OPTIONS}

Verdict = tuple[bool, Outcome, str]  # (allowed, outcome if not, why not)


class Permissions:
    """One agent's remembered choices, by tool name (`server/tool` for MCP, so a
    choice never leaks across servers)."""

    def __init__(self, agent_id: str, editor: Editor, timeout_secs: Callable[[], float], on_change: Callable[[], None]) -> None:
        self._agent_id = agent_id
        self._editor = editor
        self._timeout = timeout_secs
        self._on_change = on_change
        self._remembered: dict[str, Literal["allow", "deny"]] = {}

    def remembered(self) -> list[Permission]:
        return [Permission(tool=t, decision=d) for t, d in sorted(self._remembered.items())]

    def restore(self, items: list[Permission]) -> None:
        self._remembered = {p.tool: p.decision for p in items}

    def reset(self, tool: str | None = None) -> None:
        if tool is None:
            self._remembered.clear()
        else:
            self._remembered.pop(tool, None)
        self._on_change()

    async def decide(self, turn: Turn, rec: CallRecord, reason: str | None) -> Verdict:
        if (remembered := self._remembered.get(rec.name)) is not None:
            return (True, "completed", "") if remembered == "allow" else self._no("denied", "you chose to always reject this tool")
        if not self._editor.can_confirm():
            return self._no("denied", "it needs your confirmation, and this client cannot ask for it")
        params = ConfirmToolCallParams(
            agent_id=self._agent_id, turn_id=turn.id, tool_call=rec.wire(), options=OPTIONS, reason=reason or None
        )
        timeout = self._timeout()
        outcome: Any = None
        try:
            with turn.pending_request() as scope:
                with anyio.fail_after(timeout):
                    outcome = (await self._editor.confirm_tool_call(params)).outcome
            if scope.cancelled_caught:
                return self._no("cancelled", "the turn was cancelled while waiting for your confirmation")
        except TimeoutError:
            return self._no("denied", f"no answer to the confirmation within {timeout:g}s")
        except Exception as e:  # an error response, a dead client, garbage
            return self._no("denied", f"the client's answer was unusable ({type(e).__name__}: {e})")
        kind = _KIND_BY_ID.get(outcome, outcome) if isinstance(outcome, str) else None
        if kind in ("allow_always", "reject_always"):
            self._remembered[rec.name] = "allow" if kind == "allow_always" else "deny"
            self._on_change()
        if kind in ("allow_once", "allow_always"):
            return True, "completed", ""
        if kind == "cancelled":
            return self._no("cancelled", "you cancelled the confirmation")
        if kind in ("reject_once", "reject_always"):
            return self._no("denied", "you rejected the tool call")
        return self._no("denied", f"the client answered {outcome!r}, which is not an option")

    def _no(self, outcome: Outcome, why: str) -> Verdict:
        log.info("agent %s: tool call not allowed: %s", self._agent_id, why)
        self._editor.log("info", f"agent {self._agent_id}: tool call not allowed: {why}")
        return False, outcome, why
