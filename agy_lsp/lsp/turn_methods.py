"""agy/chat, agy/send, agy/cancel, agy/waitForIdle, agy/waitForWakeup.

A chat request stays open for the whole turn while `agy/chatChunk`
notifications stream. `$/cancelRequest` on it cancels the handler task; the core
stops the SDK turn and drains it before the -32800 answer goes out.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from agy_lsp.lsp.rpc import decode, rpc
from agy_lsp.protocol.methods import Method
from agy_lsp.protocol.types import (
    AgentRef,
    CancelResult,
    ChatParams,
    ChatResult,
    OkResult,
    SendResult,
    WaitForWakeupParams,
    WaitForWakeupResult,
)

if TYPE_CHECKING:
    from agy_lsp.lsp.language_server import AgyLanguageServer


class _Progress:
    """window/workDoneProgress for one turn, when the client supports it. The
    create round trip runs beside the turn so it never delays the first chunk."""

    def __init__(self, ls: AgyLanguageServer, title: str) -> None:
        self._ls = ls
        self._token = f"agy-turn-{uuid.uuid4().hex[:8]}"
        self._task: asyncio.Task[None] | None = None
        if ls.client_supports_progress:
            self._task = asyncio.ensure_future(self._begin(title))

    async def _begin(self, title: str) -> None:
        progress = self._ls.work_done_progress
        await progress.create_async(self._token)
        progress.begin(self._token, lsp.WorkDoneProgressBegin(title=title, cancellable=True))

    def end(self) -> None:
        if self._task is None:
            return
        task, token, progress = self._task, self._token, self._ls.work_done_progress

        def finish(_: Any) -> None:
            if not task.cancelled() and task.exception() is None:
                progress.end(token, lsp.WorkDoneProgressEnd())

        task.add_done_callback(finish)


def register(server: AgyLanguageServer) -> None:
    @server.feature(Method.CHAT)
    @rpc
    async def chat(ls: AgyLanguageServer, params: Any) -> ChatResult:
        p = decode(params, ChatParams)
        progress = _Progress(ls, f"agy: {ls.manager.name_of(p.agent_id)}")
        try:
            return await ls.manager.chat(p.agent_id, p.prompt)
        finally:
            progress.end()

    @server.feature(Method.SEND)
    @rpc
    async def send(ls: AgyLanguageServer, params: Any) -> SendResult:
        p = decode(params, ChatParams)
        return await ls.manager.send(p.agent_id, p.prompt)

    @server.feature(Method.CANCEL)
    @rpc
    async def cancel(ls: AgyLanguageServer, params: Any) -> CancelResult:
        return CancelResult(cancelled=ls.manager.cancel(decode(params, AgentRef).agent_id))

    @server.feature(Method.WAIT_FOR_IDLE)
    @rpc
    async def wait_for_idle(ls: AgyLanguageServer, params: Any) -> OkResult:
        await ls.manager.wait_for_idle(decode(params, AgentRef).agent_id)
        return OkResult()

    @server.feature(Method.WAIT_FOR_WAKEUP)
    @rpc
    async def wait_for_wakeup(ls: AgyLanguageServer, params: Any) -> WaitForWakeupResult:
        p = decode(params, WaitForWakeupParams)
        return WaitForWakeupResult(woke_up=await ls.manager.wait_for_wakeup(p.agent_id, p.timeout_secs))
