"""Server-wide settings, parsed once into a fully defaulted typed object.

Precedence, lowest first: built-in defaults, environment, CLI flags, then the
client's `initializationOptions` (the editor knows best about its own user).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec

from agy_lsp import keystore
from agy_lsp.protocol.types import AnyBackend, Gemini, OpenAI, Scripted, Vertex


def default_state_dir() -> str:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(base) / "agy-lsp")


class InlineCompletion(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """textDocument/inlineCompletion (standard LSP): off unless turned on, since it spends tokens."""

    enabled: bool = False
    model: str | None = None  # the completions' model on the default backend; None: the default model
    debounce_ms: int = 150  # a typing burst waits this long after its last key


class Settings(msgspec.Struct, rename="camel", kw_only=True):
    backend: AnyBackend | None = None  # None: decided by `resolve_default_backend`
    model: str | None = None  # AGY_MODEL / --model without a backend: the default backend's model
    state_dir: str = msgspec.field(default_factory=default_state_dir)
    chat_timeout_secs: float = 120.0
    query_timeout_secs: float = 10.0
    send_timeout_secs: float = 30.0
    shutdown_timeout_secs: float = 10.0
    confirm_timeout_secs: float = 600.0
    tool_timeout_secs: float = 120.0
    pacing_ms: int = 500
    max_quota_retries: int = 3
    idle_timeout_secs: float = 600.0  # hibernate an agent idle this long; 0 = never
    max_live_agents: int = 8  # live harnesses at most; 0 = no cap
    log_level: str = "info"
    inline_completion: InlineCompletion = msgspec.field(default_factory=InlineCompletion)


def _env_float(name: str) -> float | None:
    value = os.environ.get(name)
    try:
        return float(value) if value else None
    except ValueError:
        return None


def backend_from(kind: str | None, model: str | None, base_url: str | None, api_key: str | None) -> AnyBackend | None:
    """A backend from the flat CLI/environment knobs, or None when nothing was chosen."""
    kind = (kind or "").lower() or None
    if kind is None and base_url:
        kind = "openai"
    if kind == "openai":
        return OpenAI(base_url=base_url or "http://127.0.0.1:11434/v1", model=model or "", api_key=api_key)
    if kind == "gemini":
        return Gemini(model=model, api_key=api_key)
    if kind == "vertex":
        return Vertex(model=model, api_key=api_key)
    if kind == "scripted":
        return Scripted()
    return None


def from_environment(cli: dict[str, Any] | None = None) -> Settings:
    """Settings from the environment, overridden by CLI flags (already parsed)."""
    cli = cli or {}
    settings = Settings()
    model = cli.get("model") or os.environ.get("AGY_MODEL") or None
    backend = backend_from(
        cli.get("backend") or os.environ.get("AGY_BACKEND"),
        model,
        cli.get("base_url") or os.environ.get("AGY_BASE_URL"),
        None,  # keys stay in the environment; see resolve_default_backend
    )
    if backend is not None:
        settings.backend = backend
    else:
        settings.model = model  # for the default backend
    if state_dir := cli.get("state_dir") or os.environ.get("AGY_STATE_DIR"):
        settings.state_dir = state_dir
    for env, attr in (
        ("AGY_CHAT_TIMEOUT_SECS", "chat_timeout_secs"),
        ("AGY_CONFIRM_TIMEOUT_SECS", "confirm_timeout_secs"),
        ("AGY_SHUTDOWN_TIMEOUT_SECS", "shutdown_timeout_secs"),
        ("AGY_TOOL_TIMEOUT_SECS", "tool_timeout_secs"),
        ("AGY_IDLE_TIMEOUT_SECS", "idle_timeout_secs"),
    ):
        if (value := _env_float(env)) is not None:
            setattr(settings, attr, value)
    if (pacing := _env_float("AGY_PACING_MS")) is not None:
        settings.pacing_ms = int(pacing)
    if (live := _env_float("AGY_MAX_LIVE_AGENTS")) is not None:
        settings.max_live_agents = int(live)
    if cli.get("idle_timeout_secs") is not None:
        settings.idle_timeout_secs = cli["idle_timeout_secs"]
    if cli.get("max_live_agents") is not None:
        settings.max_live_agents = cli["max_live_agents"]
    return settings


def merge_initialization_options(settings: Settings, options: Any) -> Settings:
    """Overlay the client's initializationOptions. Raises ValueError on bad input."""
    if not isinstance(options, dict) or not options:
        return settings
    merged: dict[str, Any] = msgspec.to_builtins(settings)
    options = {k: v for k, v in options.items() if k in _FIELD_NAMES}  # pyright: ignore[reportUnknownVariableType]
    merged.update(options)
    try:
        return msgspec.convert(merged, Settings)
    except msgspec.ValidationError as e:
        raise ValueError(f"initializationOptions: {e}") from e


_FIELD_NAMES = {f.encode_name for f in msgspec.structs.fields(Settings)}


def resolve_default_backend(settings: Settings) -> tuple[AnyBackend, str | None]:
    """The backend used when createAgent names none, plus a note for the log when
    we fell back to the scripted model."""
    if settings.backend is not None:
        return settings.backend, None
    if keystore.known_key():  # the environment's, or one `agy-lsp login` stored (looked up by the core)
        return Gemini(model=settings.model), None
    return Scripted(), (
        "No backend configured and no GEMINI_API_KEY: using the built-in scripted model. "
        "Set AGY_BACKEND / AGY_BASE_URL or GEMINI_API_KEY (or run `agy-lsp login`) to talk to a real model."
    )
