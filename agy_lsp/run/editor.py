"""The editor `agy-lsp run` gives the core (agents/editor.py's protocol): chunks go
to the output, and consent is decided by the flags, since nobody is there to ask.

A call that needs consent and that no flag allows is refused at once (it never
waits), with a line on stderr naming the flag that would allow it; the run then
cancels the turn (`on_refused`) and exits with code 3 (docs/run.md).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable

from agy_lsp.agents.editor import NullEditor
from agy_lsp.agents.report import TurnReport
from agy_lsp.protocol.types import (
    AgentStateNotice,
    ChatChunk,
    ConfirmToolCallParams,
    ConfirmToolCallResult,
    QuotaNotice,
    RunToolParams,
    RunToolResult,
    ToolCall,
)
from agy_lsp.run.output import CallOutcome, Output, chunk_event

_LOG_ALWAYS = ("warning", "error")


def describe(call: ToolCall) -> str:
    """`name(first argument)`, short, for one stderr line."""
    if not call.args:
        return call.name
    key, value = next(iter(call.args.items()))
    text = str(value).replace("\n", " ")
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{call.name}({key}={text!r})"


def allow_flags(name: str) -> list[str]:
    return [f"--allow {name}", "--yes"]


class Consent:
    """What the flags allow: every call (`--yes`), or the tools named (`--allow`, globs ok)."""

    def __init__(self, allow: list[str], yes: bool) -> None:
        self.allow = allow
        self.yes = yes

    def allows(self, tool: str) -> bool:
        return self.yes or any(fnmatch.fnmatchcase(tool, pattern) for pattern in self.allow)


class RunEditor(NullEditor):
    """No hooks are subscribed and no editor tools declared: NullEditor's answers, but
    for consent (by the flags) and what a person sees."""

    def __init__(self, out: Output, consent: Consent, on_refused: Callable[[], None]) -> None:
        self.out = out
        self.consent = consent
        self.on_refused = on_refused
        self.refused: dict[str, str] = {}  # call id -> why, for calls refused for want of consent

    # ------------------------------------------------------------------ events

    def chunk(self, chunk: ChatChunk) -> None:
        self.out.event(chunk_event(chunk, self.refused))
        top = not chunk.depth
        if chunk.kind == "text" and chunk.text:
            if top:
                self.out.answer_text(chunk.text)
            else:
                self.out.note(f"  [subagent] {chunk.text.strip()}")
        elif chunk.kind == "thought" and chunk.text:
            self.out.note(f"  thinking: {chunk.text.strip()}")
        elif chunk.kind == "retry" and chunk.text:
            self.out.note(f"  {chunk.text}…")
        elif chunk.kind == "toolCall" and chunk.tool_call is not None:
            self.out.note(f"→ {describe(chunk.tool_call)}")
        elif chunk.kind == "toolResult" and chunk.tool_result is not None:
            r = chunk.tool_result
            self.out.note(f"  {r.name}: {r.outcome or 'done'}{f' ({r.error})' if r.error and r.id not in self.refused else ''}")

    def agent_state(self, notice: AgentStateNotice) -> None:
        if notice.state in ("starting", "restarting", "failed") and notice.reason:
            self.out.note(f"  agent {notice.state}: {notice.reason}")

    def quota(self, notice: QuotaNotice) -> None:
        if notice.state == "backoff":
            self.out.note(f"  quota: waiting {notice.retry_after_ms / 1000:g}s before retrying")

    def log(self, level: str, message: str) -> None:
        self.out.note(f"agy-lsp run: {level}: {message}", always=level in _LOG_ALWAYS)

    # ------------------------------------------------------------------ requests

    def can_confirm(self) -> bool:
        return True

    async def confirm_tool_call(self, params: ConfirmToolCallParams) -> ConfirmToolCallResult:
        call = params.tool_call
        if self.consent.allows(call.name):
            self.out.note(f"  allowed {describe(call)} ({'--yes' if self.consent.yes else '--allow'})")
            return ConfirmToolCallResult(outcome="allow_once")
        why = f"refused: it needs consent and nobody is there to give it; pass --allow {call.name} or --yes to allow it"
        self.refused[call.id] = why
        line = f"agy-lsp run: refused {describe(call)}: it needs consent; pass --allow {call.name} (or --yes) to allow it"
        self.out.note(line, always=True)
        self.on_refused()
        return ConfirmToolCallResult(outcome="reject_once")

    async def run_tool(self, params: RunToolParams) -> RunToolResult:
        return RunToolResult(error="agy-lsp run declares no editor tools")

    def outcomes(self, report: TurnReport) -> list[CallOutcome]:
        """The turn's own calls (not its subagents'), as the core reported them; a call
        refused here says why, and which flags would have allowed it."""
        out: list[CallOutcome] = []
        for c in report.tool_calls(subagents=False):
            rec = CallOutcome(c.id, c.name, c.args, c.outcome, c.result, c.error)
            if c.id in self.refused:
                rec.error, rec.allow_with = self.refused[c.id], allow_flags(c.name)
            out.append(rec)
        return out
