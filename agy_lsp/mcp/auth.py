"""Bearer tokens for `agy-lsp --mcp --http`: where they come from, and checking one.

A token is an opaque secret; the server knows each by its *token id* (a short hash
of it), which is what owns sessions (agy_lsp/mcp/owners.py) and what the logs show.
Sources, first found wins: `--token-file` (one token per line; the file must not be
readable or writable by group or others), `AGY_TOKEN`, else a token generated on
the first start and stored 0600 in the state dir (its location printed once).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import sys
from pathlib import Path

from mcp.server.auth.provider import AccessToken

TOKEN_FILE = "mcp-http-token"  # in the state dir, when generated


class TokenError(ValueError):
    """A token source that cannot be used (the message says why and what to do)."""


def token_id(token: str) -> str:
    return "tok-" + hashlib.sha256(token.encode()).hexdigest()[:16]


def read_token_file(path: Path) -> list[str]:
    """The tokens in `path`, one per line (blank lines and `#` comments skipped)."""
    try:
        mode = path.stat().st_mode
    except OSError as e:
        raise TokenError(f"token file {path}: {e.strerror}") from e
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TokenError(f"token file {path} is accessible by group or others (mode {stat.filemode(mode)}): chmod 600 {path}")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    tokens = [line for line in lines if line and not line.startswith("#")]
    if not tokens:
        raise TokenError(f"token file {path} has no token")
    if short := [t for t in tokens if len(t) < 16]:
        raise TokenError(f"token file {path}: {len(short)} token(s) shorter than 16 characters")
    return tokens


def generated_token(state_dir: Path) -> list[str]:
    """The state dir's token, made now (0600, location printed to stderr) if there is none."""
    path = state_dir / TOKEN_FILE
    if path.exists():
        return read_token_file(path)
    state_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    print(
        f"agy-lsp: generated an access token for --mcp --http, stored in {path} (send it as 'Authorization: Bearer <token>')",
        file=sys.stderr,
    )
    return [token]


def load_tokens(token_file: str | None, state_dir: str) -> list[str]:
    if token_file:
        return read_token_file(Path(token_file).expanduser())
    if env := os.environ.get("AGY_TOKEN", "").strip():
        if len(env) < 16:
            raise TokenError("AGY_TOKEN is shorter than 16 characters")
        return [env]
    return generated_token(Path(state_dir).expanduser())


class Tokens:
    """The `mcp` package's TokenVerifier: a bearer token is accepted when it equals one
    of ours, compared in constant time against every one (no early exit)."""

    def __init__(self, tokens: list[str]) -> None:
        self._tokens = [(t.encode(), token_id(t)) for t in tokens]

    def identify(self, token: str) -> str | None:
        given, found = token.encode(), None
        for secret, ident in self._tokens:
            if hmac.compare_digest(given, secret):
                found = ident
        return found

    async def verify_token(self, token: str) -> AccessToken | None:
        ident = self.identify(token)
        return None if ident is None else AccessToken(token=token, client_id=ident, scopes=[])
