"""The core in-process: an AgentManager on the FakeSdk, with a recording Editor.

    async with core(maxLiveAgents=2) as c:   # c.manager, c.sdk, c.editor
        agent = await c.create(name="a")
        await c.manager.chat(agent, "hi")

`core` is a factory (not an async fixture) because the manager and the fake
harnesses run in anyio task groups, which must be left in the task that entered them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest

from agy_lsp.agents.manager import AgentManager
from agy_lsp.agents.session import AgentSession
from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.types import (
    AgentStateNotice,
    ChatChunk,
    ConfirmToolCallParams,
    ConfirmToolCallResult,
    CreateAgentParams,
    HookParams,
    HookResult,
    OpenAI,
    QuotaNotice,
    RunToolParams,
    RunToolResult,
)
from agy_lsp.settings import Settings
from tests.core.fake_sdk import FakeSdk

TEST_TIMEOUT_SECS = 10
BACKEND = OpenAI(base_url="http://model.test/v1", model="m", api_key="sk-core-test-key")  # one quota key for all


@dataclass
class RecordingEditor:
    """The `Editor` of agy_lsp/agents/editor.py: records everything, answers as scripted.

    `confirm_answers` are popped in order (then `confirm_default`); `on_confirm`,
    `on_run` and `on_hook` replace the canned answers with a coroutine."""

    chunks: list[ChatChunk] = field(default_factory=list[ChatChunk])
    states: list[AgentStateNotice] = field(default_factory=list[AgentStateNotice])
    quotas: list[QuotaNotice] = field(default_factory=list[QuotaNotice])
    logs: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])
    confirms: list[ConfirmToolCallParams] = field(default_factory=list[ConfirmToolCallParams])
    runs: list[RunToolParams] = field(default_factory=list[RunToolParams])
    hooks: list[HookParams] = field(default_factory=list[HookParams])
    notices: list[HookParams] = field(default_factory=list[HookParams])
    confirm_capable: bool = True
    confirm_answers: list[str] = field(default_factory=list[str])
    confirm_default: str = "allow_once"
    on_confirm: Callable[[ConfirmToolCallParams], Awaitable[ConfirmToolCallResult]] | None = None
    on_run: Callable[[RunToolParams], Awaitable[RunToolResult]] | None = None
    on_hook: Callable[[HookParams], Awaitable[HookResult]] | None = None

    def chunk(self, chunk: ChatChunk) -> None:
        self.chunks.append(chunk)

    def agent_state(self, notice: AgentStateNotice) -> None:
        self.states.append(notice)

    def quota(self, notice: QuotaNotice) -> None:
        self.quotas.append(notice)

    def log(self, level: str, message: str) -> None:
        self.logs.append((level, message))

    def can_confirm(self) -> bool:
        return self.confirm_capable

    async def confirm_tool_call(self, params: ConfirmToolCallParams) -> ConfirmToolCallResult:
        self.confirms.append(params)
        if self.on_confirm is not None:
            return await self.on_confirm(params)
        return ConfirmToolCallResult(outcome=self.confirm_answers.pop(0) if self.confirm_answers else self.confirm_default)

    async def run_tool(self, params: RunToolParams) -> RunToolResult:
        self.runs.append(msgspec.structs.replace(params, state=dict(params.state)))  # as sent: the core's dict changes later
        if self.on_run is not None:
            return await self.on_run(params)
        return RunToolResult(content=f"ran {params.tool_call.name}")

    async def hook(self, params: HookParams) -> HookResult:
        self.hooks.append(params)
        if self.on_hook is not None:
            return await self.on_hook(params)
        return HookResult(allow=True)

    def hook_notice(self, params: HookParams) -> None:
        self.notices.append(params)

    # ------------------------------------------------------------------ reading

    def states_of(self, agent_id: str) -> list[str]:
        return [n.state for n in self.states if n.agent_id == agent_id]

    def turn_chunks(self, turn_id: str) -> list[ChatChunk]:
        return [c for c in self.chunks if c.turn_id == turn_id]

    def tool_chunks(self, turn_id: str) -> list[tuple[str, str, str | None]]:
        """(kind, id, outcome) of the turn's toolCall and toolResult chunks."""
        out: list[tuple[str, str, str | None]] = []
        for c in self.turn_chunks(turn_id):
            if c.tool_call is not None:
                out.append((c.kind, c.tool_call.id, None))
            elif c.tool_result is not None:
                out.append((c.kind, c.tool_result.id, c.tool_result.outcome))
        return out

    def results(self, turn_id: str) -> list[Any]:
        return [c.tool_result for c in self.turn_chunks(turn_id) if c.tool_result is not None]


