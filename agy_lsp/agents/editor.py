"""The interface a front-end implements so the core can reach the editor.

The core never knows the wire: the LSP front-end turns these calls into
`agy/*` notifications and requests, the ACP front-end into `session/*` ones,
and the Python client's tests can implement it in plain Python.
"""

from __future__ import annotations

import logging
from typing import Protocol

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
)

# The levels `Editor.log` is called with, as Python logging levels (each front-end
# also logs what it sends to stderr).
LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}

class Editor(Protocol):
    # Fire-and-forget events.
    def chunk(self, chunk: ChatChunk) -> None: ...
    def agent_state(self, notice: AgentStateNotice) -> None: ...
    def quota(self, notice: QuotaNotice) -> None: ...
    def log(self, level: str, message: str) -> None: ...

    # Capabilities the client declared at initialize.
    def can_confirm(self) -> bool: ...

    # Requests: the editor answers. They may raise; the core fails closed.
    async def confirm_tool_call(self, params: ConfirmToolCallParams) -> ConfirmToolCallResult: ...
    async def run_tool(self, params: RunToolParams) -> RunToolResult: ...
    async def hook(self, params: HookParams) -> HookResult: ...
    def hook_notice(self, params: HookParams) -> None: ...


class NullEditor:
    """An editor that declares nothing: every confirmation is denied (fail closed)."""

    def chunk(self, chunk: ChatChunk) -> None:
        pass

    def agent_state(self, notice: AgentStateNotice) -> None:
        pass

    def quota(self, notice: QuotaNotice) -> None:
        pass

    def log(self, level: str, message: str) -> None:
        pass

    def can_confirm(self) -> bool:
        return False

    async def confirm_tool_call(self, params: ConfirmToolCallParams) -> ConfirmToolCallResult:
        return ConfirmToolCallResult(outcome="reject_once")

    async def run_tool(self, params: RunToolParams) -> RunToolResult:
        return RunToolResult(error="no editor attached")

    async def hook(self, params: HookParams) -> HookResult:
        return HookResult()

    def hook_notice(self, params: HookParams) -> None:
        pass
