"""The core's `Editor`, spoken in ACP: one per connection, routing by agent id to
the ACP session that owns the agent.

Events become `session/update` notifications, sent in order by one sender task
(`Outbox`); a turn flushes it before its `session/prompt` answer. Confirmations
become `session/request_permission`; our file tools become `fs/read_text_file`
and `fs/write_text_file` when the client can, so the agent sees unsaved buffers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from acp import Client
from acp.schema import AllowedOutcome, PermissionOption

from agy_lsp.acp import updates
from agy_lsp.acp.bindings import Binding
from agy_lsp.acp.tool_tracker import Tracked
from agy_lsp.protocol.types import (
    AgentStateNotice,
    ChatChunk,
    ConfirmToolCallParams,
    ConfirmToolCallResult,
    EditorTool,
    HookParams,
    HookResult,
    QuotaNotice,
    RunToolParams,
    RunToolResult,
    ToolCall,
)

log = logging.getLogger(__name__)
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}

FS_TOOLS = {
    updates.FS_READ_TOOL: EditorTool(
        name=updates.FS_READ_TOOL,
        description="Read a text file as the editor has it (including unsaved changes). Lines are 1-based.",
        parameters={
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "absolute path"},
                "line": {"type": "integer", "description": "first line to read (1-based)"},
                "limit": {"type": "integer", "description": "how many lines"},
            },
            "required": ["path"],
        },
    ),
    updates.FS_WRITE_TOOL: EditorTool(
        name=updates.FS_WRITE_TOOL,
        description="Write a whole text file through the editor (creates or replaces it).",
        parameters={
            "type": "object",
            "properties": {"path": {"type": "string", "description": "absolute path"}, "content": {"type": "string"}},
            "required": ["path", "content"],
        },
    ),
}


class Outbox:
    """Notifications to the client, in order, from sync callers: `session/update`s and
    our `_agy/*` extension notifications."""

    def __init__(self) -> None:
        self.client: Client | None = None
        self._queue: asyncio.Queue[Callable[[Client], Awaitable[None]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def put(self, session_id: str, update: Any) -> None:
        self._send(lambda c: c.session_update(session_id=session_id, update=update))

    def notify(self, method: str, params: dict[str, Any]) -> None:
        """An extension notification; the wire name gets ACP's `_` prefix."""
        self._send(lambda c: c.ext_notification(method, params))

    def _send(self, send: Callable[[Client], Awaitable[None]]) -> None:
        self._queue.put_nowait(send)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            send = await self._queue.get()
            try:
                if self.client is not None:
                    await send(self.client)
            except Exception as e:  # a closed connection: nothing left to tell
                log.info("notification not delivered: %s", e)
            finally:
                self._queue.task_done()

    async def flush(self) -> None:
        await self._queue.join()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()


