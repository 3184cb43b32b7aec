"""The event store that makes HTTP streams resumable (the `mcp` package ships only the
interface): every SSE event the server sends is kept, a client that reconnects with
`Last-Event-ID` gets the events of that stream after it.

In memory and bounded: the newest MAX_EVENTS events at most (a stream older than
that cannot be resumed; its client gets the result by asking again). Event ids are
random (128 bits), so one client cannot name, and replay, another client's stream.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict

from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp_types import JSONRPCMessage

MAX_EVENTS = 10_000


class MemoryEventStore(EventStore):
    def __init__(self, max_events: int = MAX_EVENTS) -> None:
        self.max_events = max_events
        self.events: OrderedDict[EventId, tuple[StreamId, JSONRPCMessage | None]] = OrderedDict()

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        event_id = uuid.uuid4().hex
        self.events[event_id] = (stream_id, message)
        while len(self.events) > self.max_events:
            self.events.popitem(last=False)
        return event_id

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        if last_event_id not in self.events:
            return None
        stream_id = self.events[last_event_id][0]
        after = False
        for event_id, (stream, message) in list(self.events.items()):
            if event_id == last_event_id:
                after = True
            elif after and stream == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream_id
