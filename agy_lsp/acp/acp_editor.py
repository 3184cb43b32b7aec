"""The core's `Editor`, spoken in ACP: one per connection, routing by agent id to
the ACP session that owns the agent.

Events become `session/update` notifications, sent in order by one sender task
(`Outbox`); a turn flushes it before its `session/prompt` answer. Confirmations
become `session/request_permission`, questions `elicitation/create`; our editor
tools become `fs/*` and `terminal/*` requests (editor_tools.py); the hooks a client
subscribed with `_meta.agy.hooks` become `_agy/hook` requests and notifications.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from acp import Client
from acp.schema import AgentPlanUpdate, AllowedOutcome, PermissionOption, PlanEntry

from agy_lsp.acp import editor_tools, questions, updates
from agy_lsp.acp.bindings import Binding
from agy_lsp.acp.tool_tracker import Tracked
from agy_lsp.agents.editor import LOG_LEVELS
from agy_lsp.protocol.types import (
    AgentStateNotice,
    ChatChunk,
    ConfirmToolCallParams,
    ConfirmToolCallResult,
    HookParams,
    HookResult,
    QuotaNotice,
    RunToolParams,
    RunToolResult,
    ToolCall,
)

log = logging.getLogger(__name__)


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


def _marks(chunk: ChatChunk) -> dict[str, Any] | None:
    """`_meta.agy` of a subagent's work: its trajectory, its parent's, and how deep."""
    if not chunk.depth:
        return None
    return {"agy": {"trajectoryId": chunk.trajectory_id, "parentTrajectoryId": chunk.parent_trajectory_id, "depth": chunk.depth}}


class AcpEditor:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.bindings: dict[str, Binding] = {}  # by agent id
        # What the client advertised at initialize.
        self.fs_read = False
        self.fs_write = False
        self.terminal = False
        self.elicitation = False

    # ------------------------------------------------------------------ events

    def chunk(self, chunk: ChatChunk) -> None:
        b = self.bindings.get(chunk.agent_id)
        if b is None:
            return
        meta = _marks(chunk)
        if chunk.kind in ("text", "thought", "compaction") and chunk.text:
            if chunk.kind == "compaction":  # older history was summarised: the harness's note, marked
                meta = {"agy": {**(meta or {}).get("agy", {}), "compaction": True}}
            make = updates.helpers.update_agent_thought_text if chunk.kind == "thought" else updates.helpers.update_agent_message_text
            kind = f"{chunk.kind}:{chunk.trajectory_id or ''}"
            self.outbox.put(b.session_id, updates.chunk(make(chunk.text), b.next_message_id(kind), meta))
        elif chunk.kind == "retry" and chunk.retry is not None:  # the harness retries the model: a thought, marked
            retry_meta = {"agy": {**(meta or {}).get("agy", {}), "retry": msgspec.to_builtins(chunk.retry)}}
            text = updates.helpers.update_agent_thought_text(f"{chunk.text}…")
            self.outbox.put(b.session_id, updates.chunk(text, b.next_message_id(f"retry:{chunk.trajectory_id or ''}"), retry_meta))
        elif chunk.kind == "plan" and chunk.plan is not None:
            entries = [PlanEntry(content=e.content, priority="medium", status=e.status) for e in chunk.plan.entries]
            plan_meta = {"agy": {"path": chunk.plan.path, "markdown": chunk.plan.markdown, **(meta or {}).get("agy", {})}}
            self.outbox.put(b.session_id, AgentPlanUpdate(session_update="plan", entries=entries, field_meta=plan_meta))
        elif chunk.kind == "toolCall" and chunk.tool_call is not None:
            self._announce(b, chunk.tool_call, meta)
        elif chunk.kind == "toolResult" and chunk.tool_result is not None:
            result = chunk.tool_result
            call = self._announce(b, ToolCall(id=result.id, name=result.name), meta)
            if not call.done:
                call.done = True
                update = updates.tool_finished(call.call_id, result, keep_content=call.terminal)
                update.field_meta = meta
                self.outbox.put(b.session_id, update)

    def _announce(self, b: Binding, call: ToolCall, meta: Any = None) -> Tracked:
        """The tracked call with this call's id; its `tool_call` goes out the first time."""
        tracked = b.tools.get(call.id, call.name)
        if not tracked.announced:
            tracked.announced = True
            b.last_kind = "tool"  # text after a tool call is a new message
            self.outbox.put(b.session_id, updates.tool_call_start(tracked.call_id, call, diff=tracked.diff, meta=meta))
        return tracked

    def end_turn(self, b: Binding) -> None:
        """Calls that never finished (denied by a remembered choice, cancelled) stop spinning."""
        for call in b.tools.calls.values():
            if call.announced and not call.done:
                self.outbox.put(b.session_id, updates.tool_status(call.call_id, "failed", "The tool call did not run to completion."))
        b.tools.end_turn()
        b.last_kind = ""

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
        log.log(LOG_LEVELS.get(level.lower(), logging.INFO), message)

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
            session_id=b.session_id, tool_call=updates.permission_subject(call_id, call, tracked.diff), options=options
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
        """Our editor tools: through the editor when it can, else the disk."""
        b = self.bindings.get(params.agent_id)
        if b is None:
            return RunToolResult(error="the session is gone")
        name, args, client = params.tool_call.name, params.tool_call.args, self.outbox.client
        try:
            if name == updates.FS_READ_TOOL:
                return await editor_tools.read_file(client, self.fs_read, b.session_id, args, b.cwd)
            if name == updates.FS_WRITE_TOOL:
                return await editor_tools.write_file(client, self.fs_write, b.session_id, args, b.cwd)
            if name == updates.TERMINAL_TOOL and client is not None:
                tracked = self._announce(b, params.tool_call)
                tracked.terminal = True
                await self.outbox.flush()
                show: Callable[[Any], None] = lambda update: self.outbox.put(b.session_id, update)  # noqa: E731
                return await editor_tools.run_in_terminal(client, b.session_id, tracked.call_id, args, b.cwd, show)
        except Exception as e:
            return RunToolResult(error=f"{type(e).__name__}: {e}")
        return RunToolResult(error=f"unknown editor tool {name!r}")

    async def hook(self, params: HookParams) -> HookResult:
        """The hooks ACP itself needs (the old text of an edit before it runs; the
        agent's questions), then the client's own `_agy/hook` subscription."""
        b = self.bindings.get(params.agent_id)
        if b is None:
            return HookResult()
        if params.point == "preToolCall" and isinstance(params.data, ToolCall):
            await self._before_edit(b, params.data)
        if params.point in b.client_hooks:
            return await self._ask_client(b, params)
        if params.point == "onInteraction":
            asking = next((c.call_id for c in b.tools.calls.values() if c.name == "ask_question" and not c.done), None)
            return await questions.ask(self.outbox.client, self.elicitation, b.session_id, asking, params.data)
        return HookResult()

    async def _before_edit(self, b: Binding, call: ToolCall) -> None:
        """A file write about to run: its whole-file diff, with the old text read now
        (from the editor's buffer when it can)."""
        path = updates.written_path(call)
        if path is None:
            return
        old = await editor_tools.old_text(self.outbox.client, self.fs_read, b.session_id, editor_tools.absolute(path, b.cwd))
        tracked = b.tools.get(call.id, call.name)
        tracked.diff = list(updates.diff_of(call, old))
        if tracked.announced and tracked.diff:
            self.outbox.put(b.session_id, updates.helpers.update_tool_call(tracked.call_id, content=tracked.diff))

    def _hook_params(self, b: Binding, params: HookParams) -> dict[str, Any]:
        out: dict[str, Any] = {"sessionId": b.session_id, "point": params.point, "data": msgspec.to_builtins(params.data)}
        if params.turn_id:
            out["turnId"] = params.turn_id
        return out

    async def _ask_client(self, b: Binding, params: HookParams) -> HookResult:
        client = self.outbox.client
        if client is None:
            raise RuntimeError("no client")
        answer = await client.ext_method("agy/hook", self._hook_params(b, params))
        return msgspec.convert(answer or {}, HookResult)

    def hook_notice(self, params: HookParams) -> None:
        b = self.bindings.get(params.agent_id)
        if b is not None and params.point in b.client_hooks:
            self.outbox.notify("agy/hook", self._hook_params(b, params))
