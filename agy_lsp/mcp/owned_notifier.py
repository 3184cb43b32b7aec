"""Change notifications when several hosts share the server (HTTP): each goes only to
those entitled to it.

On stdio the Notifier tells its one host everything. Over HTTP a
`notifications/resources/updated` names a session (its URI), so it goes only to the
connections that subscribed to that URI (which the guard lets only its owner do), and
a 2026-07-28 `subscriptions/listen` stream gets only the updates of its token's own
sessions. `list_changed` carries no id: every connection gets it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from anyio.abc import TaskGroup
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourcesListChanged, ResourceUpdated
from mcp_types import EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams

from agy_lsp.mcp.owners import PREFIX, Owners, principal
from agy_lsp.mcp.resources import Ctx, Notifier

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 1000


class OwnedBus(InMemorySubscriptionBus):
    """A listen stream gets the updates of its own token's sessions only."""

    def __init__(self, owners: Owners) -> None:
        super().__init__()
        self.owners = owners

    def subscribe(self, listener: Callable[[Any], None]) -> Callable[[], None]:
        who = principal()  # the token of the request that opened the stream

        def filtered(event: Any) -> None:
            if isinstance(event, ResourceUpdated) and not self.owners.owns(who, str(event.uri).removeprefix(PREFIX)):
                return
            listener(event)

        return super().subscribe(filtered)


def connection_of(ctx: Ctx) -> str:
    """The MCP session (connection) a request came on: its `Mcp-Session-Id`. The
    package makes a ServerSession per request; any of them reaches the connection."""
    headers = getattr(ctx.request, "headers", None)
    return str(headers.get("mcp-session-id") or id(ctx.session)) if headers is not None else str(id(ctx.session))


class OwnedNotifier(Notifier):
    def __init__(self, tasks: TaskGroup, owners: Owners) -> None:
        super().__init__(tasks)
        self.bus = OwnedBus(owners)
        self.connections: dict[str, ServerSession] = {}  # connection -> its latest request's session
        self.watchers: dict[str, set[str]] = {}  # URI -> connections subscribed to it

    def seen(self, ctx: Ctx) -> None:
        key = connection_of(ctx)
        self.connections.pop(key, None)
        self.connections[key] = ctx.session
        while len(self.connections) > MAX_CONNECTIONS:  # ended ones are not announced: the oldest go
            self.connections.pop(next(iter(self.connections)))

    def watch(self, target: str, ctx: Ctx) -> None:
        self.seen(ctx)
        self.watchers.setdefault(target, set()).add(connection_of(ctx))

    def unwatch(self, target: str, ctx: Ctx) -> None:
        self.watchers.get(target, set()).discard(connection_of(ctx))

    async def _send(self, target: str, new: bool) -> None:
        if new:
            await self.bus.publish(ResourcesListChanged())
            for key, session in list(self.connections.items()):
                await self._deliver(key, session.send_resource_list_changed())
        await self.bus.publish(ResourceUpdated(uri=target))
        for key in list(self.watchers.get(target, ())):
            if (session := self.connections.get(key)) is not None:
                await self._deliver(key, session.send_resource_updated(target))

    async def _deliver(self, key: str, sending: Any) -> None:
        try:
            await sending
        except Exception as e:  # a host that went away: nothing left to tell it
            log.info("resource notification not delivered: %s", e)
            self.connections.pop(key, None)


Subscription = SubscribeRequestParams | UnsubscribeRequestParams


def watching(
    notifier: OwnedNotifier, handler: Callable[[Ctx, Any], Awaitable[EmptyResult]], on: bool
) -> Callable[[Ctx, Any], Awaitable[EmptyResult]]:
    """resources/subscribe (`on`) or unsubscribe that also records which connection asked."""

    async def call(ctx: Ctx, params: Subscription) -> EmptyResult:
        result = await handler(ctx, params)
        (notifier.watch if on else notifier.unwatch)(str(params.uri), ctx)
        return result

    return call
