"""One AgentSession's createAgent params -> the SDK's agent config."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from agy_lsp.agents import mcp
from agy_lsp.agents.errors import AgyError
from agy_lsp.backends.config import build_config
from agy_lsp.protocol.errors import ErrorCode

if TYPE_CHECKING:
    from agy_lsp.agents.session import AgentSession


def build(session: AgentSession, *, resume: bool) -> Any:
    """Also records the agent's tool names on the session (policies expand globs against them)."""
    from google.antigravity import types as sdk

    params = session.params
    caps = _capabilities(session)
    tools = session.callbacks.sdk_tools()
    session.tool_names = known_tools(caps) + [t.name for t in params.tools]
    state_dir = session.settings.state_dir
    return build_config(
        session.model_backend(),
        system_instructions=params.system_instructions,
        capabilities=caps,
        tools=tools or None,
        policies=session.permissions.sdk_policies(session.tool_names),
        hooks=session.callbacks.sdk_hooks(),
        workspaces=params.workspaces or None,
        mcp_servers=mcp.sdk_servers(params.mcp_servers),
        response_schema=params.response_schema,
        conversation_id=session.conversation_id,
        session_continuation_mode=sdk.SessionContinuationMode.RESUME if resume else None,
        save_dir=os.path.join(state_dir, "conversations"),
        app_data_dir=os.path.join(state_dir, "app"),
    )


def _capabilities(session: AgentSession) -> Any:
    from google.antigravity import CapabilitiesConfig
    from google.antigravity import types as sdk

    wanted = session.params.capabilities
    behavior = wanted.agent_behavior if wanted else None
    if behavior is None and "onInteraction" in session.params.hooks:
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
        raise AgyError(ErrorCode.INVALID_PARAMS, f"invalid capabilities: {e}", {"cause": str(e)}) from e


def known_tools(caps: Any) -> list[str]:
    from google.antigravity import types as sdk
    from google.antigravity.connections.connection import resolve_active_tools

    try:
        return sorted(str(getattr(t, "value", t)) for t in resolve_active_tools(caps or sdk.CapabilitiesConfig()))
    except Exception:
        return [t.value for t in sdk.BuiltinTools.default()]
