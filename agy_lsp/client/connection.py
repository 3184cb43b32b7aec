"""A small JSON-RPC 2.0 connection over Content-Length framed byte streams.

pygls' client (`pygls.client.JsonRPCClient`) is built on asyncio subprocesses
and futures, so it cannot run under trio. This one is plain anyio: a reader
task parses frames from the server's stdout, requests wait on anyio Events,
and server->client requests run as tasks in the owner's task group. msgspec
encodes and decodes; Struct params go on the wire as they are (camelCase).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import msgspec
from anyio.abc import ByteReceiveStream, ByteSendStream, TaskGroup
from anyio.streams.buffered import BufferedByteReceiveStream

from agy_lsp.client.errors import AgyClientError, ConnectionClosed, error_from_wire
from agy_lsp.protocol.errors import ErrorCode

log = logging.getLogger(__name__)
T = TypeVar("T")

RequestHandler = Callable[[Any], Awaitable[Any]]
NotificationHandler = Callable[[Any], None]

MAX_FRAME_BYTES = 256 * 1024 * 1024
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


class _Pending:
    __slots__ = ("done", "error", "result")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.result: Any = None
        self.error: AgyClientError | None = None


class Connection:
    """One JSON-RPC peer. `run()` must be running (in a task group) for requests to complete."""

    def __init__(self, send: ByteSendStream, receive: ByteReceiveStream, tasks: TaskGroup) -> None:
        self._send_stream = send
        self._receive = BufferedByteReceiveStream(receive)
        self._tasks = tasks
        self._write_lock = anyio.Lock()
        self._next_id = 0
        self._pending: dict[int | str, _Pending] = {}
        self._incoming: dict[int | str, anyio.CancelScope] = {}
        self.request_handlers: dict[str, RequestHandler] = {}
        self.notification_handlers: dict[str, NotificationHandler] = {}
        self.closed: ConnectionClosed | None = None
        self.on_close: Callable[[ConnectionClosed], None] | None = None

    # ------------------------------------------------------------------ outgoing

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    async def _write(self, message: dict[str, Any]) -> None:
        if self.closed is not None:
            raise self.closed
        body = _encode(message)
        frame = b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        try:
            async with self._write_lock:
                await self._send_stream.send(frame)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as e:
            raise ConnectionClosed(f"cannot write to the server: {type(e).__name__}") from e

    async def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self._write(message)

    async def request(
        self,
        method: str,
        params: Any = None,
        result_type: type[T] | None = None,
        *,
        msg_id: int | None = None,
        on_sent: Callable[[int], None] | None = None,
    ) -> Any:
        """Sends a request and waits for its answer. A JSON-RPC error is raised as
        the matching `AgyClientError` subclass. If the caller is cancelled, the
        server gets `$/cancelRequest` for this id."""
        if self.closed is not None:
            raise self.closed
        rid = msg_id if msg_id is not None else self.next_id()
        pending = _Pending()
        self._pending[rid] = pending
        try:
            message: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
            if params is not None:
                message["params"] = params
            await self._write(message)
            if on_sent is not None:
                on_sent(rid)
            await pending.done.wait()
        except anyio.get_cancelled_exc_class():
            if not pending.done.is_set() and self.closed is None:
                with anyio.CancelScope(shield=True), anyio.move_on_after(2):
                    try:
                        await self.notify("$/cancelRequest", {"id": rid})
                    except ConnectionClosed:
                        pass
            raise
        finally:
            self._pending.pop(rid, None)
        if pending.error is not None:
            raise pending.error
        if result_type is None:
            return pending.result
        try:
            return msgspec.convert(pending.result, result_type)
        except msgspec.ValidationError as e:
            raise AgyClientError(f"unexpected {method} result: {e}", {"result": pending.result}) from e

    async def cancel_request(self, rid: int) -> None:
        await self.notify("$/cancelRequest", {"id": rid})

    # ------------------------------------------------------------------ incoming

    async def run(self) -> None:
        """Reads frames until EOF, then fails every pending request."""
        reason = "the server closed its output"
        try:
            while True:
                body = await self._read_frame()
                if body is None:
                    break
                self._dispatch(body)
        except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass
        except anyio.DelimiterNotFound:
            reason = "the server sent a malformed frame header"
        finally:
            self._close(ConnectionClosed(reason))

    def _close(self, exc: ConnectionClosed) -> None:
        if self.closed is not None:
            return
        self.closed = exc
        for pending in list(self._pending.values()):
            pending.error = exc
            pending.done.set()
        for scope in list(self._incoming.values()):
            scope.cancel()
        if self.on_close is not None:
            self.on_close(exc)

    async def _read_frame(self) -> bytes | None:
        length: int | None = None
        while True:
            try:
                line = await self._receive.receive_until(b"\r\n", 8192)
            except anyio.IncompleteRead:
                return None
            if not line:
                if length is None:
                    continue
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length > MAX_FRAME_BYTES:
            raise anyio.DelimiterNotFound(MAX_FRAME_BYTES)
        return await self._receive.receive_exactly(length)

    def _dispatch(self, body: bytes) -> None:
        try:
            message: Any = _decode(body)
        except msgspec.DecodeError:
            log.warning("undecodable message from the server: %r", body[:200])
            return
        if not isinstance(message, dict):
            return
        msg: dict[str, Any] = message  # pyright: ignore[reportUnknownVariableType]
        method = msg.get("method")
        if isinstance(method, str):
            if "id" in msg and msg["id"] is not None:
                self._tasks.start_soon(self._answer, msg["id"], method, msg.get("params"))
            else:
                self._on_notification(method, msg.get("params"))
            return
        rid = msg.get("id")
        pending = self._pending.get(rid) if isinstance(rid, (int, str)) else None
        if pending is None:
            return
        if "error" in msg:
            pending.error = error_from_wire(msg["error"])
        else:
            pending.result = msg.get("result")
        pending.done.set()

    def _on_notification(self, method: str, params: Any) -> None:
        if method == "$/cancelRequest":
            rid = params.get("id") if isinstance(params, dict) else None  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            scope = self._incoming.get(rid) if isinstance(rid, (int, str)) else None
            if scope is not None:
                scope.cancel()
            return
        handler = self.notification_handlers.get(method)
        if handler is None:
            return
        try:
            handler(params)
        except Exception:
            log.exception("notification handler for %s failed", method)

    async def _answer(self, rid: int | str, method: str, params: Any) -> None:
        handler = self.request_handlers.get(method)
        response: dict[str, Any] = {"jsonrpc": "2.0", "id": rid}
        if handler is None:
            response["error"] = {"code": int(ErrorCode.METHOD_NOT_FOUND), "message": f"method not found: {method}"}
        else:
            with anyio.CancelScope() as scope:
                self._incoming[rid] = scope
                try:
                    result = handler(params)
                    response["result"] = await result if inspect.isawaitable(result) else result
                except AgyClientError as e:
                    response["error"] = {"code": e.code or int(ErrorCode.INTERNAL_ERROR), "message": e.message, "data": e.data}
                except Exception as e:
                    log.exception("handler for %s failed", method)
                    response["error"] = {
                        "code": int(ErrorCode.INTERNAL_ERROR),
                        "message": f"client handler failed: {type(e).__name__}: {e}",
                    }
                finally:
                    self._incoming.pop(rid, None)
            if scope.cancelled_caught:
                response.pop("result", None)
                response["error"] = {"code": int(ErrorCode.REQUEST_CANCELLED), "message": "cancelled"}
        if self.closed is None:
            try:
                await self._write(response)
            except ConnectionClosed:
                pass
