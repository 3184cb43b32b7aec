"""The client side of tests/inproc: JSON-RPC over a server's stdio, framed as its
wire frames it (LSP: Content-Length headers; ACP and MCP: one message per line)."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from tests.core.fake_sdk import FakeSdk

TIMEOUT_SECS = 5.0
Message = dict[str, Any]
ServerRequestHandler = Callable[[Message], Awaitable[Any]]

# ---------------------------------------------------------------------------- framing


class Framing:
    def encode(self, message: Any) -> bytes:
        raise NotImplementedError

    async def read(self, reader: asyncio.StreamReader) -> bytes | None:
        raise NotImplementedError


class ContentLength(Framing):
    """LSP: `Content-Length: n\\r\\n\\r\\n` and n bytes."""

    def encode(self, message: Any) -> bytes:
        body = message if isinstance(message, bytes) else json.dumps(message).encode()
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    async def read(self, reader: asyncio.StreamReader) -> bytes | None:
        length = None
        try:
            while True:
                line = (await reader.readuntil(b"\n")).strip()
                if not line:
                    if length is not None:
                        return await reader.readexactly(length)
                    continue
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
        except asyncio.IncompleteReadError:
            return None


class Lines(Framing):
    """ACP and MCP: one JSON message per line."""

    def encode(self, message: Any) -> bytes:
        body = message if isinstance(message, bytes) else json.dumps(message).encode()
        return body + b"\n"

    async def read(self, reader: asyncio.StreamReader) -> bytes | None:
        line = await reader.readline()
        return line or None


# ---------------------------------------------------------------------------- the client


class Wire:
    """A JSON-RPC client on the server's stdio: requests by id, notifications kept in
    order, the server's own requests answered by `on_request` (default: null)."""

    def __init__(self, framing: Framing, sdk: FakeSdk) -> None:
        self.framing = framing
        self.sdk = sdk
        self.notifications: list[Message] = []
        self.server_requests: list[Message] = []
        self.stray: list[Message] = []  # answers to no request of ours (id null: malformed input)
        self.on_request: dict[str, ServerRequestHandler] = {}
        self._ids = itertools.count(1)
        self._pending: dict[Any, asyncio.Future[Message]] = {}
        self._arrived = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self.served: asyncio.Task[Any] | None = None  # the server's main coroutine

    # ------------------------------------------------------------------ writing

    async def send(self, message: Any) -> None:
        """One message (a dict, or raw bytes as the body), framed."""
        assert self._writer is not None
        self._writer.write(self.framing.encode(message))
        await self._writer.drain()

    async def request(self, method: str, params: Any = None) -> Message:
        """The whole answer (`result` or `error`) to one request."""
        msg_id = next(self._ids)
        future = self._pending[msg_id] = asyncio.get_running_loop().create_future()
        message: Message = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)
        return await self._answer_to(future)

    async def _answer_to(self, future: asyncio.Future[Message]) -> Message:
        """The answer, or the server's own failure if it stopped before answering."""
        assert self.served is not None
        with anyio.fail_after(TIMEOUT_SECS):
            await asyncio.wait({future, self.served}, return_when=asyncio.FIRST_COMPLETED)
        if not future.done():
            raise AssertionError(f"the server stopped without answering: {self.served!r}")
        return future.result()

    async def result(self, method: str, params: Any = None) -> Any:
        answer = await self.request(method, params)
        assert "error" not in answer, f"{method}: {answer['error']}"
        return answer["result"]

    async def error(self, method: str, params: Any = None) -> Message:
        answer = await self.request(method, params)
        assert "error" in answer, f"{method} answered {answer.get('result')!r}, expected an error"
        return answer["error"]

    async def notify(self, method: str, params: Any = None) -> None:
        message: Message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)

    async def raw_answers(self, body: bytes, count: int = 1) -> list[Message]:
        """Send one raw body; the next `count` answers with a null id (malformed input
        has no id the server can read)."""
        start = len(self.stray)
        await self.send(body)
        await self.wait_for(lambda: len(self.stray) >= start + count)
        return self.stray[start:]

    async def wait_for(self, predicate: Callable[[], Any], within: float = TIMEOUT_SECS) -> None:
        with anyio.fail_after(within):
            while not predicate():
                assert self.served is None or not self.served.done(), f"the server stopped: {self.served!r}"
                self._arrived.clear()
                arrived = asyncio.ensure_future(self._arrived.wait())
                try:
                    await asyncio.wait({arrived} if self.served is None else {arrived, self.served}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    arrived.cancel()

    def notified(self, method: str) -> list[Any]:
        return [n.get("params") for n in self.notifications if n["method"] == method]

    # ------------------------------------------------------------------ reading

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while (body := await self.framing.read(reader)) is not None:
                message: Any = json.loads(body)
                if not isinstance(message, dict):
                    raise AssertionError(f"the server sent a non-object: {body[:200]!r}")
                self._take(message)  # pyright: ignore[reportUnknownArgumentType]
                self._arrived.set()
        except Exception as e:  # a frame no client could read fails the requests waiting
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(e)
            raise

    def _take(self, message: Message) -> None:
        if "method" in message and "id" in message:
            self.server_requests.append(message)
            asyncio.get_running_loop().create_task(self._answer(message))
        elif "method" in message:
            self.notifications.append(message)
        elif message.get("id") in self._pending:
            future = self._pending.pop(message["id"])
            if not future.done():
                future.set_result(message)
        else:
            self.stray.append(message)

    async def _answer(self, request: Message) -> None:
        handler = self.on_request.get(request["method"])
        result = None if handler is None else await handler(request.get("params"))
        await self.send({"jsonrpc": "2.0", "id": request["id"], "result": result})
