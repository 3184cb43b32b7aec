"""Server-wide settings, parsed once into a fully defaulted typed object.

Precedence, lowest first: built-in defaults, environment, CLI flags, then the
client's `initializationOptions` (the editor knows best about its own user).
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path
from typing import Annotated, Any

import msgspec

from agy_lsp import keystore
from agy_lsp.protocol.types import AnyBackend, Gemini, OpenAI, Scripted, Vertex


def default_state_dir() -> str:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(base) / "agy-lsp")


# Negative values mean nothing here, from initializationOptions as from the environment.
Seconds = Annotated[float, msgspec.Meta(ge=0)]
Count = Annotated[int, msgspec.Meta(ge=0)]


class InlineCompletion(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """textDocument/inlineCompletion (standard LSP): off unless turned on, since it spends tokens."""

    enabled: bool = False
    model: str | None = None  # the completions' model on the default backend; None: the default model
    debounce_ms: int = 150  # a typing burst waits this long after its last key


class Settings(msgspec.Struct, rename="camel", kw_only=True):
    backend: AnyBackend | None = None  # None: decided by `resolve_default_backend`
    model: str | None = None  # AGY_MODEL / --model without a backend: the default backend's model
    state_dir: str = msgspec.field(default_factory=default_state_dir)
    chat_timeout_secs: Seconds = 120.0
    query_timeout_secs: Seconds = 10.0
    send_timeout_secs: Seconds = 30.0
    shutdown_timeout_secs: Seconds = 10.0
    confirm_timeout_secs: Seconds = 600.0
    tool_timeout_secs: Seconds = 120.0
    pacing_ms: Count = 500
    max_quota_retries: Count = 3
    idle_timeout_secs: Seconds = 600.0  # hibernate an agent idle this long; 0 = never
    max_live_agents: Count = 8  # live harnesses at most; 0 = no cap
    log_level: str = "info"
    inline_completion: InlineCompletion = msgspec.field(default_factory=InlineCompletion)


BACKENDS = ("gemini", "vertex", "openai", "scripted")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


class SettingsError(ValueError):
    """A flag or environment variable with a value we cannot use; the text names
    the variable, the value and what is allowed (one line, for stderr)."""


def check_base_url(value: str, name: str = "baseUrl") -> str:
    """An OpenAI-compatible endpoint must be an http(s) URL with a host: the harness
    would only fail at the first turn ("unsupported protocol scheme")."""
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme.lower() not in ("http", "https") or not parsed.netloc:
        raise SettingsError(f"{name}={value!r} is not an http(s) URL; give one such as http://127.0.0.1:11434/v1")
    return value


def check_backend(value: str, name: str = "AGY_BACKEND") -> str:
    if value.lower() not in BACKENDS:
        raise SettingsError(f"{name}={value!r} is not a backend; use one of {', '.join(BACKENDS)}")
    return value.lower()


def check_log_level(value: str, name: str = "AGY_LOG_LEVEL") -> str:
    if value.lower() not in LOG_LEVELS:
        raise SettingsError(f"{name}={value!r} is not a log level; use one of {', '.join(LOG_LEVELS)}")
    return value.lower()


def check_number(value: str, name: str, *, whole: bool = False, meaning: str = "") -> float:
    """A number >= 0 from a flag or the environment (`whole`: an integer)."""
    what = "a whole number" if whole else "a number"
    allowed = f"{what} >= 0" + (f" ({meaning})" if meaning else "")
    try:
        number = int(value) if whole else float(value)
    except ValueError:
        raise SettingsError(f"{name}={value!r} is not {what}; use {allowed}") from None
    if not number >= 0 or number == float("inf"):  # also NaN
        raise SettingsError(f"{name}={value!r} is out of range; use {allowed}")
    return number


# Environment variable -> (attribute, integer?, what 0 means).
_NUMBERS: dict[str, tuple[str, bool, str]] = {
    "AGY_CHAT_TIMEOUT_SECS": ("chat_timeout_secs", False, ""),
    "AGY_CONFIRM_TIMEOUT_SECS": ("confirm_timeout_secs", False, ""),
    "AGY_SHUTDOWN_TIMEOUT_SECS": ("shutdown_timeout_secs", False, ""),
    "AGY_TOOL_TIMEOUT_SECS": ("tool_timeout_secs", False, ""),
    "AGY_IDLE_TIMEOUT_SECS": ("idle_timeout_secs", False, "0 = never"),
    "AGY_PACING_MS": ("pacing_ms", True, "0 = no pacing"),
    "AGY_MAX_LIVE_AGENTS": ("max_live_agents", True, "0 = no cap"),
}


def _env(name: str) -> str | None:
    """An environment variable, None when unset or blank (blank means unset)."""
    value = os.environ.get(name, "").strip()
    return value or None


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
    """Settings from the environment, overridden by CLI flags (already parsed).
    Raises SettingsError for a value that is set but unusable (never ignores it)."""
    cli = cli or {}
    settings = Settings()
    model = cli.get("model") or _env("AGY_MODEL")
    kind = cli.get("backend") or ((env_kind := _env("AGY_BACKEND")) and check_backend(env_kind))
    if cli.get("base_url"):
        base_url = check_base_url(cli["base_url"], "--base-url")
    elif env_url := _env("AGY_BASE_URL"):
        base_url = check_base_url(env_url, "AGY_BASE_URL")
    else:
        base_url = None
    backend = backend_from(kind, model, base_url, None)  # keys stay in the environment; see resolve_default_backend
    if backend is not None:
        settings.backend = backend
    else:
        settings.model = model  # for the default backend
    if state_dir := cli.get("state_dir") or _env("AGY_STATE_DIR"):
        settings.state_dir = state_dir
    for env, (attr, whole, meaning) in _NUMBERS.items():
        if (value := _env(env)) is not None:
            setattr(settings, attr, check_number(value, env, whole=whole, meaning=meaning))
    if (level := _env("AGY_LOG_LEVEL")) is not None:
        settings.log_level = check_log_level(level)
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
