"""Stored sessions as resources: `agy://sessions/<sessionId>`, a Markdown transcript.

`resources/list` lists them newest first, `resources/read` renders one (the core's
`export_session`), and a session that changes (a turn ended) is announced:
`notifications/resources/updated` to a host that subscribed to its URI, and
`notifications/resources/list_changed` when a new session appears. On a 2026-07-28
connection the same events go out on `subscriptions/listen` streams instead.
"""

from __future__ import annotations

import logging
from typing import Any

from anyio.abc import TaskGroup
from mcp import MCPError
from mcp.server.context import ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourcesListChanged, ResourceUpdated
from mcp_types import (
    INVALID_PARAMS,
    EmptyResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    PaginatedRequestParams,
    ReadResourceRequestParams,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    SubscribeRequestParams,
    TextResourceContents,
    UnsubscribeRequestParams,
)

from agy_lsp.agents.manager import AgentManager
from agy_lsp.mcp.sessions import Sessions
from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.ids import bad_id, is_session_id
from agy_lsp.protocol.types import ExportSessionParams

log = logging.getLogger(__name__)

PREFIX = "agy://sessions/"
MARKDOWN = "text/markdown"
PAGE = 100

Ctx = ServerRequestContext[Any, Any]


def uri(session_id: str) -> str:
    return PREFIX + session_id


class Notifier:
    """Tells the host that sessions changed, on whichever channel its era has."""

    def __init__(self, tasks: TaskGroup) -> None:
        self.tasks = tasks
        self.bus = InMemorySubscriptionBus()
        self.subscribed: set[str] = set()
        self.session: ServerSession | None = None  # the latest request's: its connection's channel

    def seen(self, ctx: Ctx) -> None:
        self.session = ctx.session

    def changed(self, session_id: str, *, new: bool) -> None:
        self.tasks.start_soon(self._send, uri(session_id), new)

    async def _send(self, target: str, new: bool) -> None:
        try:
            if new:
                await self.bus.publish(ResourcesListChanged())
                if self.session is not None:
                    await self.session.send_resource_list_changed()
            await self.bus.publish(ResourceUpdated(uri=target))
            if self.session is not None and target in self.subscribed:
                await self.session.send_resource_updated(target)
        except Exception as e:  # a host that went away: nothing left to tell
            log.info("resource notification not delivered: %s", e)


class Resources:
    def __init__(self, manager: AgentManager, sessions: Sessions, notifier: Notifier) -> None:
        self.manager = manager
        self.sessions = sessions
        self.notifier = notifier

    async def list(self, ctx: Ctx, params: PaginatedRequestParams | None) -> ListResourcesResult:
        self.notifier.seen(ctx)
        try:
            offset = int(params.cursor) if params is not None and params.cursor else 0
        except ValueError:
            raise MCPError(INVALID_PARAMS, "the cursor is not one this server gave out") from None
        listed, total = self.sessions.listing(None, offset + PAGE)
        resources = [
            Resource(
                uri=uri(s.session_id),
                name=s.session_id,
                title=s.title or "New session",
                description=f"Antigravity session, {s.turn_count} turns, updated {s.updated_at}" + (f", in {s.cwd}" if s.cwd else ""),
                mime_type=MARKDOWN,
            )
            for s in listed[offset:]
        ]
        more = offset + PAGE < total
        return ListResourcesResult(resources=resources, next_cursor=str(offset + PAGE) if more else None)

    async def templates(self, ctx: Ctx, params: PaginatedRequestParams | None) -> ListResourceTemplatesResult:
        template = ResourceTemplate(
            uri_template=PREFIX + "{sessionId}",
            name="session",
            title="Antigravity session transcript",
            description="A stored agy session (an agy_run sessionId) as a Markdown transcript.",
            mime_type=MARKDOWN,
        )
        return ListResourceTemplatesResult(resource_templates=[template])

    async def read(self, ctx: Ctx, params: ReadResourceRequestParams) -> ReadResourceResult:
        self.notifier.seen(ctx)
        session_id = self._session_of(params.uri)
        try:
            agent_id = self.sessions.live(session_id)
            if agent_id is not None:
                export = await self.manager.export_session(ExportSessionParams(agent_id=agent_id))
            else:
                meta = self.sessions.stored(session_id)
                export = await self.manager.export_session(ExportSessionParams(conversation_id=meta.conversation_id))
        except AgyError as e:
            code = INVALID_PARAMS if e.code in (ErrorCode.AGENT_NOT_FOUND, ErrorCode.INVALID_PARAMS) else int(e.code)
            raise MCPError(code, e.message, e.data) from e
        return ReadResourceResult(contents=[TextResourceContents(uri=params.uri, mime_type=MARKDOWN, text=export.markdown)])

    async def subscribe(self, ctx: Ctx, params: SubscribeRequestParams) -> EmptyResult:
        self.notifier.seen(ctx)
        self._session_of(params.uri)
        self.notifier.subscribed.add(params.uri)
        return EmptyResult()

    async def unsubscribe(self, ctx: Ctx, params: UnsubscribeRequestParams) -> EmptyResult:
        self.notifier.subscribed.discard(params.uri)
        return EmptyResult()

    @staticmethod
    def _session_of(target: str) -> str:
        if not target.startswith(PREFIX):
            shown = target if len(target) <= 200 else target[:200] + "…"
            raise MCPError(INVALID_PARAMS, f"not an agy session resource: {shown!r} (expected {PREFIX}<sessionId>)", {"uri": shown})
        session_id = target[len(PREFIX) :]
        if not is_session_id(session_id):
            err = bad_id(session_id, "uri")
            raise MCPError(INVALID_PARAMS, err.message, err.data)
        return session_id
