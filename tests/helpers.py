"""Shared test helpers: the scripted backend, chunk collection, the process table."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from collections import defaultdict
from typing import Any

from pygls.exceptions import JsonRpcException


def scripted(*replies: dict[str, Any], fallback: str = "echo") -> dict[str, Any]:
    """A createAgent backend on the built-in scripted model."""
    return {"type": "scripted", "script": {"replies": list(replies), "fallback": fallback}}


def delegation(*after: dict[str, Any]) -> list[dict[str, Any]]:
    """Scripted replies for a turn that delegates to one subagent ("say hi"): the call,
    then the agent's and the subagent's replies, each matched to whose request it is
    (they ask at the same time), then the agent's last words, then `after`."""
    subagent = {"TypeName": "self", "Role": "Helper", "Prompt": "say hi"}
    args = {"Subagents": [subagent], "toolSummary": "Help", "toolAction": "Asking"}
    return [
        {"toolCalls": [{"name": "invoke_subagent", "args": args}]},
        {"text": "waiting", "match": "Created the following subagents"},
        {"text": "sub says hi", "match": "say hi"},
        {"text": "parent done"},
        *after,
    ]


def sleep_reply(mark: str) -> dict[str, Any]:
    """A scripted reply, to the prompt `sleep <mark>`: `run_command` of a long `sleep <mark>`
    (seconds, unique: see `running_sleeps`), waited for in the foreground."""
    args = {"CommandLine": f"sleep {mark}", "Cwd": "/tmp", "WaitMsBeforeAsync": 60000}
    return {"toolCalls": [{"name": "run_command", "args": args}], "match": re.escape(f"sleep {mark}")}


def running_sleeps(mark: str) -> set[int]:
    """The `sleep <mark>` processes alive (not zombies)."""
    out = subprocess.run(["pgrep", "-f", f"^sleep {re.escape(mark)}$"], capture_output=True, text=True)
    return {pid for pid in map(int, out.stdout.split()) if pid_alive(pid)}


def harness_pids() -> set[int]:
    out = subprocess.run(["pgrep", "-f", "google/antigravity/bin/localharness"], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


def harness_children(parent_pid: int) -> set[int]:
    """localharness processes whose parent is `parent_pid`."""
    pids = set()
    for pid in harness_pids():
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent_pid:
            pids.add(pid)
    return pids


async def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


class Recorder:
    """Collects notifications by method, with waiters."""

    def __init__(self) -> None:
        self.by_method: dict[str, list[Any]] = defaultdict(list)
        self._event = asyncio.Event()

    def add(self, method: str, params: Any) -> None:
        self.by_method[method].append(params)
        self._event.set()

    def chunks(self, turn_id: str | None = None) -> list[dict[str, Any]]:
        items = [to_dict(c) for c in self.by_method["agy/chatChunk"]]
        return [c for c in items if turn_id is None or c["turnId"] == turn_id]

    def states(self, agent_id: str) -> list[str]:
        return [to_dict(s)["state"] for s in self.by_method["agy/agentState"] if to_dict(s)["agentId"] == agent_id]

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        await wait_until(predicate, timeout)


def to_dict(value: Any) -> Any:
    if isinstance(value, dict):
        return value
    if hasattr(value, "_asdict"):
        return {k: to_dict(v) for k, v in value._asdict().items()}
    if hasattr(value, "__dict__"):
        return {k: to_dict(v) for k, v in vars(value).items()}
    if isinstance(value, list):
        return [to_dict(v) for v in value]
    return value


async def request(client: Any, method: str, params: Any) -> Any:
    return to_dict(await client.protocol.send_request_async(method, params))


async def request_error(client: Any, method: str, params: Any) -> JsonRpcException:
    try:
        result = await client.protocol.send_request_async(method, params)
    except JsonRpcException as e:
        return e
    raise AssertionError(f"{method} succeeded unexpectedly: {result!r}")
