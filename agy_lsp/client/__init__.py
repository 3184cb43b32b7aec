"""A Python client for agy-lsp: start the server, create agents, chat.

    async with AgyClient.spawn() as client:
        agent = await client.create_agent(backend=Scripted(script=[{"text": "hi"}]))
        async for chunk in agent.chat("hello"):
            print(chunk.kind, chunk.text)

Results are the server's own wire Structs (`agy_lsp.protocol.types`); errors
are typed exceptions (`agy_lsp.client.errors`). Runs on asyncio and trio.
"""

from agy_lsp.client.agent import AgentHandle
from agy_lsp.client.callbacks import ClientTool, editor_tool
from agy_lsp.client.client import AgyClient, server_command
from agy_lsp.client.errors import (
    AgentBusy,
    AgentClosed,
    AgentFailed,
    AgentLimit,
    AgentNotFound,
    AgyClientError,
    BackendError,
    Cancelled,
    ConnectionClosed,
    InternalError,
    InvalidParams,
    InvalidRequest,
    MaxTokens,
    MethodNotFound,
    ParseError,
    QuotaExceeded,
    RequestCancelled,
    Safety,
    ServerShuttingDown,
    Timeout,
)
from agy_lsp.client.turn import Turn
from agy_lsp.protocol.types import (
    ChatChunk,
    ChatResult,
    ConfirmToolCallParams,
    ConfirmToolCallResult,
    EditorTool,
    Gemini,
    HookParams,
    HookResult,
    OpenAI,
    Policies,
    PolicyRule,
    RunToolResult,
    Scripted,
    StatusResult,
    Step,
    ToolCall,
    ToolResult,
    Usage,
    Vertex,
)

__all__ = [
    "AgentBusy",
    "AgentClosed",
    "AgentFailed",
    "AgentHandle",
    "AgentLimit",
    "AgentNotFound",
    "AgyClient",
    "AgyClientError",
    "BackendError",
    "Cancelled",
    "ChatChunk",
    "ChatResult",
    "ClientTool",
    "ConfirmToolCallParams",
    "ConfirmToolCallResult",
    "ConnectionClosed",
    "EditorTool",
    "Gemini",
    "HookParams",
    "HookResult",
    "InternalError",
    "InvalidParams",
    "InvalidRequest",
    "MaxTokens",
    "MethodNotFound",
    "OpenAI",
    "ParseError",
    "Policies",
    "PolicyRule",
    "QuotaExceeded",
    "RequestCancelled",
    "RunToolResult",
    "Safety",
    "Scripted",
    "ServerShuttingDown",
    "StatusResult",
    "Step",
    "Timeout",
    "ToolCall",
    "ToolResult",
    "Turn",
    "Usage",
    "Vertex",
    "editor_tool",
    "server_command",
]
