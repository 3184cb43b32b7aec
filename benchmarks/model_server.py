"""The scripted model in its own process, shared by agy-lsp and the direct-SDK baseline.

`python -m benchmarks.model_server` reads one JSON line {name: script} on stdin,
prints one JSON line {name: base_url} and serves until stdin closes. Each further line
on stdin names a script; the answer is one line, how many requests it has received. A separate process keeps
the model's HTTP thread off the GIL of both the bench client and the direct SDK.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from benchmarks.common import PY, ROOT


def reply(chunks: int, delay_ms: int = 0) -> dict[str, Any]:
    """A reply of `chunks` deltas of six characters each."""
    return {"text": "".join(f"w{i:04d} " for i in range(chunks)), "chunks": chunks, "chunkDelayMs": delay_ms}


def script(chunks: int, delay_ms: int = 0, turns: int = 400) -> dict[str, Any]:
    return {"replies": [reply(chunks, delay_ms)] * turns, "fallback": "ok"}


class ModelProcess:
    def __init__(self, scripts: dict[str, dict[str, Any]]) -> None:
        self.proc = subprocess.Popen(
            [PY, "-m", "benchmarks.model_server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(scripts) + "\n")
        self.proc.stdin.flush()
        self.urls: dict[str, str] = json.loads(self.proc.stdout.readline())

    def requests(self, name: str) -> int:
        """How many model requests the script `name` has received so far."""
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.proc.stdin.write(name + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> ModelProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main() -> None:
    scripts: dict[str, Any] = json.loads(sys.stdin.readline())
    model = ScriptedModel()
    states = {name: model.register(parse_script(s), name=name) for name, s in scripts.items()}
    print(json.dumps({name: url for name, (url, _) in states.items()}), flush=True)
    for line in sys.stdin:
        print(len(states[line.strip()][1].requests), flush=True)
    model.close()


if __name__ == "__main__":
    main()
