"""A `StartSpec` -> the SDK's agent config (`LocalAgentConfig` for Gemini and Vertex,
`LocalOpenAIAgentConfig` for any OpenAI-compatible endpoint)."""

from __future__ import annotations

import os
from typing import Any

from google.antigravity import CapabilitiesConfig, LocalAgentConfig, LocalOpenAIAgentConfig
from google.antigravity import types as sdk
from google.antigravity.connections.connection import AgentConfig, resolve_active_tools

from agy_lsp.backends.identity import api_key
from agy_lsp.protocol.errors import invalid_params
from agy_lsp.protocol.types import Capabilities, Gemini, McpServer, OpenAI, Vertex
from agy_lsp.sdk import callbacks, policies
from agy_lsp.sdk.port import HarnessCallbacks, StartSpec
from agy_lsp.secrets import register


def build(spec: StartSpec, core: HarnessCallbacks) -> AgentConfig:
    """Raises AgyError (InvalidParams) for a spec the SDK would refuse."""
    ask = callbacks.ask_handler(core)
    common: dict[str, Any] = {
        "system_instructions": spec.system_instructions,
        "capabilities": capabilities(spec.capabilities, spec.hooks),
        "tools": callbacks.editor_tools(spec.editor_tools, core) or None,
        "policies": policies.build(spec.rules, spec.presets, ask, spec.workspaces),
        "hooks": callbacks.hooks(spec.hooks, core),
        "workspaces": spec.workspaces or None,
        "mcp_servers": mcp_servers(spec.mcp_servers),
        "response_schema": spec.response_schema,
        "conversation_id": spec.conversation_id,
        "session_continuation_mode": sdk.SessionContinuationMode.RESUME if spec.resume else None,
        "save_dir": os.path.join(spec.state_dir, "conversations"),
        "app_data_dir": os.path.join(spec.state_dir, "app"),
    }
    common = {k: v for k, v in common.items() if v is not None}
    backend = spec.backend
    if isinstance(backend, OpenAI):
        if not backend.base_url:
            raise invalid_params("backend.baseUrl is required for type 'openai'", field="backend.baseUrl")
        if backend.api_key:
            register(backend.api_key)
            common["env"] = {"OPENAI_API_KEY": backend.api_key}
        return LocalOpenAIAgentConfig(model=backend.model or "default", base_url=backend.base_url, **common)
    key = api_key(backend)
    register(key)
    if isinstance(backend, Gemini):
        if not key:
            raise invalid_params("no Gemini API key: pass backend.apiKey or set GEMINI_API_KEY", field="backend.apiKey")
        return LocalAgentConfig(model=backend.model, api_key=key, **common)
    assert isinstance(backend, Vertex)
    if backend.api_key:  # Vertex express mode
        return LocalAgentConfig(model=backend.model, api_key=backend.api_key, vertex=True, **common)
    if not (backend.project and backend.location):
        raise invalid_params("vertex needs project + location, or an express apiKey", field="backend")
    return LocalAgentConfig(model=backend.model, vertex=True, project=backend.project, location=backend.location, **common)


def capabilities(wanted: Capabilities | None, hooks: list[Any]) -> CapabilitiesConfig | None:
    behavior = wanted.agent_behavior if wanted else None
    if behavior is None and "onInteraction" in hooks:
        behavior = "interactive"  # onInteraction only fires for an interactive agent
    if wanted is None and behavior is None:
        return None
    try:
        return CapabilitiesConfig(
            enabled_tools=wanted.enabled_tools if wanted else None,  # pyright: ignore[reportArgumentType]
            disabled_tools=wanted.disabled_tools if wanted else None,  # pyright: ignore[reportArgumentType]
            agent_behavior=sdk.AgentBehavior(behavior or "autonomous"),
        )
    except Exception as e:
        raise invalid_params(f"invalid capabilities: {e}", field="capabilities", cause=str(e)) from e


def builtin_tools(wanted: Capabilities | None) -> list[str]:
    """The built-in tools an agent with these capabilities has."""
    caps = capabilities(wanted, []) or sdk.CapabilitiesConfig()
    try:
        return sorted(str(getattr(t, "value", t)) for t in resolve_active_tools(caps))
    except Exception:
        return [t.value for t in sdk.BuiltinTools.default()]


def mcp_servers(servers: list[McpServer]) -> list[Any] | None:
    """None when there are none (the SDK then adds no MCP machinery at all)."""
    out: list[Any] = []
    for server in servers:
        common: dict[str, Any] = {
            "name": server.name,
            "timeout_seconds": server.timeout_secs,
            "enabled_tools": server.enabled_tools,
            "disabled_tools": server.disabled_tools,
        }
        try:
            if server.type == "http":
                out.append(sdk.McpStreamableHttpServer(url=server.url or "", headers=server.headers, **common))
            else:
                out.append(sdk.McpStdioServer(command=server.command or "", args=server.args, env=server.env, **common))
        except ValueError as e:  # pydantic's ValidationError is a ValueError
            raise invalid_params(f"mcpServers[{server.name!r}]: {e}", field="mcpServers", server=server.name) from e
    return out or None
