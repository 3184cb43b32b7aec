"""Running an agent turn for a plain-LSP action, with work-done progress and cancel.

The turn runs in the background: the command that started it answers at once
with `{agentId, turnId}`. While it runs, `$/progress` reports carry the agent's
latest line and the tool in use; `window/workDoneProgress/cancel` on its token (or
the `agy-lsp.cancel` command) cancels it. Timeouts, quota, pacing and hibernation are
the core's, as for any chat; closing the server closes the agents.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec
from lsprotocol import types as lsp

from agy_lsp.lsp import plain_consent
from agy_lsp.lsp.initialize import declares_agy
from agy_lsp.lsp.plain_state import ClientSupport, PlainState, RunningTurn
from agy_lsp.lsp.plain_tools import PlainTools
from agy_lsp.protocol.calls import Prompt
from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.shown import visible
from agy_lsp.protocol.types import ChatChunk, ChatResult, ConfirmToolCallParams, ConfirmToolCallResult, RunToolParams, RunToolResult

if TYPE_CHECKING:
    from agy_lsp.lsp.language_server import AgyLanguageServer

log = logging.getLogger(__name__)
REPORT_EVERY = 0.1  # seconds between $/progress reports of one turn
BEGIN_WAIT = 10.0  # seconds a client has to answer window/workDoneProgress/create

Done = Callable[[ChatResult], Awaitable[None]]


class _Report(msgspec.Struct):
    message: str
    kind: str = "report"
    cancellable: bool = True


class _ProgressNote(msgspec.Struct):
    """`$/progress` with a `report` (lsprotocol's ProgressParams, without cattrs)."""

    token: str
    value: _Report


class PlainLayer:
    """The standard-LSP side of the server: implements `lsp_editor.PlainLsp`."""

    def __init__(self, ls: AgyLanguageServer) -> None:
        self.ls = ls
        self.state = PlainState()
        self.tools = PlainTools(ls, self.state)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lines: dict[str, tuple[str, str, float]] = {}  # turn -> (latest text, tool, last report time)

    # -- lsp_editor.PlainLsp
    def initialized(self) -> None:
        caps = self.ls.client_capabilities
        self.state.plain = not declares_agy(caps)
        self.state.support = ClientSupport.of(caps)
        workspace = self.ls.workspace
        self.state.set_folders([f.uri for f in workspace.folders.values()], workspace.root_uri)
        missing = self.state.support.missing()
        if self.state.plain and len(missing) == 3:
            self.ls.window_show_message(
                lsp.ShowMessageParams(
                    type=lsp.MessageType.Warning,
                    message="agy: this editor supports none of applyEdit, showMessageRequest and work-done progress, so: "
                    + "; ".join(missing),
                )
            )

    def can_confirm(self) -> bool:
        # showMessageRequest is base protocol, so every plain client is asked; one that
        # cannot show it answers with an error, which refuses the call (plain_consent.ask)
        return self.state.plain

    async def confirm(self, params: ConfirmToolCallParams) -> ConfirmToolCallResult:
        if not self.can_confirm():
            return ConfirmToolCallResult(outcome="reject_once")  # fail closed
        result = await plain_consent.ask(self.ls, params)
        kind = next((o.kind for o in params.options if o.option_id == result.outcome), result.outcome)
        if kind in ("allow_once", "allow_always"):
            self.tools.allowed.add(params.tool_call.id)  # its edit needs no second yes
        return result

    async def run_tool(self, params: RunToolParams) -> RunToolResult | None:
        return await self.tools.run(params)

    def chunk(self, chunk: ChatChunk) -> bool:
        """Progress (and a chat document) from a chunk of an action's turn; True when
        the client has no agy plugin, so no agy/chatChunk need go out."""
        turn = self.state.turns.get(chunk.turn_id)
        if turn is None:
            return False
        if turn.on_chunk is not None:
            turn.on_chunk(chunk)
        if turn.token is not None:
            self._report(turn, chunk)
        return self.state.plain

    def _report(self, turn: RunningTurn, chunk: ChatChunk) -> None:
        text, tool, last = self._lines.get(chunk.turn_id, ("", "", 0.0))
        if chunk.kind == "text" and chunk.text:
            text = (text + chunk.text)[-2000:]
        elif chunk.kind == "toolCall" and chunk.tool_call is not None:
            tool = chunk.tool_call.name
        else:
            return
        now = time.monotonic()
        if turn.begun and turn.token is not None and now - last >= REPORT_EVERY:
            # as a chat chunk goes: msgspec-encoded and written at once, not at the tick's end
            report = _ProgressNote(token=turn.token, value=_Report(message=progress_line(text, tool)))
            self.ls.protocol.notify_struct(lsp.PROGRESS, report, urgent=True)
            last = now
        self._lines[chunk.turn_id] = (text, tool, last)

    # -- turns
    def start(self, agent_id: str, prompt: Prompt, title: str, done: Done | None = None, on_chunk: Any = None) -> RunningTurn:
        """Starts a turn in the background. A busy agent is an error (AGENT_BUSY)."""
        if (busy := self.state.turn_of_agent(agent_id)) is not None:
            raise AgyError(ErrorCode.AGENT_BUSY, f"the agent is busy with “{busy.title}”", {"agentId": agent_id, "turnId": busy.turn_id})
        turn = RunningTurn(agent_id=agent_id, turn_id=self.state.new_turn_id(), title=title, on_chunk=on_chunk)
        if self.state.support.progress:
            turn.token = f"agy-{turn.turn_id}"
        self.state.turns[turn.turn_id] = turn
        task = asyncio.ensure_future(self._run(turn, prompt, done))
        turn.task = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return turn

    async def _run(self, turn: RunningTurn, prompt: Prompt, done: Done | None) -> None:
        ending = "done"
        # the token's create round trip runs beside the turn rather than before it:
        # reports wait for its `begin`, the model's answer does not
        begin = asyncio.ensure_future(self._begin(turn)) if turn.token is not None else None
        try:
            result = await self.ls.manager.chat(turn.agent_id, prompt, turn_id=turn.turn_id)
            ending = "cancelled" if result.stop_reason == "cancelled" else "done"
            self.state.turns.pop(turn.turn_id, None)  # the agent is free: what `done` shows may invite the next turn
            if done is not None:
                await done(result)
        except AgyError as e:
            ending = f"failed: {e.message}"
            self._tell(lsp.MessageType.Error, f"agy: {turn.title} failed: {e.message}")
        except asyncio.CancelledError:
            ending = "cancelled"
            raise
        except Exception as e:
            log.exception("plain turn %s", turn.turn_id)
            ending = f"failed: {type(e).__name__}"
            self._tell(lsp.MessageType.Error, f"agy: {turn.title} failed: {type(e).__name__}: {e}")
        finally:
            self.state.turns.pop(turn.turn_id, None)
            if begin is not None:
                await asyncio.wait([begin])  # so `end` follows `begin` (_begin waits BEGIN_WAIT at most)
            self._lines.pop(turn.turn_id, None)
            if turn.begun and turn.token is not None and turn.token in self.ls.work_done_progress.tokens:
                self.ls.work_done_progress.end(turn.token, lsp.WorkDoneProgressEnd(message=ending))
            elif not ending.startswith("failed"):  # no progress bar: say it ended (a failure said so already)
                self._tell(lsp.MessageType.Info, f"{turn.title}: {ending}")

    async def _begin(self, turn: RunningTurn) -> None:
        assert turn.token is not None
        try:
            await asyncio.wait_for(self.ls.work_done_progress.create_async(turn.token), BEGIN_WAIT)
        except Exception as e:  # no progress, the turn still runs
            log.info("window/workDoneProgress/create failed: %s", e)
            turn.token = None
            return
        text, tool, _ = self._lines.get(turn.turn_id, ("", "", 0.0))  # what streamed while the create was in flight
        message = progress_line(text, tool) or "starting"
        self.ls.work_done_progress.begin(turn.token, lsp.WorkDoneProgressBegin(title=turn.title, cancellable=True, message=message))
        turn.begun = True

    def cancel(self, turn_id: str | None = None, token: str | None = None) -> int:
        """Cancels the turn with this id or progress token, or every plain turn; how many."""
        turns = [t for t in self.state.turns.values() if (turn_id is None or t.turn_id == turn_id) and (token is None or t.token == token)]
        return sum(self.ls.manager.cancel(t.agent_id, t.turn_id) for t in turns)

    def _tell(self, kind: lsp.MessageType, message: str) -> None:
        self.ls.window_show_message(lsp.ShowMessageParams(type=kind, message=message))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()


def progress_line(text: str, tool: str) -> str:
    """The agent's latest line (escaped, cut to one line) and the tool in use."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    latest = visible(lines[-1], newlines=False)[:120] if lines else ""
    if tool:
        return f"{latest} [{visible(tool, newlines=False)}]" if latest else f"[{visible(tool, newlines=False)}]"
    return latest
