"""`agy_status`, `agy_cancel`, `agy_sessions` and `agy_history`: answers from the
core's queries. A session not open in this server answers from its stored
metadata, without starting a harness (the history opens it briefly)."""

from __future__ import annotations

from agy_lsp.agents.manager import AgentManager
from agy_lsp.backends.identity import model_name
from agy_lsp.mcp.resources import uri
from agy_lsp.mcp.schemas import (
    CancelOut,
    HistoryArgs,
    HistoryOut,
    PermissionOut,
    SessionArgs,
    SessionsArgs,
    SessionsOut,
    StatusOut,
)
from agy_lsp.mcp.sessions import Sessions
from agy_lsp.protocol.types import ExportSessionParams

LAST_RESPONSE_CHARS = 2000
HISTORY_CHARS = 40_000


def tail(text: str, limit: int) -> tuple[str, bool]:
    return (text, False) if len(text) <= limit else ("…" + text[-limit:], True)


class Queries:
    def __init__(self, manager: AgentManager, sessions: Sessions) -> None:
        self.manager = manager
        self.sessions = sessions

    def status(self, args: SessionArgs) -> StatusOut:
        session_id = args.session_id
        agent_id = self.sessions.live(session_id)
        if agent_id is None:
            meta = self.sessions.stored(session_id)
            return StatusOut(
                session_id=session_id,
                state="stored",
                busy=False,
                turn_count=meta.turn_count,
                title=meta.title,
                cwd=meta.cwd,
                model=meta.backend.get("model") or None,
            )
        status = self.manager.status(agent_id)
        stored = self.manager.sessions.find(session_id)
        return StatusOut(
            session_id=session_id,
            state=status.state,
            busy=not status.idle,
            turn_count=status.turn_count,
            title=stored.title if stored else "",
            cwd=self.sessions.cwd(session_id),
            model=model_name(self.manager.backend_of(agent_id)),
            last_response=tail(status.last_response, LAST_RESPONSE_CHARS)[0],
            total_usage=status.total_usage,
            permissions=[PermissionOut(tool=p.tool, decision=p.decision) for p in status.permissions],
        )

    def cancel(self, args: SessionArgs) -> CancelOut:
        agent_id = self.sessions.live(args.session_id)
        if agent_id is None:
            self.sessions.stored(args.session_id)  # unknown: AGENT_NOT_FOUND
            return CancelOut(session_id=args.session_id, cancelled=False)
        return CancelOut(session_id=args.session_id, cancelled=self.manager.cancel(agent_id))

    def list(self, args: SessionsArgs) -> SessionsOut:
        listed, total = self.sessions.listing(args.cwd, args.limit)
        return SessionsOut(sessions=listed, total=total)

    async def history(self, args: HistoryArgs) -> HistoryOut:
        agent_id = self.sessions.live(args.session_id)
        if agent_id is not None:
            params = ExportSessionParams(agent_id=agent_id)
        else:
            params = ExportSessionParams(conversation_id=self.sessions.stored(args.session_id).conversation_id)
        export = await self.manager.export_session(params, args.limit)
        markdown, cut = tail(export.markdown, HISTORY_CHARS)
        if cut:
            markdown = f"(The start is cut; the resource {uri(args.session_id)} has the whole transcript.)\n\n{markdown}"
        return HistoryOut(session_id=args.session_id, markdown=markdown, truncated=cut)
