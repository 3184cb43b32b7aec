"""Who may see a session: its owner (the token that started it), over HTTP.

On stdio there is one host and every session is its own (`Guard`, a no-op). Over
HTTP (`Owners`) each session belongs to the token id that created it (the request's
authenticated principal, agy_lsp/mcp/auth.py); another token's requests neither
list it nor reach it: naming it answers exactly as for a session that does not exist.
A session with no recorded owner (started on stdio, or by another front-end) is
nobody's over HTTP. `--shared` turns the check off (every token sees every session).
The map session id -> token id is kept in the state dir (`mcp-http-owners.json`), so
it survives a restart. Workspaces: with `--root DIR` a new session's cwd must lie
under one of the roots.

Kept apart from the sessions themselves: Sessions calls `claim`, `visible` and
`check_cwd`; the server wraps the handlers that name a session (`guard_tool`,
`guard_resource`).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from mcp import MCPError
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp_types import INVALID_PARAMS, CallToolRequestParams, CallToolResult

from agy_lsp.mcp import errors
from agy_lsp.mcp.errors import invalid
from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.ids import is_session_id

log = logging.getLogger(__name__)

OWNERS_FILE = "mcp-http-owners.json"
PREFIX = "agy://sessions/"  # resources.PREFIX (not imported: resources imports sessions, which imports this)

P = TypeVar("P")
R = TypeVar("R")


def principal() -> str | None:
    """The token id of the request being served, None when unauthenticated (stdio)."""
    token = get_access_token()
    return token.client_id if token is not None else None


def _unknown(session_id: str) -> AgyError:
    # The same answer as for a session that does not exist (agy_lsp/mcp/sessions.not_found).
    return AgyError(
        ErrorCode.AGENT_NOT_FOUND,
        f"no session {session_id!r}; agy_sessions lists the stored ones, and agy_run without sessionId starts a new one",
        {"sessionId": session_id},
    )


class Guard:
    """stdio: one host owns everything, any cwd."""

    def claim(self, session_id: str) -> None:
        return None

    def visible(self, session_id: str) -> bool:
        return True

    def check_cwd(self, cwd: str) -> None:
        return None


class Owners(Guard):
    def __init__(self, state_dir: str, *, shared: bool = False, roots: list[str] | None = None) -> None:
        self.path = Path(state_dir).expanduser() / OWNERS_FILE
        self.shared = shared
        self.roots = [Path(r).expanduser().resolve() for r in roots or []]
        self.owner: dict[str, str] = self._load()

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            log.warning("session owners %s unreadable (%s): sessions made before are nobody's", self.path, e)
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}  # pyright: ignore[reportUnknownVariableType]

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".owners-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self.owner, f)
        os.replace(tmp, self.path)

    def claim(self, session_id: str) -> None:
        who = principal()
        if who is not None:
            self.owner[session_id] = who
            self._save()

    def visible(self, session_id: str) -> bool:
        if self.shared:
            return True
        who = principal()
        return who is None or self.owner.get(session_id) == who  # None: not a request (the server itself)

    def owns(self, who: str | None, session_id: str) -> bool:
        """Whether the token `who` may hear about `session_id` (outside a request)."""
        return self.shared or (who is not None and self.owner.get(session_id) == who)

    def check_cwd(self, cwd: str) -> None:
        if not self.roots:
            return
        real = Path(cwd).resolve()
        if not any(real == root or real.is_relative_to(root) for root in self.roots):
            raise invalid(f"cwd {cwd!r} is outside the server's roots", field="cwd", roots=[str(r) for r in self.roots])


def guard_tool(
    guard: Guard, call: Callable[[Any, CallToolRequestParams], Awaitable[CallToolResult]]
) -> Callable[[Any, CallToolRequestParams], Awaitable[CallToolResult]]:
    """tools/call, once the session it names (if any) is the caller's; else the
    result a session that does not exist gets."""

    async def checked(ctx: Any, params: CallToolRequestParams) -> CallToolResult:
        session_id = (params.arguments or {}).get("sessionId")
        # an id that is no id at all: the tool's own InvalidParams answers it
        if isinstance(session_id, str) and is_session_id(session_id) and not guard.visible(session_id):
            return errors.tool_error(_unknown(session_id), sessionId=session_id)
        return await call(ctx, params)

    return checked


def guard_resource(guard: Guard, handler: Callable[[Any, P], Awaitable[R]]) -> Callable[[Any, P], Awaitable[R]]:
    """resources/read and subscribe, once the session in the URI is the caller's."""

    async def checked(ctx: Any, params: P) -> R:
        target = str(getattr(params, "uri", ""))
        session_id = target.removeprefix(PREFIX)
        if target.startswith(PREFIX) and is_session_id(session_id) and not guard.visible(session_id):
            err = _unknown(target[len(PREFIX) :])
            raise MCPError(INVALID_PARAMS, err.message, {"uri": target, "code": err.code.name})
        return await handler(ctx, params)

    return checked
