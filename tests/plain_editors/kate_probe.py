"""Stands in for `agy-lsp` on Kate's PATH: runs the real server (AGY_PROBE_REAL) and
appends every frame, both ways, to AGY_PROBE_LOG (JSON lines), so a test sees what
Kate sent and got. Frames pass through unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import IO

LOCK = threading.Lock()


def frames(src: IO[bytes]) -> Iterator[bytes]:
    while True:
        length = 0
        while True:
            line = src.readline()
            if not line:
                return
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("ascii").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        yield src.read(length)


def pump(src: IO[bytes], dst: IO[bytes], sender: str, log_path: str) -> None:
    for body in frames(src):
        with LOCK, open(log_path, "a") as log:
            log.write(json.dumps({"from": sender, "msg": json.loads(body)}) + "\n")
        dst.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        dst.flush()
    dst.close()


def main() -> int:
    log_path = os.environ["AGY_PROBE_LOG"]
    server = subprocess.Popen([os.environ["AGY_PROBE_REAL"], *sys.argv[1:]], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert server.stdin is not None and server.stdout is not None
    back = threading.Thread(target=pump, args=(server.stdout, sys.stdout.buffer, "server", log_path), daemon=True)
    back.start()
    pump(sys.stdin.buffer, server.stdin, "editor", log_path)
    code = server.wait()
    back.join(5)
    return code


if __name__ == "__main__":
    sys.exit(main())
