"""AgentHandle: one server-side agent, its turns, queries and callbacks."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from anyio.abc import TaskGroup

from agy_lsp.client.callbacks import ClientTool, ConfirmHandler, HookHandler, call, hook_result, run_confirm
from agy_lsp.client.connection import Connection
from agy_lsp.client.turn import Turn
from agy_lsp.protocol.methods import Method
from agy_lsp.protocol.types import (
    AgentRef,
    AgentState,
    AnyBackend,
    CancelResult,
    ChatChunk,
    ChatParams,
    ConfirmToolCallParams,
    ConfirmToolCallResult,
    HistoryParams,
    HistoryResult,
    HookParams,
    HookPoint,
    HookResult,
    OkResult,
    Prompt,
    ResetPermissionsParams,
    RunToolParams,
    RunToolResult,
    SendResult,
    StatusResult,
    Step,
    StructuredOutputResult,
    Usage,
    UsageResult,
    WaitForWakeupParams,
    WaitForWakeupResult,
)

log = logging.getLogger(__name__)


class HandleOwner(Protocol):
    """What an AgentHandle needs of its client (agy_lsp/client/client.py)."""

    connection: Connection
    tasks: TaskGroup

    @property
    def create_agent(self) -> Callable[..., Awaitable[AgentHandle]]: ...
    def forget(self, agent_id: str) -> None: ...


class AgentHandle:
    """Mirrors the SDK agent: chat, send, cancel, the conversation queries and the lifecycle."""

    def __init__(
        self,
        client: HandleOwner,
        agent_id: str,
        *,
        conversation_id: str | None = None,
        tools: list[str] | None = None,
        backend: AnyBackend | None = None,
        on_confirm: ConfirmHandler | None = None,
        editor_tools: list[ClientTool] | None = None,
        hooks: Mapping[HookPoint, HookHandler] | None = None,
        create_options: dict[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.agent_id = agent_id
        self.conversation_id = conversation_id
        self.tools: list[str] = list(tools or [])
        self.backend = backend
        self.state: AgentState = "idle"
        self.on_confirm = on_confirm
        self.editor_tools: dict[str, ClientTool] = {t.name: t for t in editor_tools or []}
        self.hooks: dict[HookPoint, HookHandler] = dict(hooks or {})
        self._create_options = dict(create_options or {})
        self._turns: list[Turn] = []  # running turns, oldest first

    def __repr__(self) -> str:
        return f"<AgentHandle {self.agent_id} ({self.state})>"

    async def _call(self, method: str, result_type: type[Any], params: Any = None) -> Any:
        return await self.client.connection.request(method, params or AgentRef(agent_id=self.agent_id), result_type)

    # ------------------------------------------------------------------ turns

    def chat(self, prompt: Prompt) -> Turn:
        """Starts a turn. Iterate it for chunks, `await turn` for the ChatResult,
        or `await turn.text()`."""
        turn = Turn(self, "chat")
        self._turns.append(turn)
        self.client.tasks.start_soon(turn.run_chat, ChatParams(agent_id=self.agent_id, prompt=prompt))
        return turn

    async def chat_text(self, prompt: Prompt) -> str:
        """One turn, its answer as text."""
        return await self.chat(prompt).text()

    async def send(self, prompt: Prompt) -> Turn:
        """Starts a turn without waiting for it. The returned turn streams its chunks
        and ends when the agent goes idle again."""
        turn = Turn(self, "send")
        self._turns.append(turn)
        try:
            result = await self._call(Method.SEND, SendResult, ChatParams(agent_id=self.agent_id, prompt=prompt))
        except BaseException:
            self.turn_finished(turn)
            raise
        turn.turn_id = result.turn_id
        return turn

    async def cancel(self) -> bool:
        """Cancels the running turn; False if the agent was idle."""
        for turn in self._turns:
            if turn.mode == "chat" and not turn.done:
                return await turn.cancel()
        result: CancelResult = await self._call(Method.CANCEL, CancelResult)
        return result.cancelled

    async def wait_for_idle(self) -> None:
        await self._call(Method.WAIT_FOR_IDLE, OkResult)

    async def wait_for_wakeup(self, timeout: float = 300.0) -> bool:  # noqa: ASYNC109 (the server waits, not us)
        """Waits for the agent to wake up on its own (a scheduled wake-up); False on timeout."""
        params = WaitForWakeupParams(agent_id=self.agent_id, timeout_secs=timeout)
        result: WaitForWakeupResult = await self._call(Method.WAIT_FOR_WAKEUP, WaitForWakeupResult, params)
        return result.woke_up

    # ------------------------------------------------------------------ queries

    async def status(self) -> StatusResult:
        return await self._call(Method.STATUS, StatusResult)

    async def history(self, offset: int = 0, limit: int | None = None) -> list[Step]:
        return (await self.history_page(offset, limit)).steps

    async def history_page(self, offset: int = 0, limit: int | None = None) -> HistoryResult:
        """A page of history with the total number of steps."""
        params = HistoryParams(agent_id=self.agent_id, offset=offset, limit=limit)
        return await self._call(Method.HISTORY, HistoryResult, params)

    async def turn_count(self) -> int:
        return (await self.status()).turn_count

    async def usage(self) -> UsageResult:
        return await self._call(Method.USAGE, UsageResult)

    async def total_usage(self) -> Usage:
        return (await self.usage()).total_usage

    async def last_turn_usage(self) -> Usage | None:
        return (await self.usage()).last_turn_usage

    async def last_response(self) -> str:
        return (await self.status()).last_response

    async def compaction_indices(self) -> list[int]:
        return (await self.status()).compaction_indices

    async def clear_history(self) -> None:
        await self._call(Method.CLEAR_HISTORY, OkResult)

    async def structured_output(self) -> Any:
        result: StructuredOutputResult = await self._call(Method.STRUCTURED_OUTPUT, StructuredOutputResult)
        return result.structured_output

    async def is_idle(self) -> bool:
        return (await self.status()).idle

    async def reset_permissions(self, tool: str | None = None) -> None:
        """Forgets remembered "always" answers (for one tool, or all)."""
        await self._call(Method.RESET_PERMISSIONS, OkResult, ResetPermissionsParams(agent_id=self.agent_id, tool=tool))

    # ------------------------------------------------------------------ lifecycle

    async def shutdown(self) -> None:
        """Closes the agent; its stored conversation stays (resume it by conversation_id)."""
        await self._call(Method.SHUTDOWN_AGENT, OkResult)
        self._closed()

    async def delete(self) -> None:
        """Closes the agent and deletes its stored conversation."""
        await self._call(Method.DELETE_AGENT, OkResult)
        self._closed()

    async def disconnect(self) -> None:
        """The SDK's disconnect: close the transport, keep the stored conversation."""
        await self._call(Method.DISCONNECT_AGENT, OkResult)
        self._closed()

    async def spawn_subagent(self, instructions: str, *, name: str | None = None, **options: Any) -> AgentHandle:
        """A new agent on the same backend with its own system instructions. Other
        create_agent options (tools, policies, on_confirm, ...) default to this agent's."""
        merged: dict[str, Any] = {**self._create_options, "on_confirm": self.on_confirm, **options}
        merged["system_instructions"] = instructions
        merged["name"] = name
        merged.pop("conversation_id", None)
        return await self.client.create_agent(backend=self.backend, **merged)

    def _closed(self) -> None:
        self.state = "closed"
        self.client.forget(self.agent_id)

    # ------------------------------------------------------------------ server -> client

    def turn_finished(self, turn: Turn) -> None:
        if turn in self._turns:
            self._turns.remove(turn)

    def on_chunk(self, chunk: ChatChunk) -> None:
        for turn in self._turns:
            if turn.turn_id == chunk.turn_id:
                turn.feed(chunk)
                return
        for turn in self._turns:  # the first chunk of a chat turn tells its id
            if turn.turn_id is None:
                turn.turn_id = chunk.turn_id
                turn.feed(chunk)
                return

    def on_state(self, state: AgentState) -> None:
        self.state = state
        for turn in list(self._turns):
            if turn.mode != "send":
                continue
            if state == "busy":
                turn.saw_busy = True
            elif state in ("idle", "failed", "closed") and (turn.saw_busy or turn.chunks):
                turn.finish_send(state)
            break  # one turn runs at a time: the oldest is the one that changed state

    async def on_confirm_request(self, params: ConfirmToolCallParams) -> ConfirmToolCallResult:
        return await run_confirm(self.on_confirm, params)

    async def on_run_tool(self, params: RunToolParams) -> RunToolResult:
        tool = self.editor_tools.get(params.tool_call.name)
        if tool is None:
            return RunToolResult(error=f"no editor tool named {params.tool_call.name!r} in this client")
        return await tool.run(params)

    async def on_hook(self, params: HookParams) -> HookResult:
        handler = self.hooks.get(params.point)
        if handler is None:
            return HookResult()
        try:
            return hook_result(await call(handler, params))
        except Exception:
            log.exception("hook %s failed", params.point)
            return HookResult(allow=params.point != "preToolCall")  # a decide hook that fails denies
