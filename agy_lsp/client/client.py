"""AgyClient: starts `agy-lsp` on stdio, initializes it, and routes its messages
to agent handles. Works on asyncio and trio (anyio)."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import Any

import anyio
import msgspec
from anyio.abc import Process, TaskGroup

from agy_lsp.client.agent import AgentHandle
from agy_lsp.client.callbacks import DECIDE_POINTS, ClientTool, ConfirmHandler, HookHandler, as_tool
from agy_lsp.client.connection import Connection
from agy_lsp.client.errors import AgyClientError, ConnectionClosed
from agy_lsp.protocol.methods import Method
from agy_lsp.protocol.types import (
    AgentStateNotice,
    AgentSummary,
    AnyBackend,
    Capabilities,
    ChatChunk,
    ConfirmToolCallParams,
    CreateAgentParams,
    CreateAgentResult,
    HookParams,
    HookPoint,
    ListAgentsResult,
    Policies,
    PolicyPreset,
    PolicyRule,
    QuotaNotice,
    RunToolParams,
    ServerInfoResult,
)

log = logging.getLogger(__name__)

LOG_LEVELS = {1: "error", 2: "warning", 3: "info", 4: "log"}
STDERR_TAIL_BYTES = 64 * 1024


def server_command(backend: str | None = None, model: str | None = None, base_url: str | None = None) -> list[str]:
    """`python -m agy_lsp` with the backend flags that were given."""
    cmd = [sys.executable, "-m", "agy_lsp"]
    for flag, value in (("--backend", backend), ("--model", model), ("--base-url", base_url)):
        if value:
            cmd += [flag, value]
    return cmd


def to_backend(backend: AnyBackend | Mapping[str, Any] | None) -> AnyBackend | None:
    if backend is None or isinstance(backend, msgspec.Struct):
        return backend
    return msgspec.convert(dict(backend), AnyBackend)  # pyright: ignore[reportReturnType]


class AgyClient:
    """A running agy-lsp server. Create it with `async with AgyClient.spawn() as client:`."""

    def __init__(self, connection: Connection, tasks: TaskGroup, process: Process | None = None) -> None:
        self.connection = connection
        self.tasks = tasks
        self.process = process
        self.agents: dict[str, AgentHandle] = {}
        self.log_messages: list[tuple[str, str]] = []
        self.server_capabilities: dict[str, Any] = {}
        self.on_log: Callable[[str, str], Any] | None = None
        self.on_agent_state: Callable[[AgentStateNotice], Any] | None = None
        self.on_quota: Callable[[QuotaNotice], Any] | None = None
        self.stderr_tail = bytearray()
        self.returncode: int | None = None
        self._register()

    # ------------------------------------------------------------------ start and stop

    @classmethod
    @contextlib.asynccontextmanager
    async def spawn(
        cls,
        command: Sequence[str] | None = None,
        *,
        backend: str | None = None,
        model: str | None = None,
        base_url: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        initialization_options: Mapping[str, Any] | None = None,
        stderr: Any = "capture",
        shutdown_timeout: float = 20.0,
        on_log: Callable[[str, str], Any] | None = None,
    ) -> AsyncGenerator[AgyClient, None]:
        """Starts the server (default: `python -m agy_lsp` plus the backend flags),
        initializes it, and on exit sends shutdown + exit, waits for the process
        and kills it if it will not go. `env` is added to this process's
        environment. The server runs in its own session, so a Ctrl-C in the
        terminal reaches only this process. Its stderr is kept in `stderr_tail`
        ("capture"), or passed on with `stderr=None`."""
        cmd = list(command) if command is not None else server_command(backend, model, base_url)
        full_env = {**os.environ, **(env or {})}
        capture = isinstance(stderr, str) and stderr == "capture"
        stderr_target: Any = subprocess.PIPE if capture else stderr
        process = await anyio.open_process(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr_target,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
        try:
            async with anyio.create_task_group() as tasks:
                assert process.stdin is not None and process.stdout is not None
                client = cls(Connection(process.stdin, process.stdout, tasks), tasks, process)
                client.on_log = on_log
                tasks.start_soon(client.connection.run)
                if capture and process.stderr is not None:
                    tasks.start_soon(client._drain_stderr, process.stderr)
                try:
                    await client.initialize(initialization_options)
                    yield client
                finally:
                    with anyio.CancelScope(shield=True):
                        await client.close(shutdown_timeout)
                    tasks.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                if process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
                    with anyio.move_on_after(5):
                        await process.wait()
                await process.aclose()

    async def _drain_stderr(self, stream: Any) -> None:
        with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            async for data in stream:
                self.stderr_tail += data
                del self.stderr_tail[:-STDERR_TAIL_BYTES]

    async def initialize(self, initialization_options: Mapping[str, Any] | None = None) -> None:
        params: dict[str, Any] = {
            "processId": os.getpid(),
            "clientInfo": {"name": "agy_lsp.client"},
            "capabilities": {"experimental": {"agy": {"confirmToolCall": True}}},
        }
        if initialization_options:
            params["initializationOptions"] = dict(initialization_options)
        result = await self.connection.request("initialize", params)
        if isinstance(result, dict):
            self.server_capabilities = result.get("capabilities") or {}  # pyright: ignore[reportUnknownMemberType]
        await self.connection.notify("initialized", {})

    async def close(self, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        """shutdown + exit, then wait for the server (killed after `timeout`)."""
        conn = self.connection
        if conn.closed is None:
            with anyio.move_on_after(timeout), contextlib.suppress(AgyClientError):
                await conn.request("shutdown")
            with contextlib.suppress(AgyClientError):
                await conn.notify("exit")
        process = self.process
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(Exception):
                await process.stdin.aclose()
        with anyio.move_on_after(5):
            await process.wait()
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        self.returncode = process.returncode

    # ------------------------------------------------------------------ agents

    async def create_agent(
        self,
        backend: AnyBackend | Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        system_instructions: str | None = None,
        workspaces: Sequence[str] = (),
        enabled_tools: Sequence[str] | None = None,
        disabled_tools: Sequence[str] | None = None,
        conversation_id: str | None = None,
        response_schema: dict[str, Any] | None = None,
        max_quota_retries: int | None = None,
        chat_timeout_secs: float | None = None,
        policies: Policies | list[PolicyRule] | PolicyPreset | Mapping[str, Any] | None = None,
        tools: Sequence[ClientTool | Callable[..., Any]] = (),
        hooks: Mapping[HookPoint, HookHandler] | None = None,
        on_confirm: ConfirmHandler | None = None,
    ) -> AgentHandle:
        """Creates an agent. `backend` is a wire Struct (`Scripted(...)`, `OpenAI(...)`)
        or its JSON form; None uses the server's default. `tools` are Python
        functions the model can call (run here, via `agy/runTool`); `hooks` maps
        hook points to callables; `on_confirm` answers tool confirmations."""
        spec = to_backend(backend)
        client_tools = [as_tool(t) for t in tools]
        caps = None
        if enabled_tools is not None or disabled_tools is not None:
            caps = Capabilities(
                enabled_tools=list(enabled_tools) if enabled_tools is not None else None,
                disabled_tools=list(disabled_tools) if disabled_tools is not None else None,
            )
        if isinstance(policies, Mapping):
            policies = msgspec.convert(dict(policies), Policies)
        params = CreateAgentParams(
            backend=spec,
            name=name,
            system_instructions=system_instructions,
            workspaces=list(workspaces),
            capabilities=caps,
            conversation_id=conversation_id,
            response_schema=response_schema,
            max_quota_retries=max_quota_retries,
            chat_timeout_secs=chat_timeout_secs,
            policies=policies,
            tools=[t.spec for t in client_tools],
            hooks=list(hooks or {}),
        )
        result: CreateAgentResult = await self.connection.request(Method.CREATE_AGENT, params, CreateAgentResult)
        options: dict[str, Any] = dict(
            workspaces=workspaces,
            enabled_tools=enabled_tools,
            disabled_tools=disabled_tools,
            response_schema=response_schema,
            max_quota_retries=max_quota_retries,
            chat_timeout_secs=chat_timeout_secs,
            policies=policies,
            tools=tools,
            hooks=hooks,
        )
        handle = AgentHandle(
            self,
            result.agent_id,
            conversation_id=result.conversation_id,
            tools=result.tools,
            backend=spec,
            on_confirm=on_confirm,
            editor_tools=client_tools,
            hooks=hooks,
            create_options=options,
        )
        self.agents[result.agent_id] = handle
        return handle

    def agent(self, agent_id: str) -> AgentHandle:
        """A handle for an agent by id (one this client created, or a bare handle)."""
        return self.agents.get(agent_id) or AgentHandle(self, agent_id)

    def forget(self, agent_id: str) -> None:
        self.agents.pop(agent_id, None)

    async def list_agents(self) -> list[AgentSummary]:
        result: ListAgentsResult = await self.connection.request(Method.LIST_AGENTS, {}, ListAgentsResult)
        return result.agents

    async def server_info(self) -> ServerInfoResult:
        return await self.connection.request(Method.SERVER_INFO, {}, ServerInfoResult)

    # ------------------------------------------------------------------ server -> client

    def _register(self) -> None:
        conn = self.connection
        conn.notification_handlers.update(
            {
                Method.CHAT_CHUNK: self._on_chunk,
                Method.AGENT_STATE: self._on_state,
                Method.QUOTA: self._on_quota,
                Method.HOOK: self._on_hook_notice,
                "window/logMessage": self._on_log,
            }
        )
        conn.request_handlers.update(
            {
                Method.CONFIRM_TOOL_CALL: self._on_confirm,
                Method.RUN_TOOL: self._on_run_tool,
                Method.HOOK: self._on_hook,
            }
        )
        conn.on_close = self._on_close

    def _on_chunk(self, params: Any) -> None:
        chunk = msgspec.convert(params, ChatChunk)
        handle = self.agents.get(chunk.agent_id)
        if handle is not None:
            handle.on_chunk(chunk)

    def _on_state(self, params: Any) -> None:
        notice = msgspec.convert(params, AgentStateNotice)
        handle = self.agents.get(notice.agent_id)
        if handle is not None:
            handle.on_state(notice.state)
        if self.on_agent_state is not None:
            self.on_agent_state(notice)

    def _on_quota(self, params: Any) -> None:
        if self.on_quota is not None:
            self.on_quota(msgspec.convert(params, QuotaNotice))

    def _on_log(self, params: Any) -> None:
        if not isinstance(params, dict):
            return
        raw: dict[str, Any] = params  # pyright: ignore[reportUnknownVariableType]
        level = LOG_LEVELS.get(raw.get("type", 3), "info")
        message = str(raw.get("message", ""))
        self.log_messages.append((level, message))
        if self.on_log is not None:
            self.on_log(level, message)

    def _on_close(self, exc: ConnectionClosed) -> None:
        if self.stderr_tail:
            exc.data["stderr"] = self.stderr_tail.decode(errors="replace")[-4000:]
        for handle in list(self.agents.values()):
            for turn in list(handle._turns):  # pyright: ignore[reportPrivateUsage]
                turn.finish(error=exc)

    def _handle(self, agent_id: str) -> AgentHandle:
        handle = self.agents.get(agent_id)
        if handle is None:
            raise AgyClientError(f"this client has no agent {agent_id!r}", {"agentId": agent_id}, code=-32602)
        return handle

    async def _on_confirm(self, params: Any) -> Any:
        p = msgspec.convert(params, ConfirmToolCallParams)
        return await self._handle(p.agent_id).on_confirm_request(p)

    async def _on_run_tool(self, params: Any) -> Any:
        p = msgspec.convert(params, RunToolParams)
        return await self._handle(p.agent_id).on_run_tool(p)

    async def _on_hook(self, params: Any) -> Any:
        p = msgspec.convert(params, HookParams)
        return await self._handle(p.agent_id).on_hook(p)

    def _on_hook_notice(self, params: Any) -> None:
        p = msgspec.convert(params, HookParams)
        handle = self.agents.get(p.agent_id)
        if handle is not None and p.point not in DECIDE_POINTS:
            self.tasks.start_soon(handle.on_hook, p)
