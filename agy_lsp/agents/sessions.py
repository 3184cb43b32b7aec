"""Sessions as every front-end sees them: the stored ones and the live ones merged
into one list, one found by its conversation id or by an alias a front-end gave it,
one opened (its live agent, or the stored session resumed under that id), one
deleted, the live agent that holds a conversation, and a session's title.

The only reader of the store besides an agent saving itself (agents/session.py);
the manager reaches sessions through here. Ids are checked as they come in
(protocol/ids.py): a bad one is InvalidParams naming the field. The server's
internal agents (manager.create(internal=True)) are none of these: never stored,
never listed, never opened.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

import anyio
import msgspec

from agy_lsp.agents import prompts, queries
from agy_lsp.agents.session import AgentSession
from agy_lsp.agents.store import SessionMeta, SessionStore, shorten
from agy_lsp.protocol.errors import AgyError, ErrorCode, invalid_params
from agy_lsp.protocol.ids import parse_session_id
from agy_lsp.protocol.types import CreateAgentParams, CreateAgentResult, ListSessionsResult, Prompt

Create = Callable[..., Awaitable[CreateAgentResult]]  # AgentManager.create(params, *, alias, start)


@dataclass(frozen=True)
class Listed:
    """One session of a listing: stored (`meta`), live (`agent_id`), or both."""

    session_id: str  # the id it is known by: the first front-end's alias, else its conversation id
    conversation_id: str | None
    title: str
    cwd: str | None
    updated_at: float  # epoch seconds; a live session not stored yet: now
    turn_count: int
    agent_id: str | None  # the live agent that holds it
    meta: SessionMeta | None  # None: live, not stored yet (its first turn runs)

    def updated_iso(self) -> str:
        """`updated_at` in ISO 8601, UTC, as the wires show it."""
        return datetime.fromtimestamp(self.updated_at, timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Holder:
    """The live agent a session id names, and its working directory."""

    agent_id: str
    cwd: str | None


def public_id(meta: SessionMeta) -> str:
    return meta.aliases[0] if meta.aliases else meta.conversation_id


class Sessions:
    def __init__(self, state_dir: Callable[[], str], agents: Callable[[], Iterable[AgentSession]], create: Create) -> None:
        self._state_dir = state_dir
        self._agents = agents
        self._create = create
        self._opening = anyio.Lock(fast_acquire=True)  # two calls naming one stored session open it once

    def _store(self) -> SessionStore:
        return SessionStore(self._state_dir())  # the state dir may change (initializationOptions)

    def stored(self, cwd: str | None = None) -> list[SessionMeta]:
        """Stored sessions, newest first; with `cwd`, those whose first workspace it is."""
        return self._store().list(cwd)

    def page(self, offset: int = 0, limit: int = 50, cwd: str | None = None) -> ListSessionsResult:
        """`agy/listSessions`: a page of the stored sessions."""
        if offset < 0 or limit < 0:
            raise invalid_params("offset and limit must be >= 0", field="offset/limit")
        metas = self.stored(cwd)
        return ListSessionsResult(sessions=[queries.session_summary(m) for m in metas[offset : offset + limit]], total=len(metas))

    def listing(self, cwd: str | None = None, *, fresh: bool = True) -> list[Listed]:
        """Every session: with `fresh`, first the live ones not stored yet (a first turn
        still running) that have an id, then the stored ones, newest first, each with the
        live agent that holds it."""
        metas = self.stored(cwd)
        agents = list(self._agents())
        holders = {a.conversation_id: a.agent_id for a in agents if a.conversation_id}
        known = {public_id(m) for m in metas} | {m.conversation_id for m in metas}
        listed: list[Listed] = []
        if fresh:
            now = time.time()
            for a in agents:
                sid = a.aliases[0] if a.aliases else a.conversation_id
                where = a.spec.workspaces[0] if a.spec.workspaces else None
                if sid is None or sid in known or a.conversation_id in known or (cwd is not None and where != cwd):
                    continue
                title = a.meta.title if a.meta else ""
                listed.append(Listed(sid, a.conversation_id, title, where, now, a.turn_count(), a.agent_id, None))
        for m in metas:
            holder = holders.get(m.conversation_id)
            listed.append(Listed(public_id(m), m.conversation_id, m.title, m.cwd, m.updated_at, m.turn_count, holder, m))
        return listed

    def find(self, session_id: str, field: str = "sessionId") -> SessionMeta | None:
        """A stored session by conversation id or alias; None if it is not stored (a
        conversation the SDK has without our metadata counts as stored)."""
        session_id = parse_session_id(session_id, field)
        store = self._store()
        meta = store.find(session_id)
        if meta is None and store.has_conversation(session_id):
            meta = SessionMeta(conversation_id=session_id)
        return meta

    def resumable(self, conversation_id: str) -> SessionMeta | None:
        """What `createAgent {conversationId}` resumes: our metadata, or None when only
        the SDK's conversation is there; InvalidParams when neither is."""
        conversation_id = parse_session_id(conversation_id, "conversationId")
        store = self._store()
        meta = store.get(conversation_id)
        if meta is None and not store.has_conversation(conversation_id):
            raise invalid_params(f"no stored conversation {conversation_id!r}", conversationId=conversation_id, stateDir=self._state_dir())
        return meta

    def holder(self, session_id: str) -> Holder | None:
        """The live agent known by this id: an alias a front-end gave it, or its conversation id."""
        for a in self._agents():
            if session_id in a.aliases or (a.conversation_id is not None and a.conversation_id == session_id):
                return Holder(a.agent_id, a.spec.workspaces[0] if a.spec.workspaces else None)
        return None

    async def new(self, params: CreateAgentParams, *, start: bool = False) -> tuple[str, str]:
        """A new session: (its public id, its agent). The id is ours, since the SDK names
        the conversation only at the end of its first turn; the core keeps it with the
        agent and stores it with the session as an alias, so `open` finds it later."""
        session_id = uuid.uuid4().hex
        created = await self._create(params, alias=session_id, start=start)
        return session_id, created.agent_id

    async def open(self, session_id: str, params: CreateAgentParams | None = None, *, start: bool = False) -> str | None:
        """The agent of a session a front-end names (an alias it gave it, or a conversation
        id): the live agent that holds it, else the stored session resumed now under
        that id as an alias, with `params` for the agent (no harness until its first
        turn unless `start`); None when it is neither live nor stored."""
        async with self._opening:
            if (held := self.holder(session_id)) is not None:
                return held.agent_id
            meta = self.find(session_id)
            if meta is None:
                return None
            if (agent_id := self.agent_for(meta.conversation_id)) is not None:
                return agent_id
            params = msgspec.structs.replace(params or CreateAgentParams(), conversation_id=meta.conversation_id)
            return (await self._create(params, alias=session_id, start=start)).agent_id

    def title(self, agent_id: str, prompt: Prompt) -> str | None:
        """The title a turn with this prompt gives the agent's session (the one it is
        stored and listed with), to show before the turn runs; None when the session
        has its title already (a turn stored it, or it was resumed)."""
        agent = next((a for a in self._agents() if a.agent_id == agent_id), None)
        if agent is None or agent.meta is not None:
            return None
        return shorten(prompts.first_text(prompts.with_commands(prompt))) or None

    def agent_for(self, conversation_id: str) -> str | None:
        """The live agent that holds this conversation, if any."""
        return next((a.agent_id for a in self._agents() if a.conversation_id == conversation_id), None)

    def delete(self, session_id: str) -> bool:
        """Delete a stored session that no live agent holds; False if unknown."""
        meta = self.find(session_id)
        if meta is None:
            return False
        if self.agent_for(meta.conversation_id) is not None:
            raise AgyError(ErrorCode.AGENT_BUSY, "the session is open; close it first", {"sessionId": session_id})
        self._store().delete(meta.conversation_id)
        return True

    def remove(self, conversation_id: str) -> None:
        """Delete a conversation's files (its agent is gone: `agy/deleteAgent`)."""
        self._store().delete(conversation_id)
