"""`agy-lsp --mcp --http [HOST:]PORT`: the same MCP server as on stdio, shared by
several hosts over Streamable HTTP (the `mcp` package's transport and session
manager, served by uvicorn), at `http://HOST:PORT/mcp`.

- Both protocol eras the package serves: session-based (2025-*, `Mcp-Session-Id`,
  resumable through the event store and `Last-Event-ID`) and the stateless 2026-07-28.
- Every request needs `Authorization: Bearer <token>` (auth.py; else 401). Host and
  Origin are checked first (the package's TransportSecurityMiddleware; a foreign one
  gets 421/403 whatever the token), against DNS rebinding.
- Each token sees only the sessions it started (owners.py), unless `--shared`.
- Limits: sessions per token (429), request body size (413), live harnesses (the core).
- A session whose host went away (no request in flight, no stream open) ends after
  the grace period, and with it any turn it still runs (cancelled through the core).
- SIGTERM: no new connections; requests in flight get `shutdown_timeout_secs` to
  finish, then are cancelled; every agent is then closed (stored) and the process exits.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import signal
import socket
import sys
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import anyio
import uvicorn
from mcp.server.auth.settings import AuthSettings
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from agy_lsp.agents.manager import AgentManager
from agy_lsp.mcp.auth import Tokens, load_tokens
from agy_lsp.mcp.events import MemoryEventStore
from agy_lsp.mcp.http_editor import HttpEditor
from agy_lsp.mcp.owners import Owners
from agy_lsp.mcp.server import build_server
from agy_lsp.settings import Settings

log = logging.getLogger(__name__)

PATH = "/mcp"
DEFAULT_GRACE_SECS = 300.0
DEFAULT_MAX_BODY = 4 * 1024 * 1024
DEFAULT_SESSIONS_PER_TOKEN = 16
RETRY_MS = 1000  # the SSE `retry` a client waits before resuming a dropped stream


@dataclass
class HttpOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    allow_remote: bool = False
    token_file: str | None = None
    shared: bool = False
    roots: list[str] = field(default_factory=list[str])
    allowed_hosts: list[str] = field(default_factory=list[str])  # extra Host/Origin names (behind a proxy)
    grace_secs: float = DEFAULT_GRACE_SECS
    max_body_bytes: int = DEFAULT_MAX_BODY
    sessions_per_token: int = DEFAULT_SESSIONS_PER_TOKEN


def parse_bind(value: str) -> tuple[str, int]:
    """`PORT`, `HOST:PORT` or `[IPv6]:PORT`. ValueError when it is none of them."""
    host, _, port = value.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--http {value!r}: expected [HOST:]PORT")
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def security(opts: HttpOptions) -> TransportSecuritySettings:
    """Host and Origin a request may carry: loopback names (any port), the bound host,
    and the names given with --allow-host."""
    hosts = ["127.0.0.1", "localhost", "[::1]"]
    bound = f"[{opts.host}]" if ":" in opts.host else opts.host
    for name in [bound, *opts.allowed_hosts]:
        if name not in hosts and name not in ("0.0.0.0", "[::]"):
            hosts.append(name)
    allowed_hosts = [h for name in hosts for h in (name, f"{name}:*")]
    origins = [o for name in hosts for scheme in ("http", "https") for o in (f"{scheme}://{name}", f"{scheme}://{name}:*")]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=allowed_hosts, allowed_origins=origins)


class Gate:
    """In front of the package's app: Host/Origin first (so a rebinding page learns
    nothing, not even whether its token is right), then the per-token session limit
    on a request that would open a session."""

    def __init__(
        self, app: ASGIApp, settings: TransportSecuritySettings, tokens: Tokens, manager: StreamableHTTPSessionManager, limit: int
    ) -> None:
        self.app = app
        self.check = TransportSecurityMiddleware(settings)
        self.tokens = tokens
        self.manager = manager
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            refused = await self.check.validate_request(request)
            if refused is None and self._opens_session(request) and self._sessions_of(request) >= self.limit:
                refused = _error(429, f"too many open sessions for this token (at most {self.limit}); end one or let one expire")
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _opens_session(request: Request) -> bool:
        version = request.headers.get(MCP_PROTOCOL_VERSION_HEADER)
        stateless = version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS
        return request.method == "POST" and MCP_SESSION_ID_HEADER not in request.headers and not stateless

    def _sessions_of(self, request: Request) -> int:
        header = request.headers.get("authorization", "")
        who = self.tokens.identify(header[7:]) if header.lower().startswith("bearer ") else None
        if who is None:
            return 0  # the auth middleware answers 401
        owners = self.manager._session_owners  # pyright: ignore[reportPrivateUsage]  # the package's own record of who opened each session
        return sum(1 for owner in owners.values() if owner["client_id"] == who)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}, status_code=status)


class _Uvicorn(uvicorn.Server):
    """uvicorn re-raises the signal that stopped it once it is done: we have agents to
    close after that, so the signal only stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by the accepted connections: without it each SSE response's last small
    # write waits for the client's delayed ACK, 40 ms a request on loopback (was 48 ms, now 3).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(False)
    return sock


