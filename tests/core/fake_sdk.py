"""An in-memory `Sdk` for the core's tests: no harness, no model, no network.

`FakeSdk.start` gives a `FakeLive` (one fake harness). A test scripts each agent's
turns with `FakeSdk.script(agent_id, turn, ...)`; a turn is a list of acts:

- `Say("a", "b")`: streams one text step, growing by each delta (`thought=` too);
- `Tool(name, args, result=..., error=...)`: one tool call, through the core's
  `HarnessCallbacks` the way the SDK makes it: `before_tool` (the pre-tool hook),
  then the StartSpec's rules and presets (a small copy of the SDK's policy
  engine: specific before wildcard, deny before ask before allow), `confirm_tool`
  for ask_user, `run_editor_tool` for an editor tool, `after_tool`. A refused call
  streams the harness's `StepEvent(kind="denied")`;
- `Fail(error)`: the turn fails with that AgyError (`quota()`, `backend_error()`);
  after it the SDK agent is unusable (a `send` on it fails), as after a real one;
- `Hang(settle_secs)`: waits until cancelled (and then takes `settle_secs` to stop);
- `Gate(event)`: waits for the test to set the event;
- `Die()`: the harness dies: `harness_alive()` is False, the stream raises AGENT_FAILED;
- `Stop(reason)`, `Output(value)`: the turn's stop reason, its structured output.

A turn runs in its own task (like the SDK's receive loop and hook handlers), and
streams its steps to `events()` through a queue; `cancel` stops that task. The
conversations (steps, tool-call labels) live in the FakeSdk, so a restarted or
resumed harness on the same conversation id sees its history.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
import msgspec
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.types import Capabilities, HookResult, Prompt, Step, ToolCall, Usage
from agy_lsp.sdk.port import (
    EditorToolError,
    HarnessCallbacks,
    Snapshot,
    StartSpec,
    StepEvent,
    ToolEnd,
    ToolSighting,
    TurnCancelledError,
)

BUILTIN_TOOLS = [
    "create_file",
    "edit_file",
    "finish",
    "generate_image",
    "invoke_subagent",
    "read_url_content",
    "run_command",
    "run_workflow",
    "schedule",
    "search_web",
    "view_file",
]
READ_ONLY = ["view_file", "read_url_content", "schedule", "finish", "list_directory", "search_directory", "find_file"]
DENIED = "denied by pre-tool hook"  # the harness's error text on a refused call's step (agy_lsp/sdk/live.py)


# ---------------------------------------------------------------------------- acts


@dataclass
class Say:
    deltas: tuple[str, ...]
    thought: str = ""

    def __init__(self, *deltas: str, thought: str = "") -> None:
        self.deltas, self.thought = deltas, thought


@dataclass
class Sub:
    """A subagent an invoke_subagent call starts: its steps stream (marked with its
    trajectory) before the call's post-tool hook arrives, as the harness's can.
    `delegates`: the subagents it starts in turn, through its own invoke_subagent
    call (streamed only: the fake runs no hooks for a subagent's calls)."""

    trajectory: str
    deltas: tuple[str, ...] = ("sub says hi",)
    delegates: tuple[Sub, ...] = ()


ROOT_TRAJECTORY = "root-trajectory"  # the agent's own (its steps stream unmarked)


@dataclass
class Tool:
    name: str
    args: dict[str, Any] = field(default_factory=dict[str, Any])
    result: Any = "ok"
    error: str | None = None  # a built-in tool that fails
    call_id: str = ""  # the model's; "" = the fake numbers it
    starts: tuple[Sub, ...] = ()  # invoke_subagent's subagents


@dataclass
class Fail:
    make: Callable[[], AgyError]


@dataclass
class Hang:
    settle_secs: float = 0.0  # how long the harness takes to stop once cancelled


@dataclass
class Gate:
    event: anyio.Event


@dataclass
class Die:
    pass


@dataclass
class Stop:
    reason: str


@dataclass
class Output:
    value: Any


Act = Say | Tool | Fail | Hang | Gate | Die | Stop | Output


def quota(retry_after_ms: int | None = None) -> Fail:
    """HTTP 429, with the Retry-After the backend sent (None: it sent none)."""
    return Fail(
        lambda: AgyError(
            ErrorCode.QUOTA_EXCEEDED, "the model's quota is exhausted", {"httpStatus": 429, "retryAfterMs": retry_after_ms or 0}
        )
    )


def backend_error(status: int = 500) -> Fail:
    return Fail(lambda: AgyError(ErrorCode.BACKEND_ERROR, f"the model backend failed (HTTP {status})", {"httpStatus": status}))


def harness_died() -> AgyError:
    return AgyError(ErrorCode.AGENT_FAILED, "the agent's harness process died")


# ---------------------------------------------------------------------------- policies


@dataclass
class _Policy:
    tool: str
    decision: str  # allow / deny / ask_user
    label: str
    reason: str = ""
    when: tuple[tuple[str, str], ...] = ()
    tool_glob: str | None = None


def _policies(spec: StartSpec) -> list[_Policy]:
    """The SDK's policy list for a StartSpec (agy_lsp/sdk/policies.py), in its order."""
    out = [_Policy(r.tool, r.decision, f"rule:{r.tool}", r.reason, r.when, r.tool_glob) for r in spec.rules]
    for preset in spec.presets:
        if preset.name == "allowAll":
            out.append(_Policy("*", "allow", "allow_all"))
        elif preset.name == "denyAll":
            out.append(_Policy("*", "deny", "deny_all"))
        elif preset.name == "confirmRunCommand":
            out += [_Policy("run_command", "ask_user", "confirm_run_command"), _Policy("*", "allow", "confirm_run_command")]
        elif preset.name == "safeDefaults":
            out += [_Policy(t, "allow", t) for t in READ_ONLY] + [_Policy("*", "ask_user", "*")]
        # workspaceOnly is enforced by the harness's platform layer, not in-process
    order = {"deny": 0, "ask_user": 1, "allow": 2}
    return sorted(out, key=lambda p: (2 if p.tool == "*" else 1 if p.tool.endswith("/*") else 0, order[p.decision]))


def _matches(p: _Policy, name: str, args: dict[str, Any]) -> bool:
    server, _, bare = name.rpartition("/")
    if p.tool != "*":
        if server:
            if not (p.tool == f"{server}/*" or p.tool == name):
                return False
        elif p.tool != name:
            return False
    if p.tool_glob is not None and not fnmatch.fnmatchcase(bare, p.tool_glob):
        return False
    for arg, pattern in p.when:
        value = args.get(arg)
        if value is None or not re.search(pattern, value if isinstance(value, str) else str(value)):
            return False
    return True


# ---------------------------------------------------------------------------- the conversation


@dataclass
class FakeConversation:
    id: str
    steps: list[Step] = field(default_factory=list[Step])
    labels: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # label key -> (id, the model's call id)
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def step_id(self) -> str:
        return f"{self.id[:8]}:{next(self.counter)}"

    def add(self, **fields: Any) -> Step:
        step = Step(index=len(self.steps), **fields)
        self.steps.append(step)
        return step

    def replace(self, step_id: str, **fields: Any) -> None:
        for i, s in enumerate(self.steps):
            if s.id == step_id:
                self.steps[i] = msgspec.structs.replace(s, **fields)


_END = object()
_pids = itertools.count(40_000)


@dataclass
class FakeSdk:
    """The `Sdk` of agy_lsp/sdk/port.py, in memory. `tg` runs the fake harnesses' turns."""

    tg: anyio.abc.TaskGroup
    conversations: dict[str, FakeConversation] = field(default_factory=dict[str, FakeConversation])
    starts: list[tuple[str, StartSpec]] = field(default_factory=list[tuple[str, StartSpec]])  # (agent id, spec)
    lives: list[FakeLive] = field(default_factory=list["FakeLive"])
    sends: list[tuple[str, float]] = field(default_factory=list[tuple[str, float]])  # (agent id, monotonic time)
    callback_errors: list[BaseException] = field(default_factory=list[BaseException])
    _scripts: dict[str, deque[list[Act]]] = field(default_factory=lambda: defaultdict(deque))
    _start_errors: dict[str, deque[AgyError]] = field(default_factory=lambda: defaultdict(deque))
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    # ------------------------------------------------------------------ scripting

    def script(self, agent_id: str, *turns: list[Act] | Act) -> None:
        """The agent's next turns, in order; after them each turn echoes the prompt.
        `agent_id` "" scripts the next turns of any agent that has none of its own (for
        a front-end test, where the core picks the agent id)."""
        for turn in turns:
            self._scripts[agent_id].append(list(turn) if isinstance(turn, list) else [turn])

    def fail_start(self, agent_id: str, error: AgyError, times: int = 1) -> None:
        """The agent's next `times` harness starts fail with `error` ("" = any agent)."""
        self._start_errors[agent_id].extend([error] * times)

    def live(self, agent_id: str) -> FakeLive:
        """The agent's newest harness."""
        return next(live for live in reversed(self.lives) if live.agent_id == agent_id)

    def lives_of(self, agent_id: str) -> list[FakeLive]:
        return [live for live in self.lives if live.agent_id == agent_id]

    def running(self) -> list[FakeLive]:
        return [live for live in self.lives if live.harness_alive()]

    def sends_of(self, agent_id: str) -> list[float]:
        return [t for a, t in self.sends if a == agent_id]

    def next_turn(self, agent_id: str, prompt: Prompt) -> list[Act]:
        for key in (agent_id, ""):
            queue = self._scripts.get(key)
            if queue:
                return queue.popleft()
        return [Say(f"echo: {_text(prompt)}")]

    # ------------------------------------------------------------------ Sdk

    def version(self) -> str | None:
        return "0.0-fake"

    def builtin_tools(self, spec: Any) -> list[str]:
        """The built-in tools an agent with this StartSpec (or these Capabilities) has."""
        capabilities: Capabilities | None = spec if spec is None or isinstance(spec, Capabilities) else spec.capabilities
        tools = list(BUILTIN_TOOLS)
        if capabilities is not None and capabilities.enabled_tools is not None:
            tools = [t for t in tools if t in capabilities.enabled_tools]
        if capabilities is not None and capabilities.disabled_tools:
            tools = [t for t in tools if t not in capabilities.disabled_tools]
        return tools

    def check(self, spec: StartSpec, callbacks: HarnessCallbacks) -> None:
        """Whatever the core resolved, the fake accepts."""

    async def start(self, spec: StartSpec, callbacks: HarnessCallbacks) -> FakeLive:
        agent_id = str(getattr(callbacks, "agent_id", ""))  # the core's CoreCallbacks knows it; scripts are keyed by it
        self.starts.append((agent_id, spec))
        await anyio.lowlevel.checkpoint()
        for key in (agent_id, ""):
            if self._start_errors.get(key):
                raise self._start_errors[key].popleft()
        conversation = None
        if spec.conversation_id is not None:
            conversation = self.conversations.setdefault(spec.conversation_id, FakeConversation(spec.conversation_id))
        live = FakeLive(self, agent_id, spec, callbacks, conversation)
        self.lives.append(live)
        return live

    def new_conversation(self, state_dir: str) -> FakeConversation:
        conversation_id = f"{next(self._ids):04d}" + "c" * 32
        conversation = self.conversations[conversation_id] = FakeConversation(conversation_id)
        path = Path(state_dir) / "conversations" / f"{conversation_id}.db"  # SessionStore.has_conversation looks here
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
        return conversation


# ---------------------------------------------------------------------------- one harness


class FakeLive:
    """The `LiveAgent` of agy_lsp/sdk/port.py."""

    def __init__(self, sdk: FakeSdk, agent_id: str, spec: StartSpec, callbacks: HarnessCallbacks, conv: FakeConversation | None) -> None:
        self.sdk = sdk
        self.agent_id = agent_id
        self.spec = spec
        self.callbacks = callbacks
        self.conv = conv
        self.pid = next(_pids)
        self.alive = True
        self.closed = False
        self.broken = False  # a failed turn leaves the SDK agent unusable
        self.cancels = 0
        self.prompts: list[Prompt] = []
        self.turns = 0
        self.total_tokens = 0
        self._stop = "end_turn"
        self._output: Any = None
        self._scope: anyio.CancelScope | None = None
        self._callbacks: set[anyio.CancelScope] = set()
        self._idle = anyio.Event()
        self._idle.set()
        self._events: MemoryObjectReceiveStream[Any] | None = None
        self._out: MemoryObjectSendStream[Any] | None = None
        self._calls = itertools.count(1)
        self._editor_tools = {t.name for t in spec.editor_tools}
        self._policies = _policies(spec)

    # ------------------------------------------------------------------ the harness

    @property
    def conversation_id(self) -> str | None:
        return self.conv.id if self.conv is not None else None

    def harness_alive(self) -> bool:
        return self.alive and not self.closed

    def harness_pid(self) -> int | None:
        return self.pid if self.harness_alive() else None

    def die(self) -> None:
        """The harness process exits (killed, OOM): a running turn's stream fails at once
        (the SDK's reader loop ends), though callbacks in flight run on."""
        self.alive = False
        if self._scope is not None:
            self._scope.cancel()
        if self._out is not None:
            self._out.send_nowait(harness_died())

    # ------------------------------------------------------------------ turns

    async def send(self, prompt: Prompt) -> None:
        await anyio.lowlevel.checkpoint()
        if not self.harness_alive():
            raise harness_died()
        if self.broken:
            raise AgyError(ErrorCode.AGENT_FAILED, "fake: send on an SDK agent whose last turn failed (the core must restart it)")
        if not self._idle.is_set():
            raise AgyError(ErrorCode.AGENT_FAILED, "fake: send while a turn still runs in this harness")
        if self.conv is None:
            self.conv = self.sdk.new_conversation(self.spec.state_dir)
        self.sdk.sends.append((self.agent_id, time.monotonic()))
        self.prompts.append(prompt)
        acts = self.sdk.next_turn(self.agent_id, prompt)
        self.conv.add(id=self.conv.step_id(), type="TEXT_RESPONSE", source="USER", status="DONE", content=_text(prompt))
        self._stop, self._output = "end_turn", None
        out, self._events = anyio.create_memory_object_stream[Any](max_buffer_size=1_000_000)
        self._out = out
        self._idle = anyio.Event()
        self.sdk.tg.start_soon(self._turn, acts, out)

    async def events(self) -> AsyncIterator[StepEvent]:
        events = self._events
        if events is None:
            return
        while True:
            item = await events.receive()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    async def _turn(self, acts: list[Act], out: MemoryObjectSendStream[Any]) -> None:
        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                try:
                    for act in acts:
                        await self._act(act, out)
                        await anyio.lowlevel.checkpoint()
                except AgyError as e:
                    self.broken = True
                    out.send_nowait(e)
                    return
                self.turns += 1
                self.total_tokens += 10
                out.send_nowait(_END)
                return
            if not self.harness_alive():
                out.send_nowait(harness_died())
            else:
                out.send_nowait(TurnCancelledError())
        finally:
            self._scope = None
            if self._out is out:
                self._out = None
            self._idle.set()

    async def _act(self, act: Act, out: MemoryObjectSendStream[Any]) -> None:
        assert self.conv is not None
        if isinstance(act, Say):
            step_id = self.conv.step_id()
            text = ""
            for i, delta in enumerate(act.deltas or ("",)):
                text += delta
                out.send_nowait(StepEvent("step", step_id, i == 0, text=delta, thought=act.thought if i == 0 else ""))
                await anyio.lowlevel.checkpoint()
            self.conv.add(
                id=step_id, type="TEXT_RESPONSE", source="MODEL", target="TARGET_USER", status="DONE", content=text, thinking=act.thought
            )
        elif isinstance(act, Tool):
            await self._tool(act, out)
        elif isinstance(act, Fail):
            raise act.make()
        elif isinstance(act, Hang):
            try:
                await anyio.sleep_forever()
            finally:
                if act.settle_secs:
                    with anyio.CancelScope(shield=True):
                        await anyio.sleep(act.settle_secs)
        elif isinstance(act, Gate):
            await act.event.wait()
        elif isinstance(act, Die):
            self.alive = False
            raise harness_died()
        elif isinstance(act, Stop):
            self._stop = act.reason
        else:
            self._output = act.value

    async def _tool(self, act: Tool, out: MemoryObjectSendStream[Any]) -> None:
        assert self.conv is not None
        n = next(self._calls)
        call_id = act.call_id or f"call_{n}"
        hook_step = f"hook:{n}"  # the hooks' numbering, not the stream's
        args = dict(act.args)
        allowed, message = await self._decide(act.name, args, call_id, hook_step)
        step_id = self.conv.step_id()
        if not allowed:
            error = f"{DENIED}: {message}"
            self.conv.add(id=step_id, type="SYSTEM_MESSAGE", source="SYSTEM", status="ERROR", error=error)
            # The adapter hands the core the policy's own reason, "" for the SDK's default text.
            reason = "" if message.startswith("Denied by policy '") else message
            out.send_nowait(StepEvent("denied", step_id, error=reason))
            return
        call = ToolCall(id=call_id, name=act.name, args=args)
        result, error = act.result, act.error
        if act.name in self._editor_tools:
            key = f"own:{step_id}"  # the custom tool's own step: the call id, no step id
            self.conv.add(id=step_id, type="TOOL_CALL", source="MODEL", status="DONE", tool_calls=[call])
            out.send_nowait(StepEvent("step", "", True, calls=[ToolSighting(act.name, args, call_id=call_id, key=key)]))
            out.send_nowait(StepEvent("custom_tool", self.conv.step_id()))
            try:
                result, error = await self._callback(self.callbacks.run_editor_tool, ToolSighting(act.name, args, call_id=call_id)), None
            except EditorToolError as e:
                result, error = None, str(e)
        else:
            self.conv.add(id=step_id, type="TOOL_CALL", source="MODEL", status="DONE", tool_calls=[call])
            out.send_nowait(StepEvent("step", step_id, True, calls=[ToolSighting(act.name, args, step_id=step_id, key=step_id)]))
        await anyio.lowlevel.checkpoint()
        for sub in act.starts:
            await self._subagent(sub, ROOT_TRAJECTORY, 1, out)
        try:
            seen = ToolSighting(act.name, args, call_id=call_id, step_id=hook_step)
            self.callbacks.after_tool(ToolEnd(seen, result, error, delegated=[sub.trajectory for sub in act.starts]))
            if error is not None and "onToolError" in self.spec.hooks:
                failed = ToolEnd(ToolSighting(act.name, {}, call_id=call_id, step_id=hook_step), error=error)
                await self._callback(self.callbacks.tool_failed, failed)
        except Exception as e:
            self.sdk.callback_errors.append(e)

    async def _subagent(self, sub: Sub, parent: str, depth: int, out: MemoryObjectSendStream[Any]) -> None:
        assert self.conv is not None
        marks: dict[str, Any] = {"trajectory_id": sub.trajectory, "parent_trajectory_id": parent, "depth": depth}
        step_id = self.conv.step_id()
        for i, delta in enumerate(sub.deltas):
            out.send_nowait(StepEvent("step", step_id, i == 0, text=delta, **marks))
            await anyio.lowlevel.checkpoint()
        if sub.delegates:
            step_id = self.conv.step_id()
            call = ToolSighting("invoke_subagent", {}, step_id=step_id, key=step_id)
            out.send_nowait(StepEvent("step", step_id, True, calls=[call], **marks))
            for inner in sub.delegates:
                await self._subagent(inner, sub.trajectory, depth + 1, out)

    async def _decide(self, name: str, args: dict[str, Any], call_id: str, hook_step: str) -> tuple[bool, str]:
        """The pre-tool hook, then the policies; a callback that raises denies (fail closed)."""
        try:
            hook = await self._callback(self.callbacks.before_tool, ToolSighting(name, dict(args), call_id=call_id, step_id=hook_step))
        except Exception as e:
            self.sdk.callback_errors.append(e)
            hook = HookResult(allow=False, message="the editor's preToolCall hook did not answer")
        if not hook.allow:
            return False, hook.message or "denied"
        if hook.modified_args:
            args.update(hook.modified_args)
        for p in self._policies:
            if not _matches(p, name, args):
                continue
            if p.decision == "deny":
                return False, p.reason or f"Denied by policy '{p.label}'."
            if p.decision == "allow":
                return True, ""
            try:
                sighting = ToolSighting(name, dict(args), call_id=call_id, step_id=hook_step)
                approved = await self._callback(self.callbacks.confirm_tool, sighting, p.reason or None)
            except Exception as e:
                self.sdk.callback_errors.append(e)
                approved = False
            return (True, "") if approved else (False, p.reason or f"User denied tool '{name}' (policy '{p.label}').")
        return True, ""

    async def _callback(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """A callback runs in the SDK's own task: halting the turn (`cancel`) does not
        cancel it, only closing the agent does (the SDK cancels its background tasks)."""
        with anyio.CancelScope(shield=True) as scope:
            self._callbacks.add(scope)
            try:
                return await fn(*args)
            finally:
                self._callbacks.discard(scope)
        raise AgyError(ErrorCode.AGENT_FAILED, "fake: the agent closed during a callback")

    def stop_reason(self) -> str:
        return self._stop

    def structured_output(self) -> Any:
        return self._output

    async def cancel(self) -> None:
        self.cancels += 1
        if self._scope is not None:
            self._scope.cancel()

    async def wait_for_idle(self) -> None:
        await self._idle.wait()

    # ------------------------------------------------------------------ the conversation

    def history(self) -> list[Step]:
        if self.conv is None:
            return []
        conv = self.conv
        out: list[Step] = []
        for step in conv.steps:
            if step.tool_calls:
                key = f"own:{step.id}" if step.tool_calls[0].name in self._editor_tools else step.id
                ident, call_id = conv.labels.get(key, (step.tool_calls[0].id, None))
                step = msgspec.structs.replace(step, tool_calls=[msgspec.structs.replace(step.tool_calls[0], id=ident, call_id=call_id)])
            out.append(step)
        return out

    def snapshot(self) -> Snapshot:
        last = next((s.content for s in reversed(self.conv.steps) if s.source == "MODEL"), "") if self.conv else ""
        return Snapshot(
            conversation_id=self.conversation_id,
            turn_count=self.turns,
            last_response=last,
            compaction_indices=[],
            total_usage=Usage(total_tokens=self.total_tokens),
            last_turn_usage=Usage(total_tokens=10) if self.turns else None,
        )

    def label(self, key: Any, call: ToolCall) -> None:
        if self.conv is not None and isinstance(key, str):
            self.conv.labels[key] = (call.id, call.call_id)

    def clear_history(self) -> None:
        if self.conv is not None:
            self.conv.steps.clear()

    async def disconnect(self) -> None:
        self.closed = True

    async def close(self, timeout_secs: float) -> None:
        self.closed = True
        for scope in [self._scope, *self._callbacks]:
            if scope is not None:
                scope.cancel()
        await anyio.lowlevel.checkpoint()


def _text(prompt: Prompt) -> str:
    if isinstance(prompt, str):
        return prompt
    return " ".join(p.text or "" for p in prompt)
