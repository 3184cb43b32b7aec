"""`agy-lsp` command line: the LSP server (default), `--acp`, `--mcp`, and `chat`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import stat
import sys
import threading
from collections.abc import Callable
from typing import NoReturn

from agy_lsp import __version__


def _checked(check: Callable[[str, str], object], flag: str) -> Callable[[str], object]:
    """An argparse `type` from a settings check: a flag's value gets the same
    validation and message as its environment variable."""

    def parse(value: str) -> object:
        from agy_lsp.settings import SettingsError

        try:
            return check(value, flag)
        except SettingsError as e:
            raise argparse.ArgumentTypeError(str(e).removeprefix(f"{flag}=")) from None

    return parse


def _number(flag: str, *, whole: bool = False, meaning: str = "") -> Callable[[str], object]:
    from agy_lsp.settings import check_number

    return _checked(lambda value, name: check_number(value, name, whole=whole, meaning=meaning), flag)


def fail(prog: str, message: str) -> NoReturn:
    """A bad setting at start: one line on stderr and exit code 2, as argparse does."""
    print(f"{prog}: error: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


_SERVES = {"LSP": "an editor", "ACP": "an ACP client (an editor such as Zed)", "MCP": "an MCP host"}


def check_stdin(wire: str) -> None:
    """Before a transport polls fd 0 with the event loop, which takes only a pipe, a
    socket or a terminal: a closed stdin or one at end of input (/dev/null, an empty
    file) ends here with one line and code 0 (no client: nothing to serve); a
    terminal gets a hint and is served (Ctrl-D ends it); a file with content is
    copied through a pipe. See docs/protocol.md, "Starting"."""
    who = _SERVES[wire]
    try:
        st = os.fstat(0)
    except OSError:
        _no_client(f"stdin is closed: no {wire} client to serve; {who} starts agy-lsp with a pipe on stdin")
    if os.isatty(0):
        chat = " For a chat in this terminal run `agy-lsp chat`." if wire == "LSP" else ""
        print(
            f"agy-lsp: stdin is a terminal, but agy-lsp is an {wire} server for {who} to start: it speaks {wire} "
            f"(JSON-RPC) on stdin/stdout.{chat} Serving anyway; Ctrl-D ends it.",
            file=sys.stderr,
            flush=True,
        )
        return
    if stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode):
        return
    if _at_end(st):
        _no_client(f"stdin is at end of input (/dev/null or an empty file): no {wire} client to serve")
    _pipe_stdin()


def _no_client(message: str) -> NoReturn:
    print(f"agy-lsp: {message}.", file=sys.stderr, flush=True)
    sys.exit(0)


def _at_end(st: os.stat_result) -> bool:
    if stat.S_ISREG(st.st_mode):
        return os.lseek(0, 0, os.SEEK_CUR) >= st.st_size
    null = os.stat(os.devnull)
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == null.st_rdev


def _pipe_stdin() -> None:
    """fd 0 becomes a pipe that a thread fills from what stdin was (a file, a device)."""
    source = os.dup(0)
    read_end, write_end = os.pipe()
    os.dup2(read_end, 0)
    os.close(read_end)

    def copy() -> None:
        try:
            while chunk := os.read(source, 65536):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(write_end, view) :]
        except OSError:
            pass  # the server stopped reading
        finally:
            os.close(write_end)
            os.close(source)

    threading.Thread(target=copy, name="agy-stdin", daemon=True).start()


def _parser() -> argparse.ArgumentParser:
    from agy_lsp.settings import check_base_url, check_log_level

    p = argparse.ArgumentParser(
        prog="agy-lsp",
        description="Google Antigravity agents over LSP (default), ACP or MCP, on stdio.",
        epilog=(
            "other commands: `agy-lsp run` (one prompt, non-interactive: scripts and CI), `agy-lsp chat` (a terminal chat), "
            "`agy-lsp login` (keep a Gemini API key "
            "in the OS keyring), `agy-lsp logout` (remove it); each takes --help"
        ),
    )
    p.add_argument("--version", action="version", version=f"agy-lsp {__version__}")
    p.add_argument("--acp", action="store_true", help="speak the Agent Client Protocol instead of LSP")
    p.add_argument("--mcp", action="store_true", help="serve agents as tools to an MCP host (Model Context Protocol) instead of LSP")
    p.add_argument("--backend", choices=["gemini", "vertex", "openai", "scripted"], help="default backend (AGY_BACKEND)")
    p.add_argument("--model", help="default model (AGY_MODEL)")
    p.add_argument(
        "--base-url",
        type=_checked(check_base_url, "--base-url"),
        help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 (AGY_BASE_URL)",
    )
    p.add_argument("--state-dir", help="where conversations are stored (AGY_STATE_DIR)")
    p.add_argument(
        "--idle-timeout-secs",
        type=_number("--idle-timeout-secs", meaning="0 = never"),
        help="hibernate agents idle this long, 0 = never (AGY_IDLE_TIMEOUT_SECS)",
    )
    p.add_argument(
        "--max-live-agents",
        type=_number("--max-live-agents", whole=True, meaning="0 = no cap"),
        help="live harness processes at most, 0 = no cap (AGY_MAX_LIVE_AGENTS)",
    )
    p.add_argument("--log-level", type=_checked(check_log_level, "--log-level"), help="stderr log level (AGY_LOG_LEVEL; default warning)")
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


def _secure(state_dir: str) -> None:
    from agy_lsp.agents.store import secure_state_dir

    log = logging.getLogger("agy_lsp")
    try:
        if changed := secure_state_dir(state_dir):
            log.warning("state dir %s was open to other users: removed their access to %d files and folders in it", state_dir, changed)
    except OSError as e:
        log.warning("could not secure the state dir %s: %s", state_dir, e)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["chat"]:
        from agy_lsp.chat_cli import main as chat_main

        sys.exit(chat_main(args[1:]))
    if args[:1] == ["run"]:
        from agy_lsp.run_cli import exit_now
        from agy_lsp.run_cli import main as run_main

        exit_now(run_main(args[1:]))
    if args[:1] in (["login"], ["logout"]):
        from agy_lsp.login_cli import main as login_main

        sys.exit(login_main(args[1:], logout=args[0] == "logout"))
    ns = _parser().parse_args(args)
    from agy_lsp.settings import SettingsError, check_log_level

    try:
        log_level = ns.log_level or check_log_level(os.environ.get("AGY_LOG_LEVEL", "").strip() or "warning")
    except SettingsError as e:
        fail("agy-lsp", str(e))
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, log_level.upper(), logging.WARNING),
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

    flags = {
        "backend": ns.backend,
        "model": ns.model,
        "base_url": ns.base_url,
        "state_dir": ns.state_dir,
        "idle_timeout_secs": ns.idle_timeout_secs,
        "max_live_agents": ns.max_live_agents,
    }
    try:
        settings = from_environment(flags)
    except SettingsError as e:
        fail("agy-lsp", str(e))
    _secure(settings.state_dir)
    if ns.mcp and (ns.http or os.environ.get("AGY_HTTP")):  # serves sockets, not stdin (under systemd it is /dev/null)
        from agy_lsp.mcp.http import options_from, run_mcp_http

        try:
            options = options_from(ns)
        except ValueError as e:
            _parser().error(str(e))
        sys.exit(asyncio.run(run_mcp_http(settings, options)))
    check_stdin("ACP" if ns.acp else "MCP" if ns.mcp else "LSP")
    if ns.acp:
        from agy_lsp.acp.server import run_acp

        sys.exit(asyncio.run(run_acp(settings, client_process_id=ns.client_process_id)))
    if ns.mcp:
        from agy_lsp.mcp.server import run_mcp

        sys.exit(asyncio.run(run_mcp(settings, client_process_id=ns.client_process_id)))
    from agy_lsp.lsp.server import build_server

    server = build_server(settings, client_process_id=ns.client_process_id)
    code = asyncio.run(server.serve())
    sys.stderr.flush()
    os._exit(code)  # harness threads of the SDK are daemonic; do not wait on them
