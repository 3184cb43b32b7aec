"""What the person types: a prompt_toolkit line editor in a terminal, plain lines
from a pipe, and `@path` attachments.

- Enter sends; Esc Enter (Alt-Enter) adds a new line; a paste keeps its lines.
- Up / Down recall earlier prompts; the history is kept per workspace across runs
  in `<state dir>/chat-history/<hash of the working directory>` (0600).
- Tab completes slash commands, and file paths after `@`.
- Ctrl-C clears the line; a second Ctrl-C (the line already empty) quits. Ctrl-D
  on an empty line quits.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys

from agy_lsp.client.terminal import LineReader

ATTACH_LIMIT = 100_000  # characters of one attached file
_ATTACH = re.compile(r"(?<!\S)@(\S+)")


def history_path(state_dir: str, cwd: str) -> str:
    """One history file per workspace, private to the user."""
    folder = os.path.join(state_dir, "chat-history")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = os.path.join(folder, hashlib.sha256(os.path.realpath(cwd).encode()).hexdigest()[:32])
    fd = os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)  # a file made by an older version, or under a loose umask
    return path


class ChatCompleter(Completer):
    """Slash commands at the start of the line; paths after `@` anywhere."""

    def __init__(self, commands: Sequence[str]) -> None:
        self.commands = list(commands)
        self.paths = PathCompleter(expanduser=True)

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        before = document.text_before_cursor
        if before.startswith("/") and " " not in before:
            for name in self.commands:
                if name.startswith(before):
                    yield Completion(name, start_position=-len(before))
            return
        word = before.split(" ")[-1].split("\n")[-1]
        if word.startswith("@"):
            inner = Document(word[1:], len(word) - 1)
            yield from self.paths.get_completions(inner, complete_event)


class PromptReader:
    """Reads prompts in a terminal with prompt_toolkit."""

    def __init__(self, commands: Sequence[str], history_file: str | None) -> None:
        self.armed = False  # the last key was a Ctrl-C on an empty line
        self.interrupted = False  # the person quit with Ctrl-C (exit status 130)
        keys = KeyBindings()

        @keys.add(Keys.Escape, Keys.Enter)
        def _newline(event: KeyPressEvent) -> None:  # pyright: ignore[reportUnusedFunction]
            event.current_buffer.insert_text("\n")

        @keys.add(Keys.ControlC)
        @keys.add(Keys.SIGINT)
        def _ctrl_c(event: KeyPressEvent) -> None:  # pyright: ignore[reportUnusedFunction]
            buffer = event.current_buffer
            if buffer.text:
                buffer.reset()
                self.armed = True
            elif self.armed:
                self.interrupted = True
                event.app.exit(exception=EOFError())
            else:
                self.armed = True
            event.app.invalidate()

        history = FileHistory(history_file) if history_file else InMemoryHistory()
        self.session: PromptSession[str] = PromptSession(
            history=history, completer=ChatCompleter(commands), key_bindings=keys, complete_while_typing=False
        )
        self.session.default_buffer.on_text_changed += self._typed

    def _typed(self, _buffer: object) -> None:
        if self.session.default_buffer.text:
            self.armed = False

    def _rprompt(self) -> str:
        return "Ctrl-C again to quit" if self.armed else ""

    async def read(self, message: str = "› ") -> str | None:
        """The next prompt; None when the person quits (Ctrl-D, or Ctrl-C twice)."""
        self.armed = False
        while True:
            try:
                return await self.session.prompt_async(message, rprompt=self._rprompt)
            except EOFError:
                return None
            except KeyboardInterrupt:  # TERM=dumb: prompt_toolkit's plain prompt keeps Ctrl-C to itself
                if self.armed:
                    self.interrupted = True
                    return None
                self.armed = True
                print("(Ctrl-C again to quit)", flush=True)


class PlainReader:
    """Reads prompts from a pipe or a dumb terminal, one line each."""

    def __init__(self, reader: LineReader, echo_prompt: bool) -> None:
        self.reader = reader
        self.echo_prompt = echo_prompt

    async def read(self, message: str = "› ") -> str | None:
        if self.echo_prompt:
            print(message, end="", flush=True)
        return await self.reader.readline()


@dataclass
class Attached:
    path: str
    size: int
    cut: bool = False
    problem: str | None = None  # why it was not attached


def attach(prompt: str, cwd: str, limit: int = ATTACH_LIMIT) -> tuple[str, list[Attached]]:
    """The prompt with the content of every `@path` that names a readable text file
    appended (at most `limit` characters each), and what was attached."""
    parts: list[str] = []
    found: list[Attached] = []
    seen: set[str] = set()
    for match in _ATTACH.finditer(prompt):
        name = match.group(1).rstrip(".,;:!?)")
        if name in seen:
            continue
        seen.add(name)
        path = os.path.join(cwd, os.path.expanduser(name))
        if not os.path.isfile(path):
            if os.path.exists(path):
                found.append(Attached(name, 0, problem="not a file"))
            continue  # `@someone` in prose stays prose
        try:
            with open(path, "rb") as f:
                data = f.read(limit * 4 + 1)
            size = os.path.getsize(path)
        except OSError as e:
            found.append(Attached(name, 0, problem=e.strerror or str(e)))
            continue
        if b"\0" in data[:8192]:
            found.append(Attached(name, size, problem="a binary file"))
            continue
        text = data.decode(errors="replace")
        cut = len(text) > limit or size > len(data)
        text = text[:limit]
        note = f" (cut: the first {len(text):,} characters of {size:,} bytes)" if cut else ""
        parts.append(f"\n\n--- @{name}{note} ---\n{text}\n--- end of @{name} ---")
        found.append(Attached(name, size, cut=cut))
    return prompt + "".join(parts), found
