"""`agy-lsp chat`: a terminal chat on the Python client (LSP to `agy-lsp` in a subprocess).

    agy-lsp chat                      interactive (agy_lsp/chat/: input, render, commands, confirm)
    agy-lsp chat "prompt"             in a terminal: the chat, starting with that prompt;
                                      from a script (stdin not a terminal): one shot, the
                                      answer on stdout, the rest on stderr
    agy-lsp chat --json "prompt"      one shot: every chunk as a JSON line, then the result
    agy-lsp chat --resume ID          continue a stored conversation (/sessions lists them)

In a terminal, prompt_toolkit reads the prompts and rich draws the turns; in a pipe,
with TERM=dumb, NO_COLOR or --no-color, everything is plain text with no escape codes.
It starts the server with the same backend flags and environment as `agy-lsp`. With
no model configured it runs on the built-in scripted model, and says so.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
from typing import Any, TextIO

import anyio
import msgspec

from agy_lsp.chat import commands
from agy_lsp.chat.confirm import CANCEL, Confirmer
from agy_lsp.chat.input import PlainReader, PromptReader, attach, history_path
from agy_lsp.chat.render import PlainView, View, make_view
from agy_lsp.client import AgentHandle, AgyClient, AgyClientError, RequestCancelled, Scripted, server_command
from agy_lsp.client.terminal import LineReader
from agy_lsp.client.turn import Turn
from agy_lsp.protocol.types import ChatResult

INTERRUPTED = 130
BANNER = (
    "agy-lsp chat · /help lists the commands · Enter sends, Esc Enter adds a line, @file attaches a file\n"
    "Ctrl-C cancels a running turn; at the prompt it clears the line, and a second Ctrl-C quits. Ctrl-D quits."
)


def _base_url(value: str) -> str:
    from agy_lsp.settings import SettingsError, check_base_url

    try:
        return check_base_url(value, "--base-url")
    except SettingsError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("--base-url=")) from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="agy-lsp chat", description="Chat with an Antigravity agent in the terminal.")
    p.add_argument("prompt", nargs="*", help="a first prompt (from a script: a one-shot prompt)")
    p.add_argument("--json", action="store_true", help="one shot: emit chunk events as JSON lines on stdout")
    p.add_argument("--resume", metavar="ID", help="continue a stored conversation of this workspace")
    p.add_argument("--backend", choices=["gemini", "vertex", "openai", "scripted"], help="backend (AGY_BACKEND)")
    p.add_argument("--model", help="model (AGY_MODEL)")
    p.add_argument("--base-url", type=_base_url, help="OpenAI-compatible endpoint (AGY_BASE_URL)")
    p.add_argument("--state-dir", help="where conversations are stored (AGY_STATE_DIR)")
    p.add_argument("--system", help="system instructions for the agent")
    p.add_argument("--script", help="a scripted-model script (JSON text or a file): implies the scripted backend")
    p.add_argument("-y", "--yes", action="store_true", help="allow every tool call without asking")
    p.add_argument("--no-color", action="store_true", help="plain output (also: NO_COLOR, TERM=dumb, a pipe)")
    return p


def _script(value: str) -> Any:
    if os.path.isfile(value):
        with open(value, encoding="utf-8") as f:
            value = f.read()
    return json.loads(value)


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


def plain_output(ns: argparse.Namespace, out: TextIO) -> bool:
    """Plain text, no escape codes: not a terminal, a dumb one, or colour refused."""
    return ns.no_color or bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb" or not out.isatty()


class Chat:
    """One chat: the client, the agent, the view, the reader and the Ctrl-C state."""

    def __init__(self, ns: argparse.Namespace, view: View, *, tty: bool) -> None:
        self.ns = ns
        self.view = view
        self.tty = tty  # prompts are read with prompt_toolkit
        self.lines = LineReader(sys.stdin.fileno())
        self.reader: PromptReader | PlainReader = PlainReader(self.lines, echo_prompt=True)
        self.turn_scope: anyio.CancelScope | None = None
        self.running: Turn | None = None
        self.cancelling = False
        self.quitting = False
        self.interrupted = False
        self.client: AgyClient = None  # type: ignore[assignment]  # set in _run before use
        self.agent: AgentHandle | None = None
        self.backend = Scripted(script=_script(ns.script)) if ns.script is not None else None
        self.confirmer = Confirmer(
            view,
            self.ask,
            yes=ns.yes,
            can_ask=sys.stdin.isatty(),
            height=lambda: shutil.get_terminal_size().lines,
            on_cancel=self.cancel_from_question,
        )

    # ------------------------------------------------------------------ agents

    @property
    def current(self) -> AgentHandle:
        assert self.agent is not None
        return self.agent

    async def new_agent(self, conversation_id: str | None = None) -> None:
        """A fresh agent (or one on a stored conversation); the old one is closed, its
        conversation stays stored."""
        agent = await self.client.create_agent(
            self.backend,
            system_instructions=self.ns.system,
            workspaces=[os.getcwd()],
            conversation_id=conversation_id,
            on_confirm=self.confirmer,
        )
        old, self.agent = self.agent, agent
        if old is not None:
            try:
                await old.shutdown()
            except AgyClientError as e:
                self.view.error(commands.error_text("closing the previous conversation", e))

    # ------------------------------------------------------------------ questions and Ctrl-C

    async def ask(self, question: str) -> str | None:
        """One answer to a confirmation question; CANCEL for Ctrl-C."""
        if not self.tty:
            print(question, end="", file=sys.stderr, flush=True)  # stdout may be a pipe
            return await self.lines.readline()
        from prompt_toolkit import PromptSession
        from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

        keys = KeyBindings()

        @keys.add("c-c")
        def _cancel(event: KeyPressEvent) -> None:  # pyright: ignore[reportUnusedFunction]
            event.app.exit(result=CANCEL)

        session: PromptSession[str] = PromptSession(key_bindings=keys)
        try:
            return await session.prompt_async(question, handle_sigint=False)  # our SIGINT receiver stays in place
        except EOFError:
            return None
        except KeyboardInterrupt:  # TERM=dumb: prompt_toolkit's plain prompt raises it for Ctrl-C
            return CANCEL

    def cancel_turn(self) -> None:
        if self.turn_scope is not None and not self.cancelling:
            self.cancelling = True
            self.view.note("^C cancelling the turn (Ctrl-C again to quit)")
            self.turn_scope.cancel()

    async def cancel_from_question(self) -> None:
        """Ctrl-C at a question: the turn's cancel request is sent before the answer."""
        turn = self.running
        self.cancel_turn()
        if turn is not None:
            await turn.cancel()

    async def _watch_sigint(self, quit_scope: anyio.CancelScope) -> None:
        with anyio.open_signal_receiver(signal.SIGINT) as signals:
            async for _ in signals:
                if not self.cancelling:
                    self.cancel_turn()
                else:
                    self.view.note("^C bye")
                    self.interrupted = True
                    quit_scope.cancel()
                    return

    # ------------------------------------------------------------------ turns

    async def turn(self, prompt: str, json_out: TextIO | None = None) -> ChatResult | None:
        """Runs one turn, drawing it; None if it was cancelled."""
        turn = self.running = self.current.chat(prompt)
        self.cancelling = False
        self.view.begin_turn()
        try:
            async with anyio.create_task_group() as watch:
                watch.start_soon(self._watch_sigint, watch.cancel_scope)
                with anyio.CancelScope() as scope:
                    self.turn_scope = scope
                    try:
                        async for chunk in turn:
                            if json_out is not None:
                                json_out.write(msgspec.json.encode(chunk).decode() + "\n")
                                json_out.flush()
                            else:
                                self.view.chunk(chunk)
                    except AgyClientError:
                        pass  # the turn's error: `await turn` below raises it, outside the task group
                self.turn_scope = None
                if scope.cancelled_caught or self.cancelling:
                    with anyio.CancelScope(shield=True):
                        await turn.cancel()
                        await turn.wait()
                watch.cancel_scope.cancel()
            if self.interrupted:  # a second Ctrl-C: quit
                self.quitting = True
                with anyio.CancelScope(shield=True):
                    await turn.cancel()
                    await turn.wait()
                self.view.pause()
                return None
            result = await turn
        except RequestCancelled:
            self.view.cancelled()
            return None
        except BaseException:
            self.view.pause()
            raise
        finally:
            self.turn_scope = None
            self.running = None
        if json_out is not None:
            event = {"kind": "result", **msgspec.to_builtins(result)}
            json_out.write(json.dumps(event) + "\n")
            json_out.flush()
        else:
            self.view.end_turn(result.usage, result.stop_reason)
        if result.warning is not None:
            self.view.error(f"warning: {result.warning.data.get('code', result.warning.code)}: {result.warning.message}")
        return result

    async def prompt_turn(self, line: str) -> None:
        """A prompt as typed: `@path`s attached, then the turn."""
        prompt, attached = attach(line, os.getcwd())
        for a in attached:
            if a.problem:
                self.view.error(f"@{a.path}: not attached ({a.problem})")
            elif a.cut:
                self.view.note(f"@{a.path}: attached, cut to its first part ({a.size:,} bytes in all)")
            else:
                self.view.note(f"@{a.path}: attached ({a.size:,} bytes)")
        try:
            await self.turn(prompt)
        except AgyClientError as e:
            self.view.error(commands.error_text("error", e))

    async def handle(self, line: str) -> None:
        command = commands.parse(line)
        if command is not None:
            await commands.run(self, *command)
        else:
            await self.prompt_turn(line)

    async def repl(self, first: str | None) -> None:
        self.view.note(BANNER)
        if first:
            await self.handle(first)
        while not self.quitting:
            line = await self.reader.read()
            if line is None:  # Ctrl-D, Ctrl-C twice, end of input
                if not self.tty:
                    print()
                self.interrupted = isinstance(self.reader, PromptReader) and self.reader.interrupted
                return
            if line.strip():
                await self.handle(line.strip() if "\n" not in line else line)


