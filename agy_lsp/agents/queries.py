"""What an agent or a stored session looks like from outside: status, history,
usage, session lists and transcripts. Pure reads; a hibernated agent answers from
its kept conversation without waking."""

from __future__ import annotations

import msgspec

from agy_lsp.agents.session import AgentSession, stored_spec
from agy_lsp.agents.store import RefusedCall, SessionMeta
from agy_lsp.backends.identity import without_key
from agy_lsp.protocol.errors import invalid_params
from agy_lsp.protocol.types import (
    AgentSummary,
    HistoryResult,
    SessionSummary,
    StatusResult,
    Step,
    Usage,
    UsageResult,
)


def status(session: AgentSession) -> StatusResult:
    snap = session.conversation.snapshot() if session.conversation is not None else None
    return StatusResult(
        agent_id=session.agent_id,
        name=session.name,
        state=session.state,
        idle=session.turn is None,
        turn_count=session.turn_count(),
        conversation_id=session.conversation_id,
        last_response=snap.last_response if snap else "",
        compaction_indices=snap.compaction_indices if snap else [],
        total_usage=snap.total_usage if snap else Usage(),
        last_turn_usage=snap.last_turn_usage if snap else None,
        permissions=session.permissions.remembered(),
        sandbox=snap.sandbox if snap else None,
        spec=msgspec.structs.replace(stored_spec(session.spec), backend=without_key(session.backend)),
        trajectory_usage=snap.trajectory_usage if snap else [],
    )


def usage(session: AgentSession) -> UsageResult:
    s = status(session)
    return UsageResult(total_usage=s.total_usage, last_turn_usage=s.last_turn_usage)


def summary(session: AgentSession) -> AgentSummary:
    return AgentSummary(
        agent_id=session.agent_id,
        name=session.name,
        state=session.state,
        conversation_id=session.conversation_id,
        turn_count=session.turn_count(),
    )


def steps(session: AgentSession) -> list[Step]:
    """Each step once, in its latest form; a call that never ran shows as the call
    with its outcome and reason (the harness kept only an error text for it)."""
    out = session.conversation.history() if session.conversation is not None else []
    return with_refused(out, session.refused)


def with_refused(steps: list[Step], refused: list[RefusedCall]) -> list[Step]:
    """Each refused call on its error step. A call refused as its turn was cancelled
    takes the first "denied" step after the last step its turn showed; when the
    harness never wrote one (this process dropped it), a step of its own there."""
    if not refused:
        return steps
    by_step = {r.step_id: r for r in refused if r.step_id}
    late: dict[str, list[RefusedCall]] = {}
    for r in refused:
        if not r.step_id and r.after_step:
            late.setdefault(r.after_step, []).append(r)
    out: list[Step] = []
    waiting: list[RefusedCall] = []
    for step in steps:
        r = by_step.get(step.id)
        if r is None and waiting and _denial(step):
            r = waiting.pop(0)
        elif waiting and step.source == "USER":  # the next turn: its denied steps never came
            out += [_refused_step(w) for w in waiting]
            waiting = []
        out.append(step if r is None else msgspec.structs.replace(step, tool_calls=[r.call], content="", error=r.reason))
        waiting += late.get(step.id, [])
    return out + [_refused_step(w) for w in waiting]


def _denial(step: Step) -> bool:
    return step.status == "ERROR" and not step.tool_calls and "denied" in step.error.lower()


def _refused_step(r: RefusedCall) -> Step:
    return Step(id=f"{r.after_step}+{r.call.id}", source="MODEL", target="TARGET_USER", status="ERROR", tool_calls=[r.call], error=r.reason)


def page(items: list[Step], offset: int, limit: int | None) -> HistoryResult:
    if offset < 0 or (limit is not None and limit < 0):
        raise invalid_params("offset and limit must be >= 0", field="offset/limit")
    end = None if limit is None else offset + limit
    return HistoryResult(steps=items[offset:end], total=len(items))


def session_summary(meta: SessionMeta) -> SessionSummary:
    return SessionSummary(
        conversation_id=meta.conversation_id, name=meta.name, title=meta.title, updated_at=meta.updated_at, turn_count=meta.turn_count
    )


def to_markdown(title: str, steps: list[Step]) -> str:
    """A conversation as a transcript a person can read."""
    lines = [f"# {title or 'Conversation'}", ""]
    for step in steps:
        if step.status.upper() != "DONE" and not step.tool_calls:
            continue  # a failed step without a call: its error follows below
        if step.source.upper() == "USER" and step.content:
            lines += ["## You", "", step.content.strip(), ""]
        elif step.tool_calls:
            for call in step.tool_calls:
                args = ", ".join(f"{k}={v!r}" for k, v in call.args.items())
                outcome = f" ({call.outcome})" if call.outcome and call.outcome != "completed" else ""
                lines += [f"> tool `{call.name}`({args}){outcome}", ""]
        elif step.source.upper() == "MODEL" and step.content:
            lines += ["## Agent", "", step.content.strip(), ""]
        if step.error:
            lines += [f"> error: {step.error}", ""]
    return "\n".join(lines).rstrip() + "\n"
