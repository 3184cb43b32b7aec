"""The core's Editor interface, spoken as LSP: agy/* notifications and requests.

The agy/* notifications go only to a client that declared `experimental.agy` at
initialize, or that made an agent through agy/createAgent: a plain LSP client has
never heard of them, and gets standard LSP only (its actions show progress instead,
lsp/plain_*.py)."""

from __future__ import annotations

import logging
import uuid
from typing import Protocol, TypeVar

import msgspec
from lsprotocol import types as lsp

from agy_lsp.agents.editor import LOG_LEVELS
from agy_lsp.lsp.jsonrpc import AgyProtocol
from agy_lsp.protocol.methods import Method
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
from agy_lsp.secrets import scrub


class PlainLsp(Protocol):
    """The standard-LSP layer (lsp/plain_*.py): its own tools, progress from chunks,
    and consent by `window/showMessageRequest` for a client without the agy one."""

    def initialized(self) -> None: ...
    def chunk(self, chunk: ChatChunk) -> bool: ...  # True: it was the layer's, not for agy/chatChunk
    def can_confirm(self) -> bool: ...
    async def confirm(self, params: ConfirmToolCallParams) -> ConfirmToolCallResult: ...
    async def run_tool(self, params: RunToolParams) -> RunToolResult | None: ...


class Server(Protocol):
    """What the editor needs of the language server."""

    @property
    def protocol(self) -> AgyProtocol: ...
    def window_log_message(self, params: lsp.LogMessageParams) -> None: ...


log = logging.getLogger(__name__)
T = TypeVar("T", bound=msgspec.Struct)

_MESSAGE_TYPES = {  # window/logMessage types
    "error": lsp.MessageType.Error,
    "warning": lsp.MessageType.Warning,
    "info": lsp.MessageType.Info,
    "debug": lsp.MessageType.Log,
}


class LspEditor:
    def __init__(self, server: Server) -> None:
        self._server = server
        self.agy_client = False  # declared `experimental.agy` at initialize, or called agy/createAgent
        self.confirm_supported = False
        self.plain: PlainLsp | None = None

    @property
    def _protocol(self) -> AgyProtocol:
        return self._server.protocol

    def chunk(self, chunk: ChatChunk) -> None:
        if self.plain is not None and self.plain.chunk(chunk):
            return  # a standard-LSP action's turn for a client with no agy plugin: it sees progress instead
        self._notify(Method.CHAT_CHUNK, chunk, urgent=True)

    def agent_state(self, notice: AgentStateNotice) -> None:
        self._notify(Method.AGENT_STATE, notice)

    def quota(self, notice: QuotaNotice) -> None:
        self._notify(Method.QUOTA, notice)

    def _notify(self, method: str, params: msgspec.Struct, urgent: bool = False) -> None:
        if self.agy_client:
            self._protocol.notify_struct(method, params, urgent)

    def log(self, level: str, message: str) -> None:
        message = scrub(message)
        log.log(LOG_LEVELS.get(level, logging.INFO), message)
        self._server.window_log_message(lsp.LogMessageParams(type=_MESSAGE_TYPES.get(level, lsp.MessageType.Info), message=message))

    def can_confirm(self) -> bool:
        return self.confirm_supported or (self.plain is not None and self.plain.can_confirm())

    async def _request(self, method: str, params: msgspec.Struct, result_type: type[T]) -> T:
        msg_id = f"agy-{uuid.uuid4().hex[:12]}"
        try:
            raw = await self._protocol.send_request_async(method, msgspec.to_builtins(params), msg_id=msg_id)
        except BaseException:
            # Cancelled or timed out: tell the editor to drop its dialog.
            self._protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id=msg_id))
            raise
        if hasattr(raw, "__attrs_attrs__"):
            raw = self._protocol.converter.unstructure(raw)
        return msgspec.convert(raw, result_type)

    async def confirm_tool_call(self, params: ConfirmToolCallParams) -> ConfirmToolCallResult:
        if not self.confirm_supported and self.plain is not None:
            return await self.plain.confirm(params)
        return await self._request(Method.CONFIRM_TOOL_CALL, params, ConfirmToolCallResult)

    async def run_tool(self, params: RunToolParams) -> RunToolResult:
        if self.plain is not None and (ours := await self.plain.run_tool(params)) is not None:
            return ours
        return await self._request(Method.RUN_TOOL, params, RunToolResult)

    async def hook(self, params: HookParams) -> HookResult:
        return await self._request(Method.HOOK, params, HookResult)

    def hook_notice(self, params: HookParams) -> None:
        self._notify(Method.HOOK, params)
