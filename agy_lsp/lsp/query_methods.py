"""agy/status, agy/history, agy/usage, agy/clearHistory, agy/structuredOutput,
agy/resetPermissions, agy/serverInfo, and the stored sessions: agy/listSessions,
agy/exportSession, agy/deleteSession, agy/listModels (the core's sessions, as ACP and MCP use them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agy_lsp import __version__, keystore
from agy_lsp.backends.identity import describe
from agy_lsp.lsp.rpc import decode, rpc
from agy_lsp.protocol.methods import Method
from agy_lsp.protocol.types import (
    AgentRef,
    DeleteSessionParams,
    DeleteSessionResult,
    ExportSessionParams,
    ExportSessionResult,
    HistoryParams,
    HistoryResult,
    ListModelsResult,
    ListSessionsParams,
    ListSessionsResult,
    ModelEntry,
    OkResult,
    ResetPermissionsParams,
    ServerInfoResult,
    StatusResult,
    StructuredOutputResult,
    UsageResult,
)
from agy_lsp.settings import resolve_default_backend

if TYPE_CHECKING:
    from agy_lsp.lsp.language_server import AgyLanguageServer


def register(server: AgyLanguageServer) -> None:
    @server.feature(Method.STATUS)
    @rpc
    async def status(ls: AgyLanguageServer, params: Any) -> StatusResult:
        return ls.manager.status(decode(params, AgentRef).agent_id)

    @server.feature(Method.HISTORY)
    @rpc
    async def history(ls: AgyLanguageServer, params: Any) -> HistoryResult:
        p = decode(params, HistoryParams)
        return ls.manager.history(p.agent_id, p.offset, p.limit)

    @server.feature(Method.USAGE)
    @rpc
    async def usage(ls: AgyLanguageServer, params: Any) -> UsageResult:
        return ls.manager.usage(decode(params, AgentRef).agent_id)

    @server.feature(Method.CLEAR_HISTORY)
    @rpc
    async def clear_history(ls: AgyLanguageServer, params: Any) -> OkResult:
        await ls.manager.clear_history(decode(params, AgentRef).agent_id)
        return OkResult()

    @server.feature(Method.STRUCTURED_OUTPUT)
    @rpc
    async def structured_output(ls: AgyLanguageServer, params: Any) -> StructuredOutputResult:
        return StructuredOutputResult(structured_output=ls.manager.structured_output(decode(params, AgentRef).agent_id))

    @server.feature(Method.RESET_PERMISSIONS)
    @rpc
    async def reset_permissions(ls: AgyLanguageServer, params: Any) -> OkResult:
        p = decode(params, ResetPermissionsParams)
        ls.manager.reset_permissions(p.agent_id, p.tool)
        return OkResult()

    @server.feature(Method.LIST_SESSIONS)
    @rpc
    async def list_sessions(ls: AgyLanguageServer, params: Any) -> ListSessionsResult:
        p = decode(params, ListSessionsParams)
        return ls.manager.sessions.page(p.offset, p.limit, p.cwd)

    @server.feature(Method.LIST_MODELS)
    @rpc
    async def list_models(ls: AgyLanguageServer, params: Any) -> ListModelsResult:
        models = await ls.manager.models(decode(params, AgentRef).agent_id)
        return ListModelsResult(models=[ModelEntry(id=m.id, context_window=m.context_window) for m in models])

    @server.feature(Method.EXPORT_SESSION)
    @rpc
    async def export_session(ls: AgyLanguageServer, params: Any) -> ExportSessionResult:
        return await ls.manager.export_session(decode(params, ExportSessionParams))

    @server.feature(Method.DELETE_SESSION)
    @rpc
    async def delete_session(ls: AgyLanguageServer, params: Any) -> DeleteSessionResult:
        return DeleteSessionResult(deleted=ls.manager.sessions.delete(decode(params, DeleteSessionParams).conversation_id))

    @server.feature(Method.SERVER_INFO)
    @rpc
    async def server_info(ls: AgyLanguageServer, params: Any) -> ServerInfoResult:
        await keystore.ask_if_worth(ls.settings.backend is None)  # a key `agy-lsp login` stored makes it Gemini
        backend, _ = resolve_default_backend(ls.settings)
        return ServerInfoResult(
            name="agy-lsp",
            version=__version__,
            sdk_version=ls.manager.sdk_version(),
            default_backend=describe(backend)["type"],
            state_dir=ls.settings.state_dir,
        )
