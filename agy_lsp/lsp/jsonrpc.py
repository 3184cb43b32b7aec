"""The pygls protocol, tuned: msgspec encoding and writes coalesced per loop tick.

pygls encodes every outgoing message with `json.dumps` and writes + flushes
stdout once per message. A streamed turn sends thousands of `agy/chatChunk`
notifications, so we encode with msgspec (Structs natively, lsprotocol attrs
objects through pygls' own cattrs converter) and gather all frames produced in
one event-loop tick into a single write.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any, BinaryIO

import msgspec
from cattrs import Converter
from lsprotocol.types import EXIT
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    default_converter,
)
from pygls.protocol.language_server import lsp_method

from agy_lsp.lsp.seam import SeamProtocol

log = logging.getLogger(__name__)


def agy_converter() -> Converter:
    """pygls' converter plus msgspec Structs in both directions (both hooks are
    needed, or Struct payloads in notifications are silently dropped)."""
    converter = default_converter()
    # pygls turns untyped params and results into namedtuples by a JSON round trip
    # (slow, and lossy for keys that are not identifiers). We keep plain dicts and
    # decode them into Structs ourselves.
    for message_cls in (JsonRPCRequestMessage, JsonRPCNotification, JsonRPCResponseMessage):
        converter.register_structure_hook(message_cls, lambda obj, cls: cls(**obj))  # pyright: ignore[reportUnknownLambdaType]

    def is_struct(cls: Any) -> bool:
        return isinstance(cls, type) and issubclass(cls, msgspec.Struct)

    converter.register_structure_hook_func(is_struct, lambda value, cls: msgspec.convert(value, cls))  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType]
    converter.register_unstructure_hook_func(is_struct, msgspec.to_builtins)
    return converter


class FrameWriter:
    """Writes Content-Length frames, those of one loop tick in one write (a chunk
    that opens a tick at once)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._fd = stream.fileno()
        self._stream = stream
        self._frames: list[bytes] = []
        self._scheduled = False
        self.broken = False

    def write_body(self, body: bytes, urgent: bool = False) -> None:
        """Frames of one loop tick are written together at its end; an `urgent` one
        (a chunk) that opens a tick goes out at once, the rest of the tick after it."""
        self._frames.append(b"Content-Length: %d\r\n\r\n" % len(body))
        self._frames.append(body)
        if not self._scheduled:
            self._scheduled = True
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:
                self.flush()
                return
            if urgent and len(self._frames) == 2:
                self._write()

    # pygls' writer interface (used for anything that bypasses send_message)
    def write(self, data: bytes) -> None:
        self._frames.append(data)
        self.flush()

    def flush(self) -> None:
        self._scheduled = False
        self._write()

    def _write(self) -> None:
        if not self._frames or self.broken:
            self._frames.clear()
            return
        data = b"".join(self._frames)
        self._frames.clear()
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except BlockingIOError:
            self._stream.write(view)  # a non-blocking pipe: fall back to the buffered stream
            self._stream.flush()
        except (BrokenPipeError, ConnectionResetError, OSError) as e:
            self.broken = True
            log.warning("client output closed: %s", e)

    def close(self) -> None:
        self.flush()


class AgyProtocol(SeamProtocol):
    """LanguageServerProtocol with a msgspec encoder and a frame writer."""

    frame_writer: FrameWriter | None = None

    def set_frame_writer(self, writer: FrameWriter) -> None:
        self.frame_writer = writer
        self.set_writer(writer, include_headers=True)

    def _enc_hook(self, obj: Any) -> Any:
        if hasattr(obj, "__attrs_attrs__"):
            return self.converter.unstructure(obj)
        if hasattr(obj, "value"):  # enums
            return obj.value
        return obj.__dict__

    def send_message(self, data: Any) -> None:
        if not data:
            return
        if self.frame_writer is None:
            super().send_message(data)
            return
        try:
            if type(data) is JsonRPCResponseMessage and isinstance(data.result, msgspec.Struct):
                # our handlers' results (a 10k-step history): straight from the Struct,
                # no intermediate dicts
                body = _encode_response(_Response(id=data.id, result=data.result))
            else:
                if hasattr(data, "__attrs_attrs__"):
                    data = self.converter.unstructure(data)
                body = msgspec.json.encode(data, enc_hook=self._enc_hook)
        except Exception as error:  # never lose the message silently
            log.exception("could not encode an outgoing message")
            self.report_server_error(error)
            return
        self.frame_writer.write_body(body)

    def notify_struct(self, method: str, params: msgspec.Struct, urgent: bool = False) -> None:
        """The hot path for agy/chatChunk: no cattrs, no intermediate dicts."""
        if self.frame_writer is None:
            self.notify(method, msgspec.to_builtins(params))
            return
        self.frame_writer.write_body(_encode_notification(_Notification(method=method, params=params)), urgent)

    def send_error(self, msg_id: Any, code: int, message: str, data: Any = None) -> None:
        error: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            error["data"] = data
        body = msgspec.json.encode({"jsonrpc": "2.0", "id": msg_id, "error": error})
        if self.frame_writer is not None:
            self.frame_writer.write_body(body)

    # `exit` must not sys.exit() from inside a callback: the server's main loop
    # still has agents to close. We flag it and let serve() finish.
    @lsp_method(EXIT)
    def lsp_exit(self, *args: Any) -> Any:  # type: ignore[override]
        server: Any = self._server
        server.request_exit(0 if self.shut_down else 1)
        yield from ()


class _Notification(msgspec.Struct, omit_defaults=False):
    method: str
    params: msgspec.Struct
    jsonrpc: str = "2.0"


class _Response(msgspec.Struct, omit_defaults=False):
    id: Any
    result: msgspec.Struct
    jsonrpc: str = "2.0"


_encode_notification = _encode_response = msgspec.json.Encoder().encode


def stdout_binary() -> BinaryIO:
    """The real stdout for protocol frames. Anything else that prints goes to stderr."""
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print() must never corrupt the protocol stream
    return out
