"""The core's answers to the harness during a turn (port.HarnessCallbacks): tool
calls get their one id, confirmations go to the editor, editor tools run through
`agy/runTool`, and subscribed hooks reach the editor.

It works on the running `Turn` and a few narrow collaborators, never on the whole
agent session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio

from agy_lsp.agents.editor import Editor
from agy_lsp.agents.permissions import Permissions
from agy_lsp.agents.plans import plan_written
from agy_lsp.agents.turn import Turn
from agy_lsp.protocol.types import EditorTool, HookParams, HookPoint, HookResult, RunToolParams
from agy_lsp.sdk.port import EditorToolError, HookTurn, ToolEnd, ToolSighting
from agy_lsp.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class CoreCallbacks:
    agent_id: str
    editor: Editor
    permissions: Permissions
    turn: Callable[[], Turn | None]
    settings: Callable[[], Settings]
    tools: dict[str, EditorTool]
    hooks: frozenset[HookPoint]
    tool_state: dict[str, Any] = field(default_factory=dict[str, Any])

    def hook_arrived(self, *, tool: bool) -> Callable[[], HookTurn]:
        """When a hook request arrives: how its turn stands, asked again at answer
        time. A cancelled run drops its pending hooks when it stops (a killed
        command's post-tool hook comes just before), and an answer to a dropped hook
        ends the harness's run ("no pending hook for ID"): a late hook is answered to
        no one. Tools run only inside a turn; session hooks come outside one."""
        turn = self.turn()
        if turn is None:
            return lambda: "ended" if tool else "live"

        def state() -> HookTurn:
            if self.turn() is not turn:
                return "ended"
            return "cancelled" if turn.cancel_requested else "live"

        return state

    # ------------------------------------------------------------------ tool calls

    async def before_tool(self, call: ToolSighting) -> HookResult:
        turn = self.turn()
        if turn is None:  # a late hook of a turn that ended: its answer is withheld
            log.debug("pre-tool hook for %s after its turn ended", call.name)
            return HookResult(allow=False, message="the turn ended")
        rec = turn.calls.before(call)
        if "preToolCall" not in self.hooks:
            return HookResult(allow=True)
        answer = await self.decide("preToolCall", rec.wire(), turn)
        if answer is None:  # fail closed: a decide hook that cannot decide denies
            turn.refuse(rec, "denied", "the editor's preToolCall hook did not answer")
            return HookResult(allow=False, message="the editor's preToolCall hook did not answer")
        if not answer.allow:
            turn.refuse(rec, "denied", answer.message or "the editor's preToolCall hook denied it")
        elif answer.modified_args:
            rec.args = {**rec.args, **answer.modified_args}
        return answer

    async def confirm_tool(self, call: ToolSighting, reason: str | None) -> bool:
        turn = self.turn()
        if turn is None:
            log.debug("confirmation of %s after its turn ended: refused", call.name)
            return False
        rec = turn.calls.asking(call)
        allowed, outcome, why = await self.permissions.decide(turn, rec, reason)
        if not allowed:
            turn.refuse(rec, outcome, why)
        return allowed

    async def run_editor_tool(self, call: ToolSighting) -> Any:
        turn = self.turn()
        if turn is None:
            raise EditorToolError("the turn ended before the tool ran")
        rec = turn.calls.running(call)
        tool = self.tools.get(call.name)
        timeout = (tool.timeout_secs if tool else None) or self.settings().tool_timeout_secs
        params = RunToolParams(agent_id=self.agent_id, turn_id=turn.id, tool_call=rec.wire(call.args), state=self.tool_state)
        try:
            with turn.pending_request() as scope:
                with anyio.fail_after(timeout):
                    result = await self.editor.run_tool(params)
            if scope.cancelled_caught:
                raise EditorToolError("the turn was cancelled")
        except TimeoutError as e:
            raise EditorToolError(f"the editor did not answer within {timeout:g}s") from e
        except EditorToolError:
            raise
        except Exception as e:
            raise EditorToolError(f"the editor failed to run {call.name}: {e}") from e
        if result.state is not None:
            self.tool_state.update(result.state)
        if result.error is not None:
            raise EditorToolError(result.error)
        return result.content

    def after_tool(self, end: ToolEnd) -> None:
        turn = self.turn()
        if turn is None:  # a cancelled call's end, after its turn closed it as cancelled
            log.debug("late end of %s (%s) after its turn ended: dropped", end.sighting.name, end.sighting.call_id)
            return
        rec = turn.calls.finished(end)
        for trajectory in end.delegated:
            turn.delegated_by[trajectory] = rec.id
        wire = turn.finish(rec, end.result, end.error)
        if not end.error and (plan := plan_written(rec.args)) is not None:
            turn.emit("plan", text=plan.markdown, plan=plan)
        if "postToolCall" in self.hooks:
            self.notice("postToolCall", wire)

    async def tool_failed(self, end: ToolEnd) -> str | None:
        turn = self.turn()
        payload: dict[str, Any] = {"error": end.error or "", "type": "ToolExecutionError"}
        if end.sighting.name:
            payload["name"] = end.sighting.name
        if turn is not None and (rec := turn.calls.failing(end.sighting)) is not None:
            payload["id"] = rec.id
        answer = await self.decide("onToolError", payload, turn)
        return (answer.message or None) if answer is not None else None

    # ------------------------------------------------------------------ hooks

    async def decide(self, point: HookPoint, data: Any, turn: Turn | None = None) -> HookResult | None:
        """A decide/transform hook: the editor's answer, or None if it failed."""
        turn = turn or self.turn()
        params = HookParams(agent_id=self.agent_id, point=point, turn_id=turn.id if turn else None, data=data)
        try:
            with anyio.fail_after(self.settings().confirm_timeout_secs):
                if turn is None:
                    return await self.editor.hook(params)
                with turn.pending_request():
                    return await self.editor.hook(params)
        except Exception as e:
            log.info("hook %s failed: %s", point, e)
        return None

    def notice(self, point: HookPoint, data: Any) -> None:
        turn = self.turn()
        self.editor.hook_notice(HookParams(agent_id=self.agent_id, point=point, turn_id=turn.id if turn else None, data=data))
