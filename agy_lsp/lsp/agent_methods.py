"""agy/createAgent, agy/configureAgent, agy/listAgents, agy/shutdownAgent, agy/deleteAgent, agy/disconnectAgent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agy_lsp.lsp.rpc import decode, rpc
from agy_lsp.protocol.methods import Method
from agy_lsp.protocol.types import AgentRef, ConfigureAgentParams, CreateAgentParams, CreateAgentResult, ListAgentsResult, OkResult

if TYPE_CHECKING:
    from agy_lsp.lsp.language_server import AgyLanguageServer


def register(server: AgyLanguageServer) -> None:
    @server.feature(Method.CREATE_AGENT)
    @rpc
    async def create_agent(ls: AgyLanguageServer, params: Any) -> CreateAgentResult:
        ls.editor.agy_client = True  # it makes agents through agy/*, so it hears about them (declared or not)
        return await ls.manager.create(decode(params, CreateAgentParams))

    @server.feature(Method.CONFIGURE_AGENT)
    @rpc
    async def configure_agent(ls: AgyLanguageServer, params: Any) -> OkResult:
        await ls.manager.configure(decode(params, ConfigureAgentParams))
        return OkResult()

    @server.feature(Method.LIST_AGENTS)
    @rpc
    async def list_agents(ls: AgyLanguageServer, params: Any) -> ListAgentsResult:
        return ListAgentsResult(agents=ls.manager.list())

    @server.feature(Method.SHUTDOWN_AGENT)
    @rpc
    async def shutdown_agent(ls: AgyLanguageServer, params: Any) -> OkResult:
        await ls.manager.shutdown_agent(decode(params, AgentRef).agent_id)
        return OkResult()

    @server.feature(Method.DELETE_AGENT)
    @rpc
    async def delete_agent(ls: AgyLanguageServer, params: Any) -> OkResult:
        await ls.manager.delete_agent(decode(params, AgentRef).agent_id)
        return OkResult()

    @server.feature(Method.DISCONNECT_AGENT)
    @rpc
    async def disconnect_agent(ls: AgyLanguageServer, params: Any) -> OkResult:
        await ls.manager.disconnect_agent(decode(params, AgentRef).agent_id)
        return OkResult()
