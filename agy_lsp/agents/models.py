"""Which models a backend offers, how large each one's context window is, and what
its tokens cost. Front-end neutral: ACP shows them as the `model` option and in
`usage_update`; any front-end may.

- The model list comes from the backend: the Gemini API's `models.list` (only the
  models that can `generateContent`) when a key is present, an OpenAI-compatible
  server's `GET /v1/models`, the scripted model's own. Vertex has no key-only list
  (it needs OAuth), so it offers the catalogue below. A list that cannot be fetched
  (offline, a bad key) falls back to the catalogue, never to an error.
- A context window is the model's own figure when its endpoint reports one
  (`inputTokenLimit` from the Gemini API; `context_length`, `max_model_len` or
  `context_window` from an OpenAI-compatible server), else the table below; unknown
  otherwise (None: the caller says nothing rather than guess).
- Prices (USD per million tokens, the Gemini API's paid tier, standard service) are
  in `PRICES`; docs/acp.md has the table and its date.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import anyio

from agy_lsp.backends.identity import api_key, gemini_api_url, model_name
from agy_lsp.protocol.types import AnyBackend, Gemini, OpenAI, Usage, Vertex

log = logging.getLogger(__name__)

# Input token limits, as Google's model pages list them (ai.google.dev/gemini-api/docs/models,
# "Input token limit"; checked 2026-03). The scripted model has no limit of its own: it
# declares the Gemini figure so that a meter over it means something.
CONTEXT_WINDOWS: dict[str, int] = {
    "gemini-3-pro-preview": 1_048_576,
    "gemini-2.5-pro": 1_048_576,
    "gemini-2.5-flash": 1_048_576,
    "gemini-2.5-flash-lite": 1_048_576,
    "gemini-2.0-flash": 1_048_576,
    "gemini-2.0-flash-lite": 1_048_576,
    "scripted": 1_048_576,
}

# USD per million tokens: (input, output incl. thinking), and for gemini-2.5-pro the
# rates past 200k prompt tokens. Google's Gemini API pricing page, paid tier, 2026-03.
PRICES: dict[str, tuple[float, float]] = {
    "gemini-2.5-pro": (1.25, 10.0),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-flash-lite": (0.10, 0.40),
    "gemini-2.0-flash": (0.10, 0.40),
    "gemini-2.0-flash-lite": (0.075, 0.30),
}
_LONG_PROMPT = 200_000
_LONG_PRICES: dict[str, tuple[float, float]] = {"gemini-2.5-pro": (2.50, 15.0)}

# Offered when a backend cannot be asked.
CATALOG = ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite"]

_TIMEOUT_SECS = 4.0
_CACHE_SECS = 600.0


@dataclass
class ModelInfo:
    id: str
    context_window: int | None = None


_cache: dict[str, tuple[float, list[ModelInfo]]] = {}
_reported: dict[str, int] = {}  # context windows endpoints reported, by model id


def context_window(model: str) -> int | None:
    return _reported.get(model) or CONTEXT_WINDOWS.get(_base(model))


def cost(model: str, usage: Usage) -> float | None:
    """What one turn's tokens cost in USD, where the model's price is known."""
    base = _base(model)
    price = PRICES.get(base)
    if price is None:
        return None
    if usage.prompt_tokens > _LONG_PROMPT and base in _LONG_PRICES:
        price = _LONG_PRICES[base]
    out = usage.candidates_tokens + usage.thoughts_tokens
    return (usage.prompt_tokens * price[0] + out * price[1]) / 1_000_000


def _base(model: str) -> str:
    """`models/gemini-2.5-flash-001` and `gemini-2.5-flash-latest` price as `gemini-2.5-flash`."""
    name = model.removeprefix("models/")
    for known in sorted(set(CONTEXT_WINDOWS) | set(PRICES), key=len, reverse=True):
        if name == known or (name.startswith(known + "-") and name[len(known) + 1 :].split("-")[0] in ("001", "002", "latest")):
            return known
    return name


async def available(backend: AnyBackend) -> list[ModelInfo]:
    """The backend's models, the current one first; cached for a while per endpoint."""
    current = model_name(backend)
    key, url = _endpoint(backend)
    listed: list[ModelInfo] = []
    if url is not None:
        hit = _cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < _CACHE_SECS:
            listed = hit[1]
        else:
            try:
                listed = await anyio.to_thread.run_sync(_fetch, backend, url)
                _cache[key] = (time.monotonic(), listed)
            except Exception as e:  # offline, a bad key, not an OpenAI-compatible server
                log.info("could not list the models of %s: %s", key, e)
    if not listed and isinstance(backend, (Gemini, Vertex)):
        listed = [ModelInfo(m, CONTEXT_WINDOWS.get(m)) for m in CATALOG]
    for m in listed:
        if m.context_window:
            _reported[m.id] = m.context_window
    out = [ModelInfo(current, context_window(current))]
    out += [m for m in listed if m.id != current]
    return out


def _endpoint(backend: AnyBackend) -> tuple[str, str | None]:
    if isinstance(backend, OpenAI):
        return backend.base_url, backend.base_url.rstrip("/") + "/models"
    if isinstance(backend, Gemini) and api_key(backend):
        base = gemini_api_url()
        return "gemini:" + base, base + "/v1beta/models?pageSize=1000"
    return type(backend).__name__, None


def _fetch(backend: AnyBackend, url: str) -> list[ModelInfo]:
    headers = {"Accept": "application/json"}
    key = api_key(backend)
    if isinstance(backend, Gemini) and key:
        headers["x-goog-api-key"] = key
    elif key:
        headers["Authorization"] = f"Bearer {key}"
    import urllib.parse
    import urllib.request  # http.client, email: ~20 ms of imports, not on the way to `initialize`

    request = urllib.request.Request(url, headers=headers)
    if urllib.parse.urlparse(url).scheme not in ("http", "https"):
        raise ValueError(f"not an http url: {url}")
    with urllib.request.urlopen(request, timeout=_TIMEOUT_SECS) as response:
        body: Any = json.loads(response.read(4_000_000))
    if isinstance(backend, Gemini):
        return [
            ModelInfo(str(m["name"]).removeprefix("models/"), m.get("inputTokenLimit"))
            for m in body.get("models", [])
            if "generateContent" in m.get("supportedGenerationMethods", ["generateContent"])
        ]
    out: list[ModelInfo] = []
    for m in body.get("data", []):
        window = next((m[k] for k in ("context_length", "max_model_len", "context_window") if isinstance(m.get(k), int)), None)
        out.append(ModelInfo(str(m["id"]), window))
    return out