class AcpEditor:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.bindings: dict[str, Binding] = {}  # by agent id
        self.fs_read = False
        self.fs_write = False

    # ------------------------------------------------------------------ events

    def chunk(self, chunk: ChatChunk) -> None:
        b = self.bindings.get(chunk.agent_id)
        if b is None:
            return
        if chunk.kind == "text" and chunk.text:
            self.outbox.put(b.session_id, updates.helpers.update_agent_message_text(chunk.text))
        elif chunk.kind == "thought" and chunk.text:
            self.outbox.put(b.session_id, updates.helpers.update_agent_thought_text(chunk.text))
        elif chunk.kind == "toolCall" and chunk.tool_call is not None:
            self._announce(b, chunk.tool_call)
        elif chunk.kind == "toolResult" and chunk.tool_result is not None:
            result = chunk.tool_result
            call = self._announce(b, ToolCall(id=result.id, name=result.name))
            if not call.done:
                call.done = True
                self.outbox.put(b.session_id, updates.tool_finished(call.call_id, result))

    def _announce(self, b: Binding, call: ToolCall) -> Tracked:
        """The tracked call with this call's id; its `tool_call` goes out the first time."""
        tracked = b.tools.get(call.id, call.name)
        if not tracked.announced:
            tracked.announced = True
            self.outbox.put(b.session_id, updates.tool_call_start(tracked.call_id, call))
        return tracked

    def end_turn(self, b: Binding) -> None:
        """Calls that never finished (denied by a remembered choice, cancelled) stop spinning."""
        for call in b.tools.calls.values():
            if not call.done:
                self.outbox.put(b.session_id, updates.tool_status(call.call_id, "failed", "The tool call did not run to completion."))
        b.tools.end_turn()

    def agent_state(self, notice: AgentStateNotice) -> None:
        """ACP has no agent states: `_agy/agentState {sessionId, state, reason?}`, an
        extension notification that clients may ignore (a healing or waking session)."""
        if notice.state in ("failed", "restarting"):
            log.warning("agent %s is %s: %s", notice.agent_id, notice.state, notice.reason or "")
        b = self.bindings.get(notice.agent_id)
        if b is not None:
            params: dict[str, Any] = {"sessionId": b.session_id, "state": notice.state}
            if notice.reason:
                params["reason"] = notice.reason
            self.outbox.notify("agy/agentState", params)

    def quota(self, notice: QuotaNotice) -> None:
        log.info("quota %s: %s (retry after %d ms)", notice.key, notice.state, notice.retry_after_ms)

    def log(self, level: str, message: str) -> None:
        log.log(_LEVELS.get(level.lower(), logging.INFO), message)

    def can_confirm(self) -> bool:
        return True  # session/request_permission is part of ACP itself

    # ------------------------------------------------------------------ requests

    async def confirm_tool_call(self, params: ConfirmToolCallParams) -> ConfirmToolCallResult:
        b = self.bindings.get(params.agent_id)
        if b is None:
            return ConfirmToolCallResult(outcome="reject_once")
        call = params.tool_call
        tracked = self._announce(b, call)
        call_id = tracked.call_id
        await self.outbox.flush()  # the client knows the tool call before it is asked about it
        client = self.outbox.client
        if client is None:
            return ConfirmToolCallResult(outcome="reject_once")
        options = [PermissionOption(option_id=o.option_id, kind=o.kind, name=o.name) for o in params.options]
        # A rejected or cancelled call ends with the core's toolResult (outcome denied
        # or cancelled), like every other call: see `chunk`.
        response = await client.request_permission(
            session_id=b.session_id, tool_call=updates.permission_subject(call_id, call), options=options
        )
        outcome = response.outcome
        if isinstance(outcome, AllowedOutcome):
            chosen = outcome.option_id
            kind = next((o.kind for o in params.options if o.option_id == chosen), chosen)
            if kind.startswith("allow"):
                self.outbox.put(b.session_id, updates.tool_status(call_id, "in_progress"))
            return ConfirmToolCallResult(outcome=chosen)
        return ConfirmToolCallResult(outcome="cancelled")

    async def run_tool(self, params: RunToolParams) -> RunToolResult:
        """Our file tools: through the editor when it can, else the disk."""
        b = self.bindings.get(params.agent_id)
        args = params.tool_call.args
        path = args.get("path")
        if b is None or not isinstance(path, str) or not path:
            return RunToolResult(error="`path` (an absolute path) is required")
        if not Path(path).is_absolute():
            path = str(Path(b.cwd) / path)
        client = self.outbox.client
        try:
            if params.tool_call.name == updates.FS_READ_TOOL:
                line, limit = args.get("line"), args.get("limit")
                line = line if isinstance(line, int) else None
                limit = limit if isinstance(limit, int) else None
                if self.fs_read and client is not None:
                    read = await client.read_text_file(session_id=b.session_id, path=path, line=line, limit=limit)
                    return RunToolResult(content=read.content)
                lines = (await anyio.Path(path).read_text()).splitlines(keepends=True)
                start = max(0, (line or 1) - 1)
                return RunToolResult(content="".join(lines[start : None if limit is None else start + limit]))
            if params.tool_call.name == updates.FS_WRITE_TOOL:
                content = str(args.get("content", ""))
                if self.fs_write and client is not None:
                    await client.write_text_file(session_id=b.session_id, path=path, content=content)
                else:
                    await anyio.Path(path).write_text(content)
                return RunToolResult(content=f"wrote {len(content)} characters to {path}")
        except Exception as e:
            return RunToolResult(error=f"{type(e).__name__}: {e}")
        return RunToolResult(error=f"unknown editor tool {params.tool_call.name!r}")

    async def hook(self, params: HookParams) -> HookResult:
        return HookResult()  # ACP has no hooks; we never subscribe

    def hook_notice(self, params: HookParams) -> None:
        pass
