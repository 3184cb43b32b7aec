"""The editor as confirmation handler.

An `ask_user` policy calls `Permissions.ask`. It answers from remembered
`*_always` choices, or sends `agy/confirmToolCall` to the editor and waits.
It fails closed: no capability, an error, garbage, a timeout or a cancelled turn
all mean the tool does not run.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

import anyio

from agy_lsp.agents import policies
from agy_lsp.protocol.types import ConfirmToolCallParams, Permission, PermissionOption, ToolCall

if TYPE_CHECKING:
    from google.antigravity import types as sdk
    from google.antigravity.hooks.policy import Policy

    from agy_lsp.agents.session import AgentSession

log = logging.getLogger(__name__)

OPTIONS = [
    PermissionOption(option_id="allow_once", kind="allow_once", name="Allow once"),
    PermissionOption(option_id="allow_always", kind="allow_always", name="Always allow"),
    PermissionOption(option_id="reject_once", kind="reject_once", name="Reject"),
    PermissionOption(option_id="reject_always", kind="reject_always", name="Always reject"),
]
_KIND_BY_ID = {o.option_id: o.kind for o in OPTIONS}


class Permissions:
    def __init__(self, session: AgentSession) -> None:
        self._session = session
        self._remembered: dict[str, Literal["allow", "deny"]] = {}
        self.last_denial: str | None = None  # why the latest ask said no (for tests and logs)

    def remembered(self) -> list[Permission]:
        return [Permission(tool=t, decision=d) for t, d in sorted(self._remembered.items())]

    def restore(self, items: list[Permission]) -> None:
        self._remembered = {p.tool: p.decision for p in items}

    def reset(self, tool: str | None = None) -> None:
        if tool is None:
            self._remembered.clear()
        else:
            self._remembered.pop(tool, None)
        self._session.persist()

    def sdk_policies(self, known_tools: list[str]) -> list[Policy]:
        spec = policies.normalize(self._session.params.policies)
        ask_method = self.ask

        # A plain function, not a bound method: the SDK deep-copies its config, and
        # a bound method would drag this whole session into the copy.
        async def ask(call: sdk.ToolCall, reason: str | None = "") -> bool:
            return await ask_method(call, reason)

        return policies.build(spec, ask, known_tools=known_tools, workspaces=self._session.params.workspaces)

    async def ask(self, call: sdk.ToolCall, reason: str | None = "") -> bool:
        """The SDK's ask_user handler. True only on an explicit allow from the editor."""
        ids = self._session.chunks.ids
        wire_call = ids.asking(call)  # with the call's one id (see agents/chunks.py)
        allowed = await self._ask(wire_call, reason)
        if not allowed:
            ids.deny(wire_call.id)
        return allowed

    async def _ask(self, wire_call: ToolCall, reason: str | None) -> bool:
        session = self._session
        name = wire_call.name  # `server/tool` for an MCP tool, so choices never leak across servers
        if (remembered := self._remembered.get(name)) is not None:
            return remembered == "allow"
        editor = session.editor
        if not editor.can_confirm():
            return self._deny(
                f"tool {name!r} needs confirmation, but the client did not declare "
                "capabilities.experimental.agy.confirmToolCall"
            )
        params = ConfirmToolCallParams(
            agent_id=session.agent_id,
            turn_id=session.turn_id or "",
            tool_call=wire_call,
            options=OPTIONS,
            reason=reason or None,
        )
        outcome: Any = None
        try:
            with session.callbacks.pending_scope() as scope:
                with anyio.fail_after(session.settings.confirm_timeout_secs):
                    outcome = (await editor.confirm_tool_call(params)).outcome
            if scope.cancelled_caught:
                return self._deny("the turn was cancelled while waiting for confirmation")
        except TimeoutError:
            return self._deny(f"no answer within {session.settings.confirm_timeout_secs:g}s")
        except Exception as e:  # an error response, a dead client, garbage
            return self._deny(f"the client's answer was unusable: {type(e).__name__}: {e}")
        kind = _KIND_BY_ID.get(outcome, outcome) if isinstance(outcome, str) else None
        if kind in ("allow_always", "reject_always"):
            self._remembered[name] = "allow" if kind == "allow_always" else "deny"
            session.persist()
        if kind in ("allow_once", "allow_always"):
            return True
        if kind == "cancelled":
            return self._deny("the person cancelled the confirmation")
        if kind in ("reject_once", "reject_always"):
            return self._deny("the person rejected the tool call")
        return self._deny(f"unrecognised outcome {outcome!r}")

    def _deny(self, why: str) -> bool:
        self.last_denial = why
        log.info("agent %s: tool call denied: %s", self._session.agent_id, why)
        self._session.editor.log("info", f"agent {self._session.agent_id}: tool call denied: {why}")
        return False
