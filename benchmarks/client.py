"""Minimal raw JSON-RPC clients over a subprocess's stdio.

`RpcClient` speaks LSP's Content-Length framing, `LineClient` the newline-delimited
JSON of ACP and MCP. Both read stdout in large blocks and split frames themselves,
so the client is never the bottleneck of a throughput measurement; each frame is
timestamped when its block arrives.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode
Handler = Callable[[Any, float], None]
C = TypeVar("C", bound="_Client")


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")
        self.error = error


class _Client:
    """Requests, notifications and the server's requests; framing is the subclass's."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.spawned_at = time.perf_counter()
        self._ids = itertools.count(1)
        self._pending: dict[Any, asyncio.Future[tuple[Any, float]]] = {}
        self.handlers: dict[str, Handler] = {}
        self.server_requests: dict[str, Callable[[Any], Any]] = {}
        self._need = 0  # bytes the frame being read needs in all (0: unknown)
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def spawn(cls: type[C], argv: list[str], env: dict[str, str] | None = None) -> C:
        t0 = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
            limit=1 << 20,
        )
        client = cls(proc)
        client.spawned_at = t0
        return client

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _frame(self, body: bytes) -> bytes:
        raise NotImplementedError

    def _write(self, msg: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(self._frame(_encode(msg)))

    def send_request(self, method: str, params: Any = None) -> tuple[int, asyncio.Future[tuple[Any, float]]]:
        msg_id = next(self._ids)
        fut: asyncio.Future[tuple[Any, float]] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = fut
        self._write({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return msg_id, fut

    async def request(self, method: str, params: Any = None, timeout: float = 120) -> Any:
        _, fut = self.send_request(method, params)
        result, _ = await asyncio.wait_for(fut, timeout)
        return result

    async def timed_request(self, method: str, params: Any = None, timeout: float = 120) -> tuple[Any, float]:
        """The result and its arrival time (perf_counter)."""
        _, fut = self.send_request(method, params)
        return await asyncio.wait_for(fut, timeout)

    def notify(self, method: str, params: Any = None) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    async def _read(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        parts: list[bytes] = []
        size = 0
        while True:
            data = await stdout.read(1 << 18)
            if not data:
                break
            now = time.perf_counter()
            parts.append(data)
            size += len(data)
            if size < self._need:  # a large frame still arriving: join it once, when whole
                continue
            buf = b"".join(parts) if len(parts) > 1 else parts[0]
            pos = self._split(buf, now)
            rest = buf[pos:]
            parts, size = ([rest], len(rest)) if rest else ([], 0)
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError("server closed its output"))

    def _split(self, buf: bytes, now: float) -> int:
        """Dispatches the whole frames in `buf`; returns where the rest begins."""
        raise NotImplementedError

    def _dispatch(self, msg: dict[str, Any], now: float) -> None:
        method = msg.get("method")
        if method is None:
            fut = self._pending.pop(msg.get("id"), None)
            if fut is not None and not fut.done():
                if "error" in msg:
                    fut.set_exception(RpcError(msg["error"]))
                else:
                    fut.set_result((msg.get("result"), now))
            return
        if "id" in msg:  # a request from the server: answer it
            answer = self.server_requests.get(method)
            self._write({"jsonrpc": "2.0", "id": msg["id"], "result": answer(msg.get("params")) if answer else None})
            return
        handler = self.handlers.get(method)
        if handler is not None:
            handler(msg.get("params"), now)

    async def stop(self, timeout: float = 20) -> None:
        """Close stdin and wait; kill if it will not go."""
        try:
            if self.proc.returncode is None:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                await asyncio.wait_for(self.proc.wait(), timeout)
        except (Exception, asyncio.CancelledError):
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
        finally:
            self._reader.cancel()


class RpcClient(_Client):
    """LSP: Content-Length frames."""

    def _frame(self, body: bytes) -> bytes:
        return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)

    def _split(self, buf: bytes, now: float) -> int:
        pos, n = 0, len(buf)
        self._need = 0
        while True:
            end = buf.find(b"\r\n\r\n", pos)
            if end < 0:
                return pos
            length = -1
            for line in buf[pos:end].split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            start = end + 4
            if length < 0 or start + length > n:
                self._need = start + length - pos if length >= 0 else 0
                return pos
            self._dispatch(_decode(buf[start : start + length]), now)
            pos = start + length

    async def initialize(self, capabilities: dict[str, Any] | None = None) -> float:
        """initialize + initialized; returns the time of the initialize response. By
        default an agy client (`experimental.agy`), which the agy/* notifications go to."""
        caps = capabilities if capabilities is not None else {"experimental": {"agy": {}}}
        _, t = await self.timed_request("initialize", {"processId": None, "rootUri": None, "capabilities": caps})
        self.notify("initialized", {})
        return t

    async def close(self, timeout: float = 20) -> None:
        """shutdown + exit, then wait; kill if it will not go."""
        try:
            if self.proc.returncode is None:
                await asyncio.wait_for(self.request("shutdown"), timeout)
                self.notify("exit")
        except (Exception, asyncio.CancelledError):
            pass
        await self.stop(timeout)


class LineClient(_Client):
    """ACP and MCP: one JSON message per line."""

    def _frame(self, body: bytes) -> bytes:
        return body + b"\n"

    def _split(self, buf: bytes, now: float) -> int:
        pos = 0
        while True:
            end = buf.find(b"\n", pos)
            if end < 0:
                return pos
            line = buf[pos:end].strip()
            if line:
                self._dispatch(_decode(line), now)
            pos = end + 1

    async def close(self, timeout: float = 20) -> None:
        await self.stop(timeout)


async def stop_process(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.kill()
        await proc.wait()