async def _run(ns: argparse.Namespace) -> int:
    tty = sys.stdin.isatty() and sys.stdout.isatty()
    interactive = not ns.json and (not ns.prompt or tty)
    if interactive:
        view = make_view(sys.stdout, plain=plain_output(ns, sys.stdout))
    else:
        view = PlainView(sys.stdout, sys.stderr)
    chat = Chat(ns, view, tty=tty)
    if note := _fallback_note(ns):
        print(f"agy-lsp chat: {note}", file=sys.stderr, flush=True)
    cmd = server_command(ns.backend, ns.model, ns.base_url)
    if ns.state_dir:
        cmd += ["--state-dir", ns.state_dir]
    code = 0
    async with AgyClient.spawn(cmd) as client:
        chat.client = client
        client.on_log = lambda level, message: view.error(f"server: {message}") if level == "error" else None
        try:
            await chat.new_agent(ns.resume)
            if interactive:
                if tty:
                    info = await client.server_info()
                    chat.reader = PromptReader(commands.NAMES, history_path(info.state_dir, os.getcwd()))
                await chat.repl(" ".join(ns.prompt) or None)
            else:
                result = await chat.turn(" ".join(ns.prompt), sys.stdout if ns.json else None)
                code = 0 if result is not None else INTERRUPTED
        except AgyClientError as e:
            view.error(commands.error_text("agy-lsp chat", e))
            code = 1
    return INTERRUPTED if chat.interrupted else code


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
