"""`agy_run` and `agy_reply`: one turn of a session, from the tool call to its result.

The turn runs in the server's task group, not in the request's task, so that a
`notifications/cancelled` from the host cancels it through the core
(`AgentManager.cancel`: the turn ends as "cancelled", the SDK settles, the session
stays usable) instead of interrupting it. While it runs, a host that passed a
progress token gets `notifications/progress` with the streamed text so far.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any

import anyio
import msgspec
from anyio.abc import TaskGroup
from mcp.server.context import ServerRequestContext
from mcp_types import CallToolResult

from agy_lsp.agents.manager import AgentManager
from agy_lsp.agents.report import TurnReport
from agy_lsp.mcp import errors
from agy_lsp.mcp.mcp_editor import McpEditor, Run
from agy_lsp.mcp.resources import Notifier
from agy_lsp.mcp.schemas import ReplyArgs, RunArgs, run_out, tool_calls_out
from agy_lsp.mcp.sessions import Sessions
from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.types import ChatResult

log = logging.getLogger(__name__)

PROGRESS_SECS = 0.25  # at most this often
PROGRESS_CHARS = 2000  # of the streamed text, its end

Ctx = ServerRequestContext[Any, Any]


def progress_message(run: Run) -> str:
    if run.report.retry:  # the harness retries the model: say so, not the text so far
        return f"{run.report.retry}…"
    text = run.report.text
    if len(text) > PROGRESS_CHARS:
        return "…" + text[-PROGRESS_CHARS:]
    if text:
        return text
    calls = run.report.tool_calls()
    return f"working: {calls[-1].name} ({len(calls)} tool calls so far)" if calls else "working"


class Turns:
    def __init__(self, manager: AgentManager, editor: McpEditor, sessions: Sessions, notifier: Notifier, tasks: TaskGroup) -> None:
        self.manager = manager
        self.editor = editor
        self.sessions = sessions
        self.notifier = notifier
        self.tasks = tasks

    async def run(self, ctx: Ctx, args: RunArgs) -> CallToolResult:
        session_id, agent_id, new = await self.sessions.open(args)
        return await self._turn(ctx, session_id, agent_id, args.prompt, new)

    async def reply(self, ctx: Ctx, args: ReplyArgs) -> CallToolResult:
        agent_id = await self.sessions.agent(args.session_id)
        return await self._turn(ctx, args.session_id, agent_id, args.prompt, False)

    async def _turn(self, ctx: Ctx, session_id: str, agent_id: str, prompt: str, new: bool) -> CallToolResult:
        turn_id = uuid.uuid4().hex[:12]
        run = Run(session_id, agent_id, ctx.session, ctx.request_id)
        outcome: list[ChatResult | Exception] = []
        done = anyio.Event()
        scope = anyio.CancelScope()

        async def turn() -> None:
            self.editor.runs[turn_id] = run
            try:
                with scope:
                    outcome.append(await self.manager.chat(agent_id, prompt, run.report, turn_id))
            except Exception as e:  # AgyError, or a bug: the tool's result either way
                outcome.append(e)
            finally:
                self.editor.runs.pop(turn_id, None)
                done.set()
                run.touch()
                self.notifier.changed(session_id, new=new)

        self.tasks.start_soon(turn)
        try:
            await self._progress(ctx, run, done)
        except anyio.get_cancelled_exc_class():
            # The host cancelled the call: end the turn through the core; a turn not
            # begun yet (waiting for the agent) is simply dropped.
            with contextlib.suppress(AgyError):
                if not self.manager.cancel(agent_id, turn_id):
                    scope.cancel()
            raise
        return self._result(session_id, run.report, outcome[0] if outcome else None)

    async def _progress(self, ctx: Ctx, run: Run, done: anyio.Event) -> None:
        """Until the turn ends: a progress notification after each change, at most
        every PROGRESS_SECS, and one with everything before the result (a no-op
        unless the host passed a progress token)."""
        sent = 0
        while True:
            await run.changed.wait()
            run.changed = anyio.Event()
            if run.changes > sent:
                sent = run.changes
                with contextlib.suppress(Exception):  # a host that went away must not end the turn
                    await ctx.session.report_progress(float(sent), None, progress_message(run))
            if done.is_set():
                return
            with anyio.move_on_after(PROGRESS_SECS):  # the turn's end does not wait out the pause
                await done.wait()

    def _result(self, session_id: str, report: TurnReport, outcome: ChatResult | Exception | None) -> CallToolResult:
        if isinstance(outcome, ChatResult):
            return errors.result(msgspec.to_builtins(run_out(session_id, report)))
        if isinstance(outcome, AgyError):
            if outcome.code == ErrorCode.INVALID_PARAMS:
                raise errors.protocol_error(outcome)
            calls: Any = msgspec.to_builtins(tool_calls_out(report))
            return errors.tool_error(outcome, sessionId=session_id, text=report.text, filesChanged=report.files_changed, toolCalls=calls)
        if outcome is None:  # the turn task was cancelled (the server is shutting down)
            outcome = AgyError(ErrorCode.SERVER_SHUTTING_DOWN, "the server is shutting down")
            return errors.tool_error(outcome, sessionId=session_id)
        log.error("turn of session %s failed", session_id, exc_info=outcome)
        return errors.internal(outcome)
