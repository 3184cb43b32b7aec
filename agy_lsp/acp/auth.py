"""ACP authentication as agy-lsp really needs it: a Google key in the environment
(the Gemini API) or in the OS keyring (`agy-lsp login`), or a Vertex project and
location. The env_var methods tell the client which variables to set; where the
client can run a terminal method, `agy-lsp login` asks the person for the key and
stores it in the keyring. `authenticate` checks, so a missing key is a clear error
at once rather than a failed first prompt.
"""

from __future__ import annotations

import os

from acp import RequestError
from acp.schema import AuthEnvVar, AuthMethodAgent, EnvVarAuthMethod, TerminalAuthMethod

from agy_lsp import keystore

GEMINI, VERTEX, LOGIN = "gemini-api-key", "vertex", "agy-login"
AUTH_REQUIRED = -32000  # ACP's "authentication required"

METHODS = [
    EnvVarAuthMethod(
        type="env_var",
        id=GEMINI,
        name="Gemini API key",
        description="A Gemini API key in GEMINI_API_KEY (or GOOGLE_API_KEY) in agy-lsp's environment, or stored by `agy-lsp login`.",
        vars=[AuthEnvVar(name="GEMINI_API_KEY", label="Gemini API key")],
        link="https://aistudio.google.com/apikey",
    ),
    EnvVarAuthMethod(
        type="env_var",
        id=VERTEX,
        name="Vertex AI",
        description=(
            "AGY_BACKEND=vertex with a Google Cloud project and location (Application Default Credentials), "
            "or a Vertex express-mode key in GOOGLE_API_KEY."
        ),
        vars=[
            AuthEnvVar(name="AGY_BACKEND", label="vertex", secret=False),
            AuthEnvVar(name="GOOGLE_CLOUD_PROJECT", label="Project", secret=False, optional=True),
            AuthEnvVar(name="GOOGLE_CLOUD_LOCATION", label="Location (e.g. us-central1)", secret=False, optional=True),
            AuthEnvVar(name="GOOGLE_API_KEY", label="Express-mode key", optional=True),
        ],
    ),
]


# Offered only to a client that can run it (clientCapabilities.auth.terminal).
LOGIN_METHOD = TerminalAuthMethod(
    type="terminal",
    id=LOGIN,
    name="Log in with a Gemini API key",
    description="Runs `agy-lsp login`: asks for a Gemini API key, checks it and keeps it in the OS keyring (never in a file).",
    args=["login"],
)


def methods(terminal: bool) -> list[EnvVarAuthMethod | TerminalAuthMethod | AuthMethodAgent]:
    return [*METHODS, LOGIN_METHOD] if terminal else list(METHODS)


async def check(method_id: str) -> None:
    """Raises a clear error when the method's credentials are not there."""
    if method_id in (GEMINI, LOGIN):
        await keystore.ask_if_worth(True)  # afresh: `agy-lsp login` may have just run
        if not keystore.known_key():
            raise RequestError(
                AUTH_REQUIRED,
                "no Gemini API key: set GEMINI_API_KEY in the environment the editor starts agy-lsp with, "
                "or run `agy-lsp login` (get a key at https://aistudio.google.com/apikey)",
                {"methodId": method_id, "missing": ["GEMINI_API_KEY"]},
            )
        return
    if method_id == VERTEX:
        missing = [v for v in ("GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION") if not os.environ.get(v)]
        if missing and not os.environ.get("GOOGLE_API_KEY"):
            raise RequestError(
                AUTH_REQUIRED,
                f"Vertex AI needs {' and '.join(missing)} (or an express-mode GOOGLE_API_KEY) in agy-lsp's environment",
                {"methodId": method_id, "missing": missing},
            )
        return
    raise RequestError(-32602, f"unknown auth method {method_id!r}", {"field": "methodId", "methods": [GEMINI, VERTEX, LOGIN]})


def vertex_from_env() -> dict[str, str]:
    """The project and location a Vertex backend without them takes from the environment."""
    out = {k: v for k, e in (("project", "GOOGLE_CLOUD_PROJECT"), ("location", "GOOGLE_CLOUD_LOCATION")) if (v := os.environ.get(e))}
    return out
