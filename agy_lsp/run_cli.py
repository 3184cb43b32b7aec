"""`agy-lsp run`: one prompt, one turn, no questions; for scripts and CI (docs/run.md).

    agy-lsp run "prompt"                     the answer on stdout
    echo "prompt" | agy-lsp run -            the prompt from stdin
    agy-lsp run --output json "prompt"       one result object at the end
    agy-lsp run --output stream-json "..."   one event a line as they happen

It drives the core in-process (AgentManager with an editor of its own, no JSON-RPC)
and imports no wire library. Cold start is the point: the SDK starts importing in a
worker thread before the flags are even parsed.
"""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="agy-lsp run",
        description="Run one prompt to its end, non-interactively (scripts, CI). See docs/run.md.",
        epilog="exit codes: 0 success, 1 model/backend error, 2 usage error, 3 a refused tool call ended the turn, "
        "4 timeout, 130/143 cancelled by SIGINT/SIGTERM, 141 stdout closed",
    )
    p.add_argument("prompt", nargs="*", help="the prompt; `-` reads it from stdin")
    p.add_argument("-p", "--prompt", dest="prompt_flag", metavar="PROMPT", help="the prompt (instead of the argument)")
    p.add_argument("--output", choices=["text", "json", "stream-json"], default="text", help="what stdout carries (default: text)")
    p.add_argument("--cwd", help="the workspace (default: the current directory)")
    p.add_argument("--backend", choices=["gemini", "vertex", "openai", "scripted"], help="backend (AGY_BACKEND)")
    p.add_argument("--model", help="model (AGY_MODEL)")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint (AGY_BASE_URL)")
    p.add_argument("--state-dir", help="where conversations are stored (AGY_STATE_DIR)")
    p.add_argument("--script", help="a scripted-model script (JSON text or a file): implies the scripted backend")
    p.add_argument("--system", help="system instructions for the agent")
    p.add_argument("--thinking", choices=["minimal", "low", "medium", "high", "extra_high"], help="thinking level (Gemini)")
    p.add_argument(
        "--policy",
        help="a policy preset (safeDefaults, confirmRunCommand, allowAll, denyAll, workspaceOnly, auto), or policies as JSON",
    )
    p.add_argument("--allow", action="append", default=[], metavar="TOOL", help="allow this tool without asking (repeatable; globs ok)")
    p.add_argument("-y", "--yes", action="store_true", help="allow every tool call that would ask for consent")
    session = p.add_mutually_exclusive_group()
    session.add_argument("--resume", metavar="SESSION", help="go on with this stored session")
    session.add_argument("--continue", dest="continue_", action="store_true", help="go on with the workspace's latest session")
    p.add_argument("--timeout", type=float, metavar="SECS", help="give up after this long (exit 4)")
    p.add_argument("--max-turn-requests", type=int, metavar="N", help="at most N model calls in this run")
    p.add_argument("--max-tokens", type=int, metavar="N", help="at most N tokens (input + output) in this run")
    p.add_argument("--schema", metavar="FILE", help="a JSON schema the answer's structured output follows")
    return p


def exit_now(code: int) -> None:
    """Exit without the interpreter's teardown (tens of ms with the SDK loaded): the
    harness is closed and the output written by now; the SDK's threads are daemonic."""
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    from agy_lsp.sdk import preload

    preload()  # the SDK imports (~0.5 s) while the flags parse and the core imports
    ns = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        from agy_lsp.run.driver import Run

        return Run(ns).main()
    except KeyboardInterrupt:  # Ctrl-C while Python still imports: nothing started yet
        return 130