def _prepare(settings: Settings, opts: HttpOptions) -> tuple[Tokens, socket.socket]:
    """The tokens and the listening socket; ValueError/OSError on a bad configuration."""
    if not is_loopback(opts.host) and not opts.allow_remote:
        raise ValueError(f"--http {opts.host}: binding beyond loopback needs --allow-remote (and TLS in front: docs/mcp.md)")
    tokens = Tokens(load_tokens(opts.token_file, settings.state_dir))
    for root in opts.roots:
        if not os.path.isdir(root):
            raise ValueError(f"--root {root}: not a directory")
    return tokens, _listen(opts.host, opts.port)


async def run_mcp_http(settings: Settings, opts: HttpOptions) -> int:
    """Serve MCP hosts over HTTP until SIGTERM/SIGINT. 2 on a bad configuration."""
    try:
        tokens, sock = _prepare(settings, opts)
    except (ValueError, OSError) as e:
        print(f"agy-lsp: {e}", file=sys.stderr)
        return 2
    editor = HttpEditor()  # each turn asks through its own host (http_editor.py)
    async with AgentManager(settings, editor) as manager:
        manager.announce_fallback()
        async with anyio.create_task_group() as tg:
            owners = Owners(settings.state_dir, shared=opts.shared, roots=opts.roots)
            server = build_server(manager, editor, tg, opts.roots[0] if opts.roots else os.getcwd(), owners)
            checks = security(opts)
            app = server.streamable_http_app(
                streamable_http_path=PATH,
                event_store=MemoryEventStore(),
                retry_interval=RETRY_MS,
                max_request_body_size=opts.max_body_bytes,
                session_idle_timeout=opts.grace_secs,
                transport_security=checks,
                host=opts.host,
                auth=AuthSettings(issuer_url="http://127.0.0.1", resource_server_url=None),  # pyright: ignore[reportArgumentType]
                token_verifier=tokens,
            )
            gate = Gate(app, checks, tokens, server.session_manager, opts.sessions_per_token)
            config = uvicorn.Config(
                gate,
                log_config=None,
                log_level=logging.getLogger().level,
                access_log=False,
                lifespan="on",
                timeout_graceful_shutdown=max(1, int(settings.shutdown_timeout_secs)),
            )
            web = _Uvicorn(config)
            host, port = sock.getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            print(f"agy-lsp: serving MCP on http://{shown}:{port}{PATH}", file=sys.stderr, flush=True)
            await web.serve(sockets=[sock])
            log.info("HTTP server stopped: closing every agent")
            tg.cancel_scope.cancel()
        with anyio.move_on_after(settings.shutdown_timeout_secs + 5, shield=True):
            await manager.close_all()
    logging.shutdown()
    sys.stderr.flush()
    os._exit(0)  # harness threads of the SDK are daemonic; do not wait on them


def options_from(ns: Any) -> HttpOptions:
    """HttpOptions from the parsed command line (cli.py), AGY_HTTP_* for what is not given."""
    host, port = parse_bind(ns.http or os.environ.get("AGY_HTTP", "8765"))
    env_roots = [r for r in os.environ.get("AGY_ROOTS", "").split(os.pathsep) if r]
    limits = {"--grace-secs": ns.grace_secs, "--max-body-bytes": ns.max_body_bytes, "--sessions-per-token": ns.sessions_per_token}
    for flag, value in limits.items():
        if value is not None and not value > 0:
            raise ValueError(f"{flag} must be positive")
    return HttpOptions(
        host=host,
        port=port,
        allow_remote=ns.allow_remote,
        token_file=ns.token_file or os.environ.get("AGY_TOKEN_FILE") or None,
        shared=ns.shared,
        roots=[os.path.abspath(os.path.expanduser(r)) for r in (ns.root or env_roots)],
        allowed_hosts=list(ns.allow_host or []),
        grace_secs=ns.grace_secs if ns.grace_secs is not None else float(os.environ.get("AGY_HTTP_GRACE_SECS") or DEFAULT_GRACE_SECS),
        max_body_bytes=ns.max_body_bytes or DEFAULT_MAX_BODY,
        sessions_per_token=ns.sessions_per_token or DEFAULT_SESSIONS_PER_TOKEN,
    )
