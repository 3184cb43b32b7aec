"""`session/prompt` and `session/cancel`: typed commands, planning, the session's title,
and the telemetry after each turn (`usage_update` with the model's context window
and the session's cost so far).

A prompt sent while a turn runs is refused with AGENT_BUSY (-32009), unless that
turn was cancelled: then it waits for it to settle and runs (the core's rule).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import msgspec
from acp.schema import Cost, PromptResponse, SessionInfoUpdate, Usage, UsageUpdate

from agy_lsp.acp import commands, inputs, options, updates
from agy_lsp.agents.report import TurnReport
from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.types import Prompt

if TYPE_CHECKING:
    from agy_lsp.acp.acp_editor import AcpEditor
    from agy_lsp.acp.bindings import Binding
    from agy_lsp.agents.manager import AgentManager

_STOP = {
    "end_turn": "end_turn",
    "cancelled": "cancelled",
    "MAX_MODEL_CALLS_EXCEEDED": "max_turn_requests",
    "MAX_TOOL_CALLS_EXCEEDED": "max_turn_requests",
}


class Turns:
    """The turn half of `AgyAcpAgent` (agent.py), which provides these."""

    manager: AgentManager
    editor: AcpEditor
    sessions: dict[str, Binding]

    def _binding(self, session_id: str) -> Binding:
        raise NotImplementedError

    def options_changed(self, b: Binding) -> None:
        raise NotImplementedError

    async def prompt(self, prompt: list[inputs.Block], session_id: str, **kwargs: Any) -> PromptResponse:
        b = self._binding(session_id)
        parts = inputs.prompt(prompt)
        typed = commands.typed(parts, {commands.PLAN, commands.CLEAR, *b.skills})
        if typed is not None and typed.name == commands.CLEAR:
            return await self._clear(b)
        if typed is not None:
            parts = commands.as_plan(typed.rest) if typed.name == commands.PLAN else commands.as_skill(typed.name, typed.rest)
        if b.mode == options.PLAN:
            parts = commands.as_plan(parts)
        if not parts or (all(p.type == "command" for p in parts) and typed is None):
            raise inputs.invalid("the prompt has no content", field="prompt")
        self._title(b, parts)
        report = TurnReport()
        try:
            await self.manager.chat(b.agent_id, parts, report)
        except AgyError as e:
            await self.editor.outbox.flush()
            if e.code == ErrorCode.MAX_TOKENS:
                return PromptResponse(stop_reason="max_tokens")
            if e.code == ErrorCode.SAFETY:
                return PromptResponse(stop_reason="refusal")
            raise inputs.to_request_error(e) from e
        finally:
            self.editor.end_turn(b)
        usage = self._usage(b, report)
        self._sandbox_note(b)
        meta = self._not_saved(b, report)
        await self.editor.outbox.flush()
        stop = _STOP.get(report.stop_reason or "", "end_turn")
        return PromptResponse(stop_reason=stop, usage=usage, field_meta=meta)  # pyright: ignore[reportArgumentType]

    def _not_saved(self, b: Binding, report: TurnReport) -> dict[str, Any] | None:
        """A turn that ran but was not saved (PERSIST_FAILED, docs/acp.md): the person
        reads it at the end of the answer, a client in the response's `_meta.agy.warning`."""
        w = report.warning
        if w is None:
            return None
        text = f"\n\n⚠ {w.message} [{w.data.get('code')} {w.code}]. {w.data.get('hint', '')}"
        note = updates.helpers.update_agent_message_text(text)
        self.editor.outbox.put(b.session_id, updates.chunk(note, b.next_message_id("text:warning")))
        return {"agy": {"warning": msgspec.to_builtins(w)}}

    async def _clear(self, b: Binding) -> PromptResponse:
        try:
            await self.manager.clear_history(b.agent_id)
        except AgyError as e:
            raise inputs.to_request_error(e) from e
        done = updates.helpers.update_agent_message_text("History cleared: the agent starts afresh.")
        self.editor.outbox.put(b.session_id, updates.chunk(done, b.next_message_id("text:clear")))
        self.editor.end_turn(b)
        await self.editor.outbox.flush()
        return PromptResponse(stop_reason="end_turn")

    def _title(self, b: Binding, parts: Prompt) -> None:
        """A session's first prompt names it, as `session/list` will (the core's title)."""
        title = self.manager.sessions.title(b.agent_id, parts)
        if title is not None:
            now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
            self.editor.outbox.put(b.session_id, SessionInfoUpdate(session_update="session_info_update", title=title, updated_at=now))

    def _usage(self, b: Binding, report: TurnReport) -> Usage | None:
        """`usage_update`: the tokens in context after the turn, out of the model's
        context window (sent only when the window is known), and the session's cost."""
        u = report.usage
        if u is None:
            return None
        used = u.total_tokens or (u.prompt_tokens + u.candidates_tokens + u.thoughts_tokens)
        size, cost = self.manager.meter(b.agent_id, u)
        if cost is not None:
            b.cost = (b.cost or 0.0) + cost
        if size is not None:
            spent = Cost(amount=round(b.cost, 6), currency="USD") if b.cost is not None else None
            self.editor.outbox.put(b.session_id, UsageUpdate(session_update="usage_update", used=used, size=max(size, used), cost=spent))
        return Usage(
            total_tokens=used,
            input_tokens=u.prompt_tokens,
            output_tokens=u.candidates_tokens,
            thought_tokens=u.thoughts_tokens or None,
            cached_read_tokens=u.cached_tokens or None,
        )

    def _sandbox_note(self, b: Binding) -> None:
        """Once the harness said whether its sandbox works, the `sandbox` option says so."""
        if not b.sandbox or b.sandbox_note is not None:
            return
        try:
            status = self.manager.status(b.agent_id).sandbox
        except AgyError:
            return
        if status is not None:
            b.sandbox_note = "It is active." if status.available else f"It is unavailable here: {status.reason or 'no reason given'}."
            self.options_changed(b)

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        b = self.sessions.get(session_id)
        if b is not None:
            self.manager.cancel(b.agent_id)
