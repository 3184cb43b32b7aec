"""The least an editor does over stdio: Content-Length frames, its own requests, and a
null answer to the server's requests. No pygls on this side, so the frames the server
writes are read exactly as an editor reads them (anything else on stdout fails)."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from typing import IO, Any


class StdioClient:
    def __init__(self, command: list[str], env: dict[str, str], cwd: str) -> None:
        # the command line as an editor runs it: PATH lookup of command[0] in `env`
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
        self.notifications: list[dict[str, Any]] = []
        self.server_requests: list[dict[str, Any]] = []
        self.stderr = b""
        self.error: BaseException | None = None  # what broke the reader: bytes on stdout that are not a frame
        self._replies: queue.Queue[dict[str, Any]] = queue.Queue()
        self._next_id = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr += line

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        try:
            self._serve(out)
        except BaseException as e:  # kept for request() to report
            self.error = e

    def _serve(self, out: IO[bytes]) -> None:
        while (frame := read_frame(out)) is not None:
            if "method" in frame and "id" in frame:  # a request from the server: answer as a minimal editor
                self.server_requests.append(frame)
                self._write({"jsonrpc": "2.0", "id": frame["id"], "result": None})
            elif "method" in frame:
                self.notifications.append(frame)
            else:
                self._replies.put(frame)

    def _write(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        with self._lock:
            assert self.proc.stdin is not None
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def notify(self, method: str, params: Any = None) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any = None, timeout: float = 30) -> Any:
        self._next_id += 1
        self._write({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self._replies.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                assert self.error is None, f"the server's stdout broke the framing: {self.error!r}"
                stderr = self.stderr.decode(errors="replace")[-3000:]
                raise AssertionError(f"no reply to {method} in {timeout}s; stderr:\n{stderr}") from None
            if reply.get("id") == self._next_id:
                assert "error" not in reply, f"{method} failed: {reply['error']}"
                return reply.get("result")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def read_frame(stream: IO[bytes]) -> dict[str, Any] | None:
    """One message, or None at end of stream; a line that is not a header is a defect."""
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        name, sep, value = line.decode("ascii").partition(":")
        assert sep, f"not an LSP header on the server's stdout: {line!r}"
        if name.strip().lower() == "content-length":
            length = int(value)
    assert length is not None, "a frame without Content-Length"
    return json.loads(stream.read(length))
