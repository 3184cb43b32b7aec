"""`agy-lsp` command line: the LSP server (default), `--acp`, `--mcp`, and `chat`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from agy_lsp import __version__


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="agy-lsp",
        description="Google Antigravity agents over LSP (default), ACP or MCP, on stdio.",
        epilog=(
            "other commands: `agy-lsp chat` (a terminal chat), `agy-lsp login` (keep a Gemini API key "
            "in the OS keyring), `agy-lsp logout` (remove it); each takes --help"
        ),
    )
    p.add_argument("--version", action="version", version=f"agy-lsp {__version__}")
    p.add_argument("--acp", action="store_true", help="speak the Agent Client Protocol instead of LSP")
    p.add_argument("--mcp", action="store_true", help="serve agents as tools to an MCP host (Model Context Protocol) instead of LSP")
    p.add_argument("--backend", choices=["gemini", "vertex", "openai", "scripted"], help="default backend (AGY_BACKEND)")
    p.add_argument("--model", help="default model (AGY_MODEL)")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 (AGY_BASE_URL)")
    p.add_argument("--state-dir", help="where conversations are stored (AGY_STATE_DIR)")
    p.add_argument("--idle-timeout-secs", type=float, help="hibernate agents idle this long, 0 = never (AGY_IDLE_TIMEOUT_SECS)")
    p.add_argument("--max-live-agents", type=int, help="live harness processes at most, 0 = no cap (AGY_MAX_LIVE_AGENTS)")
    p.add_argument("--log-level", default=os.environ.get("AGY_LOG_LEVEL", "warning"), help="stderr log level")
    # The conventional LSP launch flags that clients add (vscode-languageclient adds both).
    p.add_argument("--stdio", action="store_true", help="talk on stdin/stdout (the default and only transport; accepted for LSP clients)")
    p.add_argument(
        "--clientProcessId",
        "--client-process-id",
        dest="client_process_id",
        type=int,
        metavar="PID",
        help="exit (closing every agent) when this process dies; the LSP initialize processId does the same",
    )
    _http_flags(p)
    return p


def _http_flags(p: argparse.ArgumentParser) -> None:
    """`--mcp --http`: a shared server over Streamable HTTP (docs/mcp.md)."""
    h = p.add_argument_group("MCP over HTTP (with --mcp)")
    h.add_argument("--http", metavar="[HOST:]PORT", help="serve MCP over Streamable HTTP at http://HOST:PORT/mcp (AGY_HTTP)")
    h.add_argument("--allow-remote", action="store_true", help="allow --http to bind beyond loopback (put TLS in front)")
    h.add_argument("--token-file", help="bearer tokens, one a line, mode 600 (AGY_TOKEN_FILE; else AGY_TOKEN; else generated)")
    h.add_argument("--shared", action="store_true", help="every token sees every session (default: each token only its own)")
    h.add_argument("--root", action="append", metavar="DIR", help="a session's cwd must lie under one of these (repeatable; AGY_ROOTS)")
    h.add_argument("--allow-host", action="append", metavar="NAME", help="another Host/Origin name to accept (repeatable)")
    h.add_argument("--grace-secs", type=float, help="end a session and its turn this long after its host left (AGY_HTTP_GRACE_SECS, 300)")
    h.add_argument("--max-body-bytes", type=int, help="largest request body (4 MiB)")
    h.add_argument("--sessions-per-token", type=int, help="open MCP sessions per token at most (16)")


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["chat"]:
        from agy_lsp.chat_cli import main as chat_main

        sys.exit(chat_main(args[1:]))
    if args[:1] in (["login"], ["logout"]):
        from agy_lsp.login_cli import main as login_main

        sys.exit(login_main(args[1:], logout=args[0] == "logout"))
    ns = _parser().parse_args(args)
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, str(ns.log_level).upper(), logging.WARNING),
        format="agy-lsp %(levelname)s %(name)s: %(message)s",
    )
    from agy_lsp.secrets import ScrubFilter, register_environment

    register_environment()
    for handler in logging.getLogger().handlers:
        handler.addFilter(ScrubFilter())
    if logging.getLogger().level > logging.DEBUG:
        # pygls logs every error response with a traceback; ours are expected and
        # answered with a code. Unexpected failures are logged by agy_lsp.lsp.rpc.
        logging.getLogger("pygls.protocol.json_rpc").setLevel(logging.CRITICAL)
    from agy_lsp.settings import from_environment

    settings = from_environment(
        {
            "backend": ns.backend,
            "model": ns.model,
            "base_url": ns.base_url,
            "state_dir": ns.state_dir,
            "idle_timeout_secs": ns.idle_timeout_secs,
            "max_live_agents": ns.max_live_agents,
        }
    )
    if ns.acp:
        from agy_lsp.acp.server import run_acp

        sys.exit(asyncio.run(run_acp(settings, client_process_id=ns.client_process_id)))
    if ns.mcp and (ns.http or os.environ.get("AGY_HTTP")):
        from agy_lsp.mcp.http import options_from, run_mcp_http

        try:
            options = options_from(ns)
        except ValueError as e:
            _parser().error(str(e))
        sys.exit(asyncio.run(run_mcp_http(settings, options)))
    if ns.mcp:
        from agy_lsp.mcp.server import run_mcp

        sys.exit(asyncio.run(run_mcp(settings, client_process_id=ns.client_process_id)))
    from agy_lsp.lsp.server import build_server

    server = build_server(settings, client_process_id=ns.client_process_id)
    code = asyncio.run(server.serve())
    sys.stderr.flush()
    os._exit(code)  # harness threads of the SDK are daemonic; do not wait on them
