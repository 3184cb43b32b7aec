"""`agy-lsp chat`: a terminal chat on the Python client.

    agy-lsp chat                      interactive: streamed text, dim thoughts, tool
                                      calls, y / n / always confirmations, usage;
                                      Ctrl-C cancels the turn; at the prompt it quits
    agy-lsp chat "prompt"             one shot: the answer on stdout, the rest on stderr
    agy-lsp chat --json "prompt"      one shot: every chunk as a JSON line, then the result

It starts the server with the same backend flags and environment as `agy-lsp`.
With no model configured it runs on the built-in scripted model, and says so.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import Any, TextIO

import anyio
import msgspec

from agy_lsp.client import AgentHandle, AgyClient, AgyClientError, RequestCancelled, Scripted, server_command
from agy_lsp.client.terminal import Renderer, describe_call, describe_confirmation
from agy_lsp.protocol.shown import visible
from agy_lsp.protocol.types import ChatResult, ConfirmToolCallParams

INTERRUPTED = 130


def _base_url(value: str) -> str:
    from agy_lsp.settings import SettingsError, check_base_url

    try:
        return check_base_url(value, "--base-url")
    except SettingsError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("--base-url=")) from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="agy-lsp chat", description="Chat with an Antigravity agent in the terminal.")
    p.add_argument("prompt", nargs="*", help="one-shot prompt (omit for an interactive chat)")
    p.add_argument("--json", action="store_true", help="one shot: emit chunk events as JSON lines on stdout")
    p.add_argument("--backend", choices=["gemini", "vertex", "openai", "scripted"], help="backend (AGY_BACKEND)")
    p.add_argument("--model", help="model (AGY_MODEL)")
    p.add_argument("--base-url", type=_base_url, help="OpenAI-compatible endpoint (AGY_BASE_URL)")
    p.add_argument("--state-dir", help="where conversations are stored (AGY_STATE_DIR)")
    p.add_argument("--system", help="system instructions for the agent")
    p.add_argument("--script", help="a scripted-model script (JSON text or a file): implies the scripted backend")
    p.add_argument("-y", "--yes", action="store_true", help="allow every tool call without asking")
    p.add_argument("--no-color", action="store_true", help="plain output (also: NO_COLOR)")
    return p


def _script(value: str) -> Any:
    if os.path.isfile(value):
        with open(value, encoding="utf-8") as f:
            value = f.read()
    return json.loads(value)


def error_text(prefix: str, e: AgyClientError) -> str:
    """A failure as the chat shows it: the code and message, then the cause and the
    fix the server gave (the message alone says only that something failed)."""
    lines = [f"{prefix}: {e.code_name or type(e).__name__}: {e.message}"]
    if (cause := e.cause) is not None and cause not in e.message:
        lines.append(f"  cause: {cause}")
    if (hint := e.hint) is not None:
        lines.append(f"  hint: {hint}")
    return "\n".join(lines)


def _fallback_note(ns: argparse.Namespace) -> str | None:
    if ns.script is not None:
        return "running on the built-in scripted model (--script)"
    from agy_lsp import keystore
    from agy_lsp.settings import from_environment, resolve_default_backend

    settings = from_environment({"backend": ns.backend, "model": ns.model, "base_url": ns.base_url})
    if keystore.worth_asking(settings.backend is None):
        keystore.stored_key()  # as the server will: a key `agy-lsp login` stored makes the default Gemini
    _, note = resolve_default_backend(settings)
    if note is None:
        return None
    return (
        "no model configured (no --backend, AGY_BACKEND, AGY_BASE_URL, GEMINI_API_KEY or `agy-lsp login`): "
        "running on the built-in scripted model"
    )


class Chat:
    """One chat session: the client, the agent, the renderer and the Ctrl-C state."""

    def __init__(self, ns: argparse.Namespace, renderer: Renderer, *, interactive: bool) -> None:
        from agy_lsp.client.terminal import LineReader

        self.ns = ns
        self.renderer = renderer
        self.interactive = interactive
        self.reader = LineReader(sys.stdin.fileno())
        self.can_ask = interactive or sys.stdin.isatty()
        self.turn_scope: anyio.CancelScope | None = None
        self.cancelling = False
        self.agent: AgentHandle | None = None
        self.quit = anyio.Event()

    # ------------------------------------------------------------------ confirmations

    async def confirm(self, params: ConfirmToolCallParams) -> str:
        call = describe_call(params.tool_call)
        r = self.renderer
        if self.ns.yes:
            r.note(f"? {call}: allowed (--yes)")
            return "allow_once"
        if not self.can_ask:
            r.note(f"? {call}: rejected (no terminal to ask; pass --yes to allow tool calls)")
            return "reject_once"
        for line in describe_confirmation(params):  # the whole call: the question hides nothing
            r.line(line)
        name = visible(params.tool_call.name, newlines=False)
        while True:
            r.prompt(f"? allow {name} (the whole call is above)? [y]es / [n]o / [a]lways: ")
            answer = await self.reader.readline()
            if answer is None:
                return "reject_once"
            choice = answer.strip().lower()
            if choice in ("y", "yes"):
                return "allow_once"
            if choice in ("a", "always"):
                return "allow_always"
            if choice in ("n", "no"):
                return "reject_once"

    # ------------------------------------------------------------------ Ctrl-C

    async def watch_sigint(self, main: anyio.CancelScope) -> None:
        with anyio.open_signal_receiver(signal.SIGINT) as signals:
            async for _ in signals:
                if self.turn_scope is not None and not self.cancelling:
                    self.cancelling = True
                    self.renderer.note("^C cancelling the turn (Ctrl-C again to quit)")
                    self.turn_scope.cancel()
                else:
                    self.renderer.note("^C bye")
                    self.quit.set()
                    main.cancel()
                    return

    # ------------------------------------------------------------------ turns

    async def turn(self, prompt: str, json_out: TextIO | None = None) -> ChatResult | None:
        """Runs one turn, rendering it; None if it was cancelled."""
        assert self.agent is not None
        turn = self.agent.chat(prompt)
        self.cancelling = False
        with anyio.CancelScope() as scope:
            self.turn_scope = scope
            try:
                async for chunk in turn:
                    if json_out is not None:
                        json_out.write(msgspec.json.encode(chunk).decode() + "\n")
                        json_out.flush()
                    else:
                        self.renderer.chunk(chunk)
            finally:
                self.turn_scope = None
        if scope.cancelled_caught:
            with anyio.CancelScope(shield=True):
                await turn.cancel()
                await turn.wait()
        try:
            result = await turn
        except RequestCancelled:
            self.renderer.note("⏹ turn cancelled")
            return None
        self.renderer.newline()
        if json_out is not None:
            event = {"kind": "result", **msgspec.to_builtins(result)}
            json_out.write(json.dumps(event) + "\n")
            json_out.flush()
        else:
            self.renderer.usage(result.usage)
        return result

    async def repl(self) -> None:
        r = self.renderer
        r.note("agy-lsp chat — Ctrl-C cancels a turn; Ctrl-C at the prompt, Ctrl-D or /quit quits")
        while True:
            r.prompt("› ")
            line = await self.reader.readline()
            if line is None:  # Ctrl-D / end of input: end the prompt's line
                r.line("")
                return
            line = line.strip()
            if not line:
                continue
            if line in ("/quit", "/exit"):
                return
            try:
                await self.turn(line)
            except AgyClientError as e:
                r.error(error_text("error", e))


async def _run(ns: argparse.Namespace) -> int:
    interactive = not ns.prompt
    color = not ns.no_color and not os.environ.get("NO_COLOR") and sys.stdout.isatty()
    if interactive:
        renderer = Renderer(sys.stdout, color=color)
    else:
        renderer = Renderer(sys.stdout, sys.stderr, color=color and sys.stderr.isatty())
    chat = Chat(ns, renderer, interactive=interactive)
    if note := _fallback_note(ns):
        print(f"agy-lsp chat: {note}", file=sys.stderr, flush=True)
    cmd = server_command(ns.backend, ns.model, ns.base_url)
    if ns.state_dir:
        cmd += ["--state-dir", ns.state_dir]
    backend = Scripted(script=_script(ns.script)) if ns.script is not None else None
    code = 0
    with anyio.CancelScope() as main:
        async with AgyClient.spawn(cmd) as client, anyio.create_task_group() as tg:
            client.on_log = lambda level, message: renderer.error(f"server: {message}") if level == "error" else None
            tg.start_soon(chat.watch_sigint, main)
            try:
                chat.agent = await client.create_agent(backend, system_instructions=ns.system, on_confirm=chat.confirm)
                if interactive:
                    await chat.repl()
                else:
                    json_out = sys.stdout if ns.json else None
                    result = await chat.turn(" ".join(ns.prompt), json_out)
                    code = 0 if result is not None else INTERRUPTED
            except AgyClientError as e:
                renderer.error(error_text("agy-lsp chat", e))
                code = 1
            tg.cancel_scope.cancel()
    if chat.quit.is_set():
        return INTERRUPTED
    return code


def main(argv: list[str] | None = None) -> int:
    from agy_lsp.settings import SettingsError

    ns = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return anyio.run(_run, ns)
    except KeyboardInterrupt:
        return INTERRUPTED
    except SettingsError as e:  # an unusable AGY_* variable: as argparse says a bad flag
        print(f"agy-lsp chat: error: {e}", file=sys.stderr)
        return 2
    except (json.JSONDecodeError, OSError) as e:
        print(f"agy-lsp chat: {e}", file=sys.stderr)
        return 2