def params(**spec: Any) -> CreateAgentParams:
    """CreateAgentParams from wire (camelCase) names; the backend is BACKEND unless given."""
    return msgspec.convert({"backend": msgspec.to_builtins(BACKEND), **spec}, CreateAgentParams, from_attributes=True)


@dataclass
class Core:
    manager: AgentManager
    sdk: FakeSdk
    editor: RecordingEditor
    state_dir: Path

    async def create(self, *, start: bool = True, **spec: Any) -> str:
        """createAgent; the spec in wire (camelCase) names, the backend BACKEND unless given."""
        return (await self.manager.create(params(**spec), start=start)).agent_id

    def session(self, agent_id: str) -> AgentSession:
        """White-box: the agent's session (for its state and conversation id)."""
        return self.manager._agents[agent_id]  # pyright: ignore[reportPrivateUsage]

    def state(self, agent_id: str) -> str:
        return self.manager.status(agent_id).state


CoreFactory = Callable[..., contextlib.AbstractAsyncContextManager[Core]]


@contextlib.contextmanager
def lone_error() -> Iterator[None]:
    """A task group's ExceptionGroup of one (a failed assertion) raised as that one."""
    try:
        yield
    except Exception as group:  # a failed assertion, not wrapped in the task group's ExceptionGroup
        inner = getattr(group, "exceptions", ())
        if len(inner) == 1:
            raise inner[0] from None
        raise


@pytest.fixture
def core(tmp_path: Path) -> CoreFactory:
    """`async with core(**settings) as c:` (settings in wire or Python names)."""

    @contextlib.asynccontextmanager
    async def running(editor: RecordingEditor | None = None, **overrides: Any) -> AsyncIterator[Core]:
        state_dir = tmp_path / "state"
        settings = msgspec.convert(
            {"stateDir": str(state_dir), "pacingMs": 0, "chatTimeoutSecs": 10, **overrides}, Settings, from_attributes=True
        )
        editor = editor or RecordingEditor()
        with lone_error(), anyio.fail_after(TEST_TIMEOUT_SECS):  # a test that hangs fails instead
            async with anyio.create_task_group() as tg:
                sdk = FakeSdk(tg)
                async with AgentManager(settings, editor, sdk=lambda: sdk) as manager:
                    manager.quota.base_backoff_ms = 20  # exponential backoff in tens of ms, not seconds
                    yield Core(manager, sdk, editor, state_dir)
                tg.cancel_scope.cancel()
        assert not sdk.callback_errors, sdk.callback_errors  # the core's callbacks never raised into the SDK

    return running


async def wait_until(predicate: Callable[[], Any], within: float = 3.0) -> None:
    with anyio.fail_after(within):
        while not predicate():
            await anyio.sleep(0.005)


async def raises(code: ErrorCode, awaitable: Awaitable[Any]) -> AgyError:
    """The AgyError `awaitable` raised; fails unless it has `code`."""
    try:
        await awaitable
    except AgyError as e:
        assert e.code == code, f"{e.code.name} ({e.message}), expected {code.name}"
        return e
    raise AssertionError(f"no error, expected {code.name}")


class Clock:
    """Seconds since it was made."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self) -> float:
        return time.monotonic() - self.start
