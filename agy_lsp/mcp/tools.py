"""The tools: their definitions (`tools/list`) and `tools/call`.

Arguments are checked against the tool's Struct (a mismatch is INVALID_PARAMS, a
protocol error); a failure of the tool itself is an `isError` result with the
stable agy error code (agy_lsp/mcp/errors.py). No failure ends the server.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from mcp import MCPError
from mcp_types import CallToolRequestParams, CallToolResult, ListToolsResult, PaginatedRequestParams, Tool, ToolAnnotations

from agy_lsp.mcp import errors, schemas
from agy_lsp.mcp.mcp_editor import McpEditor
from agy_lsp.mcp.queries import Queries
from agy_lsp.mcp.resources import Ctx, Notifier
from agy_lsp.mcp.turns import Turns
from agy_lsp.protocol.errors import AgyError, ErrorCode

log = logging.getLogger(__name__)

_DELEGATE = (
    "The agent is a Google Antigravity coding agent with its own tools: it reads and searches files, "
    "edits and creates files, runs commands and reads the web, in its working directory (cwd). "
    "By default (policy safeDefaults) it may read without asking; an edit or a command asks the person "
    "through your host, and when the host cannot ask, the call is denied and the result says why "
    "(toolCalls[].reason). Pass policy to allow more."
)

RUN = (
    "Delegate a task to an Antigravity agent and wait for its answer. Starts a new session, or continues "
    "the one named by sessionId, and runs one turn to its end. " + _DELEGATE + " Returns the agent's text, "
    "the files it created or edited (filesChanged), every tool call with its outcome, and the sessionId to "
    "continue with agy_reply. Write the prompt as a complete brief: the agent does not see your conversation. "
    "A failure is a result with isError and error.code (e.g. TIMEOUT, BACKEND_ERROR, AGENT_BUSY)."
)
REPLY = (
    "Continue an Antigravity session with a follow-up message and wait for the answer: the agent remembers "
    "the whole conversation. Same result as agy_run."
)
STATUS = "The state of an Antigravity session: busy or idle, turns so far, the model, token usage, remembered permissions."
CANCEL = (
    "Cancel the turn running in an Antigravity session (its agy_run or agy_reply then returns with stopReason "
    "cancelled and the text so far). The session stays usable. cancelled is false when nothing was running."
)
SESSIONS = "List stored Antigravity sessions, newest first, with their sessionId, title and working directory."
HISTORY = "The conversation of an Antigravity session as a readable Markdown transcript (limit: only the last steps)."


@dataclass
class Handler:
    tool: Tool
    args: type[msgspec.Struct]
    call: Callable[[Ctx, Any], Awaitable[CallToolResult | msgspec.Struct]]


def _handler(
    name: str,
    title: str,
    description: str,
    io: tuple[type[msgspec.Struct], type[msgspec.Struct]],
    hints: ToolAnnotations,
    call: Callable[[Ctx, Any], Awaitable[CallToolResult | msgspec.Struct]],
) -> Handler:
    args, out = io
    tool = Tool(
        name=name,
        title=title,
        description=description,
        input_schema=schemas.json_schema(args),
        output_schema=schemas.output_schema(out),
        annotations=hints,
    )
    return Handler(tool, args, call)


class Tools:
    def __init__(self, turns: Turns, queries: Queries, editor: McpEditor, notifier: Notifier) -> None:
        self.editor = editor
        self.notifier = notifier
        acts = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True)
        reads = ToolAnnotations(read_only_hint=True, open_world_hint=False)
        cancels = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

        async def status(ctx: Ctx, args: schemas.SessionArgs) -> schemas.StatusOut:
            return queries.status(args)

        async def cancel(ctx: Ctx, args: schemas.SessionArgs) -> schemas.CancelOut:
            return queries.cancel(args)

        async def sessions(ctx: Ctx, args: schemas.SessionsArgs) -> schemas.SessionsOut:
            return queries.list(args)

        async def history(ctx: Ctx, args: schemas.HistoryArgs) -> schemas.HistoryOut:
            return await queries.history(args)

        s = schemas
        handlers = [
            _handler("agy_run", "Run an Antigravity agent", RUN, (s.RunArgs, s.RunOut), acts, turns.run),
            _handler("agy_reply", "Reply to an Antigravity agent", REPLY, (s.ReplyArgs, s.RunOut), acts, turns.reply),
            _handler("agy_status", "Session status", STATUS, (s.SessionArgs, s.StatusOut), reads, status),
            _handler("agy_cancel", "Cancel a turn", CANCEL, (s.SessionArgs, s.CancelOut), cancels, cancel),
            _handler("agy_sessions", "List sessions", SESSIONS, (s.SessionsArgs, s.SessionsOut), reads, sessions),
            _handler("agy_history", "Session transcript", HISTORY, (s.HistoryArgs, s.HistoryOut), reads, history),
        ]
        self.handlers = {h.tool.name: h for h in handlers}

    async def list(self, ctx: Ctx, params: PaginatedRequestParams | None) -> ListToolsResult:
        self._seen(ctx)
        return ListToolsResult(tools=[h.tool for h in self.handlers.values()])

    async def call(self, ctx: Ctx, params: CallToolRequestParams) -> CallToolResult:
        self._seen(ctx)
        handler = self.handlers.get(params.name)
        if handler is None:
            raise errors.invalid(f"unknown tool {params.name!r}", tool=params.name, tools=sorted(self.handlers))
        try:
            args = msgspec.convert(params.arguments or {}, handler.args)
        except msgspec.ValidationError as e:
            raise errors.from_validation(params.name, e) from e
        try:
            out = await handler.call(ctx, args)
        except MCPError:
            raise
        except AgyError as e:
            if e.code == ErrorCode.INVALID_PARAMS:
                raise errors.protocol_error(e) from e
            return errors.tool_error(e, sessionId=getattr(args, "session_id", None))
        except Exception as e:  # a bug: the host learns of it, the server goes on
            log.exception("tool %s failed", params.name)
            return errors.internal(e)
        return out if isinstance(out, CallToolResult) else errors.result(msgspec.to_builtins(out))

    def _seen(self, ctx: Ctx) -> None:
        """What the host can do, from its declared capabilities (stdio: one host)."""
        self.notifier.seen(ctx)
        caps = ctx.session.client_capabilities
        elicit = caps.elicitation if caps is not None else None
        form = elicit is not None and (elicit.form is not None or elicit.url is None)  # `{}` means form (2025-06-18)
        self.editor.can_elicit = form and ctx.session.can_send_request
