"""What identifies a backend: its description (never its key), the quota key it
shares with other agents, and the API key it will use.

No SDK here: the SDK adapter (agy_lsp/sdk/config.py) turns a backend into the
SDK's config.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import msgspec

from agy_lsp import keystore
from agy_lsp.protocol.types import AnyBackend, Gemini, OpenAI, Scripted, Vertex
from agy_lsp.settings import backend_from


def describe(backend: AnyBackend) -> dict[str, Any]:
    """The backend for logs, status and stored metadata: never the key."""
    out: dict[str, Any] = {"type": type(backend).__name__.lower()}
    for field in ("model", "base_url", "project", "location"):
        value = getattr(backend, field, None)
        if value:
            out[field] = value
    return out


def without_key(backend: AnyBackend) -> AnyBackend:
    """The backend as it may be shown: its key left out (a script stays)."""
    return msgspec.structs.replace(backend, api_key=None) if isinstance(backend, (OpenAI, Gemini, Vertex)) else backend


def from_description(described: dict[str, Any]) -> AnyBackend | None:
    """A stored backend back (no key: keys come from the environment again)."""
    backend = backend_from(described.get("type"), described.get("model"), described.get("base_url"), None)
    if isinstance(backend, Vertex):
        backend.project, backend.location = described.get("project"), described.get("location")
    return backend


def api_key(backend: AnyBackend) -> str | None:
    """The key this backend will use: its own, else the environment's."""
    if key := getattr(backend, "api_key", None):
        return key
    if isinstance(backend, (Gemini, Vertex)):
        return keystore.known_key()
    return None


def gemini_api_url() -> str:
    """The Gemini API's address: GOOGLE_GEMINI_BASE_URL when set (the SDK's harness
    honours it too, which is how tests reach the scripted model), else Google's."""
    return (os.environ.get("GOOGLE_GEMINI_BASE_URL") or "https://generativelanguage.googleapis.com").rstrip("/")


def keyless_google(backend: AnyBackend | None) -> bool:
    """A Gemini or Vertex backend without a key of its own (None: the default backend,
    which a stored key would make Gemini)."""
    return backend is None or (isinstance(backend, (Gemini, Vertex)) and not backend.api_key)


def quota_key(backend: AnyBackend) -> str:
    """Agents that share a key and endpoint share a quota (see agents/quota.py).
    The key is hashed so it never shows up anywhere."""
    secret = api_key(backend) or ""
    digest = hashlib.sha256(secret.encode()).hexdigest()[:12] if secret else "nokey"
    endpoint = "scripted" if isinstance(backend, Scripted) else (getattr(backend, "base_url", None) or type(backend).__name__.lower())
    return f"{endpoint}#{digest}"


def model_name(backend: AnyBackend) -> str:
    """The model an agent on this backend talks to, as a person would name it."""
    if isinstance(backend, (Gemini, Vertex)):
        return backend.model or "gemini-2.5-flash"
    if isinstance(backend, OpenAI):
        return backend.model or "default"
    return "scripted"
