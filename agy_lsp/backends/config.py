"""Backend spec (wire type) -> the SDK's AgentConfig.

The SDK is imported lazily, inside functions: `initialize` must not pay for it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from agy_lsp.agents import secrets
from agy_lsp.protocol.types import AnyBackend, Gemini, OpenAI, Scripted, Vertex

if TYPE_CHECKING:
    from google.antigravity.connections.connection import AgentConfig


class BackendConfigError(ValueError):
    """The backend spec cannot work (a missing key, a bad script)."""


def describe(backend: AnyBackend) -> dict[str, Any]:
    """The backend for logs, status and stored metadata: never the key."""
    out: dict[str, Any] = {"type": type(backend).__name__.lower()}
    for field in ("model", "base_url", "project", "location"):
        value = getattr(backend, field, None)
        if value:
            out[field] = value
    return out


def quota_key(backend: AnyBackend) -> str:
    """Agents that share a key and endpoint share a quota (see agents/quota.py).
    The key is hashed so it never shows up anywhere."""
    import hashlib

    secret = getattr(backend, "api_key", None) or _env_key(backend) or ""
    digest = hashlib.sha256(secret.encode()).hexdigest()[:12] if secret else "nokey"
    endpoint = getattr(backend, "base_url", None) or type(backend).__name__.lower()
    if isinstance(backend, Scripted):
        endpoint = "scripted"
    return f"{endpoint}#{digest}"


def _env_key(backend: AnyBackend) -> str | None:
    if isinstance(backend, (Gemini, Vertex)):
        return os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY")
    return None


def build_config(backend: OpenAI | Gemini | Vertex, **common: Any) -> AgentConfig:
    """An SDK config for `backend`; `common` holds the backend-independent fields
    (tools, policies, hooks, workspaces, save_dir, ...). A scripted backend is first
    turned into an OpenAI one by its session (see AgentSession._model_backend)."""
    from google.antigravity import LocalAgentConfig, LocalOpenAIAgentConfig

    common = {k: v for k, v in common.items() if v is not None}
    secrets.register(getattr(backend, "api_key", None))
    if isinstance(backend, OpenAI):
        if not backend.base_url:
            raise BackendConfigError("backend.baseUrl is required for type 'openai'")
        env = dict(common.pop("env", None) or {})
        if backend.api_key:
            env["OPENAI_API_KEY"] = backend.api_key
        if env:
            common["env"] = env
        return LocalOpenAIAgentConfig(model=backend.model or "default", base_url=backend.base_url, **common)
    if isinstance(backend, Gemini):
        key = backend.api_key or _env_key(backend)
        if not key:
            raise BackendConfigError("no Gemini API key: pass backend.apiKey or set GEMINI_API_KEY")
        return LocalAgentConfig(model=backend.model, api_key=key, **common)
    if backend.api_key:  # Vertex express mode
        return LocalAgentConfig(model=backend.model, api_key=backend.api_key, vertex=True, **common)
    if not (backend.project and backend.location):
        raise BackendConfigError("vertex needs project + location, or an express apiKey")
    return LocalAgentConfig(model=backend.model, vertex=True, project=backend.project, location=backend.location, **common)
