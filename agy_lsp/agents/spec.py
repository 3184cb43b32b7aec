"""An agent's spec: what createAgent asked for, completed from a stored session on
resume, with the backend resolved.

On resume every stored field comes back (name, policies, capabilities, workspaces,
system instructions, response schema, retries, timeout, editor tools, hooks, MCP
servers); a field given in the resume request overrides the stored one. Keys are
never stored: a resumed backend takes its key from the environment (or the OS
keyring, `agy-lsp login`) again.
"""

from __future__ import annotations

from typing import Any

import msgspec

from agy_lsp import keystore
from agy_lsp.agents.store import SessionMeta
from agy_lsp.backends.identity import from_description, keyless_google
from agy_lsp.protocol.errors import invalid_params
from agy_lsp.protocol.types import AnyBackend, CreateAgentParams, Gemini, OpenAI, Vertex
from agy_lsp.settings import Settings, resolve_default_backend

_DEFAULTS = CreateAgentParams()
_FIELDS = [f for f in CreateAgentParams.__struct_fields__ if f not in ("backend", "conversation_id")]


async def resolve_spec(
    params: CreateAgentParams, meta: SessionMeta | None, settings: Settings
) -> tuple[CreateAgentParams, AnyBackend, bool]:
    """(spec, backend, whether the backend is the scripted fallback). A Google backend
    without a key first asks the OS keyring (off the event loop) for one `agy-lsp login` stored."""
    spec, backend, fallback = _resolve(params, meta, settings)
    if await keystore.ask_if_worth(fallback or keyless_google(backend)):
        spec, backend, fallback = _resolve(params, meta, settings)
    return spec, backend, fallback


def _resolve(params: CreateAgentParams, meta: SessionMeta | None, settings: Settings) -> tuple[CreateAgentParams, AnyBackend, bool]:
    spec = params if meta is None else _merged(params, meta.spec)
    backend = params.backend or (from_description(meta.backend) if meta else None)
    fallback = False
    if backend is None:
        backend, note = resolve_default_backend(settings)
        fallback = note is not None
    return spec, backend, fallback


def _merged(given: CreateAgentParams, stored: CreateAgentParams) -> CreateAgentParams:
    """The stored spec with every field the request gave (set to a non-default value)."""
    overrides: dict[str, Any] = {}
    for name in _FIELDS:
        value = getattr(given, name)
        if value != getattr(_DEFAULTS, name):
            overrides[name] = value
    return msgspec.structs.replace(stored, conversation_id=given.conversation_id, **overrides)


def with_model(backend: AnyBackend, model: str) -> AnyBackend:
    """The same backend on another model. InvalidParams for the scripted model, which has one."""
    if isinstance(backend, (Gemini, Vertex, OpenAI)):
        return msgspec.structs.replace(backend, model=model)
    raise invalid_params("the scripted model has no other models", field="model")
