"""A turn: typed chunks as they stream, then the result.

    turn = agent.chat("hello")
    async for chunk in turn:          # ChatChunk, in seq order
        ...
    result = await turn               # ChatResult (or `await turn.text()`)

Chunks are kept, so a turn can be iterated after it ended, by several readers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from typing import Any, Literal, Protocol

import anyio
from anyio.abc import TaskGroup

from agy_lsp.client.connection import Connection
from agy_lsp.client.errors import AgentFailed, AgyClientError, ConnectionClosed, RequestCancelled
from agy_lsp.protocol.types import ChatChunk, ChatResult, StatusResult


class _Client(Protocol):
    connection: Connection
    tasks: TaskGroup


class TurnOwner(Protocol):
    """What a Turn needs of its agent (agy_lsp/client/agent.py)."""

    agent_id: str

    @property
    def client(self) -> _Client: ...
    def turn_finished(self, turn: Turn) -> None: ...
    async def wait_for_idle(self) -> None: ...
    async def status(self) -> StatusResult: ...
    async def cancel(self) -> bool: ...


class Turn:
    def __init__(self, agent: TurnOwner, mode: Literal["chat", "send"]) -> None:
        self.agent = agent
        self.mode = mode
        self.turn_id: str | None = None
        self.request_id: int | None = None
        self.chunks: list[ChatChunk] = []
        self.cancelled = False
        self._cancel_requested = False
        self._changed = anyio.Event()
        self._done = anyio.Event()
        self._result: ChatResult | None = None
        self._error: AgyClientError | None = None
        self.saw_busy = False

    def __repr__(self) -> str:
        state = "done" if self._done.is_set() else "running"
        return f"<Turn {self.turn_id or '?'} of agent {self.agent.agent_id} ({self.mode}, {state})>"

    # ------------------------------------------------------------------ fed by the client

    def feed(self, chunk: ChatChunk) -> None:
        if self._done.is_set():
            return
        self.chunks.append(chunk)
        self._wake()

    def finish(self, result: ChatResult | None = None, error: AgyClientError | None = None) -> None:
        if self._done.is_set():
            return
        if result is not None and self.turn_id is None:
            self.turn_id = result.turn_id
        self._result, self._error = result, error
        if isinstance(error, RequestCancelled):
            self.cancelled = True
        self._done.set()
        self._wake()
        self.agent.turn_finished(self)

    def finish_send(self, state: str) -> None:
        """A send turn ends when the agent leaves `busy`."""
        if state == "idle":
            self.finish(ChatResult(turn_id=self.turn_id or "", text=self.partial_text(), stop_reason="end_turn", usage=None))
        else:
            self.finish(error=AgentFailed(f"the agent went {state} during the turn", {"agentId": self.agent.agent_id}))

    def _wake(self) -> None:
        changed, self._changed = self._changed, anyio.Event()
        changed.set()

    # ------------------------------------------------------------------ public

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def partial_text(self) -> str:
        """The text streamed so far."""
        return "".join(c.text or "" for c in self.chunks if c.kind == "text")

    async def __aiter__(self) -> AsyncIterator[ChatChunk]:
        """Every chunk of the turn in order. Ends when the turn ends; raises the
        turn's error, except a cancellation you asked for (the loop just ends)."""
        i = 0
        while True:
            if i < len(self.chunks):
                i += 1
                yield self.chunks[i - 1]
                continue
            if self._done.is_set():
                break
            await self._changed.wait()
        if self._error is not None and not self.cancelled:
            raise self._error

    async def wait(self) -> None:
        """Waits for the end of the turn without raising."""
        await self._done.wait()

    async def result(self) -> ChatResult:
        """The final result. Raises the turn's error (`RequestCancelled` after `cancel()`)."""
        if self.mode == "send" and (not self._done.is_set() or (self._result is not None and self._result.usage is None)):
            await self.agent.wait_for_idle()
            status = await self.agent.status()
            if not self._done.is_set():
                text = self.partial_text() or status.last_response
                self.finish(ChatResult(turn_id=self.turn_id or "", text=text, stop_reason="end_turn", usage=None))
            if self._result is not None and self._result.usage is None:
                self._result.usage = status.last_turn_usage
        await self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    async def text(self) -> str:
        return (await self.result()).text

    def __await__(self) -> Generator[Any, None, ChatResult]:
        return self.result().__await__()

    async def cancel(self) -> bool:
        """Cancels this turn: `$/cancelRequest` on the chat request (agy/cancel for a
        send). False if it had already ended."""
        if self._done.is_set():
            return False
        if self.mode == "send":
            return await self.agent.cancel()
        self._cancel_requested = True
        if self.request_id is not None:
            try:
                await self.agent.client.connection.cancel_request(self.request_id)
            except ConnectionClosed:
                return False
        return True

    # ------------------------------------------------------------------ the request (chat)

    async def run_chat(self, params: Any) -> None:
        conn = self.agent.client.connection
        try:
            raw = await conn.request("agy/chat", params, ChatResult, on_sent=self._sent_and_maybe_cancel(conn))
        except AgyClientError as e:
            self.finish(error=e)
        except BaseException:
            self.finish(error=ConnectionClosed("the client closed before the turn ended"))
            raise
        else:
            self.finish(result=raw)

    def _sent_and_maybe_cancel(self, conn: Any) -> Any:
        def sent(rid: int) -> None:
            self.request_id = rid
            if self._cancel_requested:  # cancel() ran before the request was on the wire
                self.agent.client.tasks.start_soon(conn.cancel_request, rid)

        return sent
