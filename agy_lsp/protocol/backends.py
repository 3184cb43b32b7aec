"""Where the model lives: the backend variants of `createAgent.backend` (`type` selects one)."""

from __future__ import annotations

from typing import Any

from agy_lsp.protocol.wire import Wire


class Backend(Wire, tag_field="type", tag=str.lower):
    """Where the model lives. `type` selects the variant."""


class OpenAI(Backend, tag="openai"):
    base_url: str = ""
    model: str = ""
    api_key: str | None = None


class Gemini(Backend, tag="gemini"):
    model: str | None = None
    api_key: str | None = None


class Vertex(Backend, tag="vertex"):
    model: str | None = None
    project: str | None = None
    location: str | None = None
    api_key: str | None = None


class Scripted(Backend, tag="scripted"):
    # A script for the built-in model: a list of replies or {"replies": [...], "fallback": ...}.
    script: Any = None


AnyBackend = OpenAI | Gemini | Vertex | Scripted
