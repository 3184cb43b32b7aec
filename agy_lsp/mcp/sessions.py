"""MCP session ids <-> the core's agents.

A session id is ours (a new session has no conversation id until its first turn
ends); the core keeps it with the agent and stores it with the session as an
alias, so it maps the id to its live agent, and after a restart still finds and
opens the stored conversation (`manager.sessions.open`, agents/sessions.py), as it
does an id from another front-end (an ACP session id, a conversation id). A stored
session opens without a harness; its next turn starts one.
"""

from __future__ import annotations

from pathlib import Path

import anyio

from agy_lsp.agents.manager import AgentManager
from agy_lsp.agents.sessions import SessionMeta
from agy_lsp.mcp.errors import invalid
from agy_lsp.mcp.owners import Guard
from agy_lsp.mcp.schemas import RunArgs, SessionOut
from agy_lsp.protocol.agent_options import ModelOptions
from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.types import ConfigureAgentParams, CreateAgentParams

DEFAULT_PRESET = "safeDefaults"  # reads allowed, the rest asks (and without elicitation is denied)


def not_found(session_id: str) -> AgyError:
    return AgyError(
        ErrorCode.AGENT_NOT_FOUND,
        f"no session {session_id!r}; agy_sessions lists the stored ones, and agy_run without sessionId starts a new one",
        {"sessionId": session_id},
    )


def model_options(args: RunArgs) -> ModelOptions | None:
    return ModelOptions(thinking_level=args.thinking_level) if args.thinking_level is not None else None


class Sessions:
    def __init__(self, manager: AgentManager, default_cwd: str) -> None:
        self.manager = manager
        self.default_cwd = default_cwd
        # What this server last set on a session (a stored session's are not known here).
        self.policy: dict[str, str | None] = {}
        self.thinking: dict[str, str | None] = {}
        self.guard = Guard()  # over HTTP: each token's own sessions, cwd within the roots (owners.py)

    async def open(self, args: RunArgs) -> tuple[str, str, bool]:
        """(session id, agent id, whether it is new) for `agy_run`: a new session, or
        the one named, with the model and policy given applied from this turn on."""
        if args.session_id is None:
            return *(await self._new(args)), True
        session_id = args.session_id
        agent_id = await self.agent(session_id)
        if args.cwd is not None and args.cwd != (self.cwd(session_id) or args.cwd):
            raise invalid("cwd is fixed when a session starts; leave it out to continue this one", field="cwd")
        # A calling model tends to repeat its arguments: only a change restarts the agent.
        policy = args.policy if args.policy != self.policy.get(session_id) else None
        thinking = args.thinking_level if args.thinking_level != self.thinking.get(session_id) else None
        if policy is not None or thinking is not None:
            options = ModelOptions(thinking_level=thinking) if thinking is not None else None
            await self.manager.configure(ConfigureAgentParams(agent_id=agent_id, policies=policy, model_options=options))
            self.policy[session_id] = policy or self.policy.get(session_id)
            self.thinking[session_id] = thinking or self.thinking.get(session_id)
        if args.model is not None:
            await self.manager.set_model(agent_id, args.model)
        return session_id, agent_id, False

    async def _new(self, args: RunArgs) -> tuple[str, str]:
        cwd = args.cwd or self.default_cwd
        if not Path(cwd).is_absolute():
            raise invalid("cwd must be an absolute path", field="cwd")
        self.guard.check_cwd(cwd)
        if not await anyio.Path(cwd).is_dir():
            raise invalid(f"cwd {cwd!r} is not a directory", field="cwd")
        params = CreateAgentParams(
            backend=None if args.model is None else self.manager.default_backend(args.model),
            workspaces=[cwd],
            policies=args.policy or DEFAULT_PRESET,
            model_options=model_options(args),
        )
        session_id, agent_id = await self.manager.sessions.new(params)  # the turn starts the harness
        self.guard.claim(session_id)  # (unowned until now: listed to nobody over HTTP)
        self.policy[session_id], self.thinking[session_id] = args.policy or DEFAULT_PRESET, args.thinking_level
        return session_id, agent_id

    def live(self, session_id: str) -> str | None:
        """The live agent of a session (the core knows it by the session id, an alias)."""
        holder = self.manager.sessions.holder(session_id)
        return holder.agent_id if holder else None

    def cwd(self, session_id: str) -> str | None:
        holder = self.manager.sessions.holder(session_id)
        return holder.cwd if holder else None

    async def agent(self, session_id: str) -> str:
        """The agent of a live session, or of a stored one, opened now (no harness yet)."""
        agent_id = await self.manager.sessions.open(session_id)
        if agent_id is None:
            raise not_found(session_id)
        return agent_id

    def stored(self, session_id: str) -> SessionMeta:
        """A session's stored metadata; AGENT_NOT_FOUND if there is none."""
        meta = self.manager.sessions.find(session_id)
        if meta is None:
            raise not_found(session_id)
        return meta

    def listing(self, cwd: str | None, limit: int) -> tuple[list[SessionOut], int]:
        """Sessions newest first: live ones not stored yet (a first turn still
        running), then the stored ones (agents/sessions.py merges them)."""
        listed = [
            SessionOut(
                session_id=s.session_id,
                title=s.title,
                updated_at=s.updated_iso(),
                turn_count=s.turn_count,
                live=s.agent_id is not None,
                cwd=s.cwd,
            )
            for s in self.manager.sessions.listing(cwd)
            if self.guard.visible(s.session_id)
        ]
        return listed[:limit], len(listed)
