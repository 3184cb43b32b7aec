"""A `StartSpec` -> the SDK's agent config (`LocalAgentConfig` for Gemini and Vertex,
`LocalOpenAIAgentConfig` for any OpenAI-compatible endpoint). The agent options
themselves are mapped in sdk/options.py."""

from __future__ import annotations

import os
from typing import Any

from google.antigravity import LocalAgentConfig, LocalOpenAIAgentConfig
from google.antigravity import types as sdk
from google.antigravity.connections.connection import AgentConfig
from google.antigravity.models import DEFAULT_MODEL, GeminiAPIEndpoint, ModelTarget, ModelType, VertexEndpoint

from agy_lsp.backends.identity import api_key
from agy_lsp.protocol.errors import invalid_params
from agy_lsp.protocol.types import Gemini, McpServer, OpenAI, Vertex
from agy_lsp.sdk import callbacks, options, policies
from agy_lsp.sdk.commands import Commands
from agy_lsp.sdk.options import checked
from agy_lsp.sdk.port import HarnessCallbacks, StartSpec
from agy_lsp.secrets import register
from agy_lsp.settings import SettingsError, check_base_url


def build(spec: StartSpec, core: HarnessCallbacks, commands: Commands | None = None) -> AgentConfig:
    """Raises AgyError (InvalidParams) for a spec the SDK would refuse. `commands`
    follows the started harness's shell commands (sdk/commands.py)."""
    commands = commands or Commands()
    ask = callbacks.ask_handler(core)
    skills_paths, inline_skills = options.skills(spec.skills)
    common: dict[str, Any] = {
        "system_instructions": options.system_instructions(spec.system_instructions),
        "capabilities": options.capabilities(spec),
        "tools": callbacks.editor_tools(spec.editor_tools, core) or None,
        "policies": policies.build(spec.rules, spec.presets, ask, spec.workspaces),
        "hooks": callbacks.hooks(spec.hooks, core, commands, frozenset(t.name for t in spec.editor_tools)),
        "workspaces": spec.workspaces or None,
        "mcp_servers": mcp_servers(spec.mcp_servers),
        "response_schema": spec.response_schema,
        "conversation_id": spec.conversation_id,
        "session_continuation_mode": sdk.SessionContinuationMode.RESUME if spec.resume else None,
        "save_dir": os.path.join(spec.state_dir, "conversations"),
        "app_data_dir": os.path.join(spec.state_dir, "app"),
        "budget_config": options.budget(spec.budget),
        "compaction_config": options.compaction(spec.compaction),
        "subagents": options.subagents(spec.subagents),
        "skills_paths": skills_paths,
        "inline_skills": inline_skills,
    }
    common = {k: v for k, v in common.items() if v is not None}
    backend = spec.backend
    gemini_options = options.model_options(spec.model_options)
    if isinstance(backend, OpenAI):
        if not backend.base_url:
            raise invalid_params("backend.baseUrl is required for type 'openai'", field="backend.baseUrl")
        try:  # else the harness fails only at the first turn ("unsupported protocol scheme")
            check_base_url(backend.base_url, "backend.baseUrl")
        except SettingsError as e:
            raise invalid_params(str(e), field="backend.baseUrl") from None
        if gemini_options is not None:
            raise invalid_params("modelOptions apply to Gemini and Vertex models only", field="modelOptions")
        if backend.api_key:
            register(backend.api_key)
            common["env"] = {"OPENAI_API_KEY": backend.api_key}
        base_url = backend.base_url
        return checked("createAgent", lambda: LocalOpenAIAgentConfig(model=backend.model or "default", base_url=base_url, **common))
    key = api_key(backend)
    register(key)
    if isinstance(backend, Gemini):
        if not key:
            raise invalid_params("no Gemini API key: pass backend.apiKey or set GEMINI_API_KEY", field="backend.apiKey")
        target = _target(backend.model, GeminiAPIEndpoint(api_key=key, options=gemini_options))
        return checked("createAgent", lambda: LocalAgentConfig(model=target, api_key=key, **common))
    assert isinstance(backend, Vertex)
    if backend.api_key:  # Vertex express mode
        express = backend.api_key
        target = _target(backend.model, VertexEndpoint(api_key=express, options=gemini_options))
        return checked("createAgent", lambda: LocalAgentConfig(model=target, api_key=express, vertex=True, **common))
    project, location = backend.project, backend.location
    if not (project and location):
        raise invalid_params("vertex needs project + location, or an express apiKey", field="backend")
    target = _target(backend.model, VertexEndpoint(project=project, location=location, options=gemini_options))
    return checked("createAgent", lambda: LocalAgentConfig(model=target, vertex=True, project=project, location=location, **common))


def _target(model: str | None, endpoint: Any) -> ModelTarget:
    """The text model on its endpoint, where the Gemini model options live."""
    return ModelTarget(name=model or DEFAULT_MODEL, types=[ModelType.TEXT], endpoint=endpoint)


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
