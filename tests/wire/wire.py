"""A real `python -m agy_lsp [--acp|--mcp]` driven with raw bytes, synchronously
(hypothesis examples are plain functions): for input no well-behaved client sends."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from typing import Any

ANSWER_CODES = {-32700, -32600, -32601, -32602}  # what hostile input may get; never -32603


class Wire:
    def __init__(self, mode: str) -> None:
        self.mode = mode  # "lsp", "acp" or "mcp"
        self.state_dir = tempfile.mkdtemp(prefix=f"agy-wire-{mode}-")
        self.stderr = open(os.path.join(self.state_dir, "stderr.log"), "w+b")
        env = {
            **os.environ,
            "AGY_STATE_DIR": self.state_dir,
            "AGY_PACING_MS": "0",
            "AGY_BACKEND": "",
            "GEMINI_API_KEY": "",
            "GOOGLE_API_KEY": "",
        }
        args = [] if mode == "lsp" else [f"--{mode}"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agy_lsp", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env=env
        )
        assert self.proc.stdout is not None
        self._fd = self.proc.stdout.fileno()
        self._buf = bytearray()
        self._next = 0

    # -- writing

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def frame(self, body: bytes) -> bytes:
        """One message as this wire frames it."""
        if self.mode == "lsp":
            return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        return body + b"\n"

    def send(self, message: Any) -> None:
        self.send_raw(self.frame(json.dumps(message).encode()))

    # -- reading

    def read(self, timeout: float = 10) -> dict[str, Any] | None:
        """The next message, or None if none came within `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            message = self._parse()
            if message is not None:
                return message
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._fd], [], [], left)
            if ready:
                chunk = os.read(self._fd, 1 << 20)
                if not chunk:
                    raise EOFError(f"the server closed stdout (exit {self.proc.poll()}); stderr:\n{self.stderr_text()[-3000:]}")
                self._buf += chunk

    def _parse(self) -> dict[str, Any] | None:
        buf = self._buf
        if self.mode == "lsp":
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return None
            length = int(bytes(buf[:end]).split(b"Content-Length:")[1].split(b"\r\n")[0])
            if len(buf) < end + 4 + length:
                return None
            body = bytes(buf[end + 4 : end + 4 + length])
            del buf[: end + 4 + length]
        else:
            end = buf.find(b"\n")
            if end < 0:
                return None
            body = bytes(buf[:end])
            del buf[: end + 1]
        return json.loads(body)

    def answer(self, timeout: float = 10) -> dict[str, Any] | None:
        """The next answer (requests and notifications from the server skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.read(max(0.0, deadline - time.monotonic()))
            if message is None or "method" not in message:
                return message

    def answers_until(self, msg_id: Any, timeout: float = 30) -> list[dict[str, Any]]:
        """Every answer (not requests or notifications) up to and including the one to `msg_id`."""
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            message = self.read(max(0.0, deadline - time.monotonic()))
            if message is None:
                raise TimeoutError(f"no answer to {msg_id!r}; so far {got}; stderr:\n{self.stderr_text()[-3000:]}")
            if "method" in message:
                continue
            got.append(message)
            if message.get("id") == msg_id:
                return got

    def request(self, method: str, params: Any = None, timeout: float = 30) -> dict[str, Any]:
        self._next += 1
        msg_id = f"wire-{self._next}"
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.answers_until(msg_id, timeout)[-1]

    def ping(self) -> list[dict[str, Any]]:
        """A cheap request this wire always answers with a result; the answers that
        came before it (to whatever was sent before) and its own, last."""
        self._next += 1
        msg_id = f"ping-{self._next}"
        method = {"lsp": "agy/serverInfo", "acp": "initialize", "mcp": "ping"}[self.mode]
        params: dict[str, Any] = {"acp": {"protocolVersion": 1}, "lsp": {}, "mcp": {}}[self.mode]
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return self.answers_until(msg_id)

    def handshake(self) -> None:
        if self.mode == "lsp":
            assert "result" in self.request("initialize", {"capabilities": {}})
            self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        elif self.mode == "acp":
            assert "result" in self.request("initialize", {"protocolVersion": 1, "clientCapabilities": {}})
        else:
            init = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "wire", "version": "0"}}
            assert "result" in self.request("initialize", init)
            self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_kb(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stderr_text(self) -> str:
        self.stderr.flush()
        with open(self.stderr.name, "rb") as f:
            return f.read().decode(errors="replace")

    def close(self) -> int:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise
        finally:
            self.stderr.close()
