"""Slash commands: a line whose first word is `/name` is a command, never a prompt.

A first word with another `/` in it (`/etc/hosts is gone`) is a path, so a prompt.
An unknown `/word` is an error that names `/help`.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, get_args

import anyio
import msgspec

from agy_lsp.chat.render import View
from agy_lsp.client import AgentHandle, AgyClient, AgyClientError, MethodNotFound
from agy_lsp.client.terminal import describe_usage
from agy_lsp.protocol.agent_options import ModelOptions, ThinkingLevel
from agy_lsp.protocol.methods import Method
from agy_lsp.protocol.shown import visible
from agy_lsp.protocol.types import (
    AgentRef,
    Capabilities,
    ConfigureAgentParams,
    ExportSessionParams,
    ExportSessionResult,
    ListModelsResult,
    ListSessionsParams,
    ListSessionsResult,
    OkResult,
    PolicyPreset,
    StatusResult,
)

COMMAND = re.compile(r"^/([A-Za-z][\w-]*)(?:\s+(.*))?$", re.DOTALL)
GO_AHEAD = "Go ahead with the plan."


class Host(Protocol):
    """What the commands need of the chat (agy_lsp/chat_cli.py)."""

    view: View
    client: AgyClient
    quitting: bool

    @property
    def current(self) -> AgentHandle: ...

    async def turn(self, prompt: str) -> Any: ...
    async def new_agent(self, conversation_id: str | None = None) -> None: ...


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    help: str
    run: Callable[[Host, str], Awaitable[None]]


def parse(line: str) -> tuple[str, str] | None:
    """(`name`, `argument`) if the line is a command."""
    match = COMMAND.match(line.strip())
    if match is None:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()


async def _configure(host: Host, **fields: Any) -> None:
    params = ConfigureAgentParams(agent_id=host.current.agent_id, **fields)
    await host.client.connection.request(Method.CONFIGURE_AGENT, params, OkResult)


async def _help(host: Host, arg: str) -> None:
    width = max(len(c.usage) for c in COMMANDS.values())
    host.view.line("commands:")
    for c in COMMANDS.values():
        host.view.line(f"  {c.usage.ljust(width)}  {c.help}")
    host.view.line("keys: Enter sends · Esc Enter adds a line · Up/Down history · Tab completes /commands and @paths")
    host.view.line("      Ctrl-C cancels a running turn; at the prompt it clears the line, a second Ctrl-C quits · Ctrl-D quits")


async def _new(host: Host, arg: str) -> None:
    await host.new_agent()
    host.view.note(f"a new conversation ({host.current.conversation_id or host.current.agent_id})")


async def _sessions(host: Host, arg: str) -> None:
    params = ListSessionsParams(limit=20, cwd=os.getcwd())
    result: ListSessionsResult = await host.client.connection.request(Method.LIST_SESSIONS, params, ListSessionsResult)
    if not result.sessions:
        host.view.note("no stored conversations in this workspace")
        return
    mine = (await host.current.status()).conversation_id
    host.view.line(f"stored conversations of this workspace ({result.total}), newest first; /resume ID continues one:")
    for s in result.sessions:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(s.updated_at))
        title = visible(s.title or s.name or "", newlines=False)[:60]
        current = "  (this one)" if s.conversation_id == mine else ""
        host.view.line(f"  {s.conversation_id}  {when}  {s.turn_count} turns  {title}{current}")


async def _resume(host: Host, arg: str) -> None:
    if not arg:
        host.view.error("usage: /resume ID (/sessions lists them)")
        return
    await host.new_agent(arg)
    host.view.note(f"resumed {visible(arg, newlines=False)}")


async def _model(host: Host, arg: str) -> None:
    status = await host.current.status()
    backend = status.spec.backend if status.spec is not None else None
    kind = backend.__struct_config__.tag if backend is not None else "default"
    current = getattr(backend, "model", None) or ("scripted" if kind == "scripted" else "the backend's default")
    if not arg:
        host.view.line(f"model: {current} ({kind} backend)")
        try:
            listed: ListModelsResult = await host.client.connection.request(
                Method.LIST_MODELS, AgentRef(agent_id=host.current.agent_id), ListModelsResult
            )
            models = [m.id for m in listed.models]
        except MethodNotFound:  # an older server
            models = []
        if models:
            host.view.line("models of this backend: " + ", ".join(visible(m, newlines=False) for m in models))
        host.view.note("/model NAME switches (the conversation carries over)")
        return
    if backend is None or kind == "scripted":
        host.view.error(f"the {kind} backend has no other models; start the chat with --backend and --model")
        return
    await _configure(host, backend=msgspec.structs.replace(backend, model=arg))
    host.view.note(f"model: {visible(arg, newlines=False)} from the next turn")


async def _thinking(host: Host, arg: str) -> None:
    levels: tuple[str, ...] = get_args(ThinkingLevel)
    if arg not in levels:
        host.view.error(f"usage: /thinking LEVEL, one of: {', '.join(levels)}")
        return
    await _configure(host, model_options=ModelOptions(thinking_level=arg))  # pyright: ignore[reportArgumentType]
    host.view.note(f"thinking: {arg} from the next turn")


async def _policy(host: Host, arg: str) -> None:
    presets: tuple[str, ...] = get_args(PolicyPreset)
    if arg not in presets:
        host.view.error(f"usage: /policy PRESET, one of: {', '.join(presets)}")
        return
    await _configure(host, policies=arg)
    host.view.note(f"policy: {arg} from the next turn")


async def _plan(host: Host, arg: str) -> None:
    if not arg:
        host.view.error("usage: /plan REQUEST (then /go to carry the plan out)")
        return
    # The SDK plans only for an interactive agent: make this one so first (its next turn
    # runs on a new harness, same conversation), as the editors' plan commands do.
    status = await host.client.connection.request(Method.STATUS, AgentRef(agent_id=host.current.agent_id), StatusResult)
    caps = status.spec.capabilities if status.spec is not None else None
    if caps is None or caps.agent_behavior != "interactive":
        base = caps if caps is not None else Capabilities()
        await _configure(host, capabilities=msgspec.structs.replace(base, agent_behavior="interactive"))
        host.view.note("this agent is interactive now, so that it can plan (same conversation)")
    await host.turn(f"/plan {arg}")


async def _go(host: Host, arg: str) -> None:
    await host.turn(arg or GO_AHEAD)


async def _usage(host: Host, arg: str) -> None:
    usage = await host.current.usage()
    host.view.line(f"last turn: {describe_usage(usage.last_turn_usage)}")
    host.view.line(f"this conversation: {describe_usage(usage.total_usage)}")


async def _history(host: Host, arg: str) -> None:
    steps = await host.current.history()
    if not steps:
        host.view.note("no history yet")
        return
    for step in steps:
        text = visible(" ".join((step.content or step.error or "").split()), newlines=False)
        calls = f" [{', '.join(c.name for c in step.tool_calls)}]" if step.tool_calls else ""
        who = (step.source or "").lower().removeprefix("step_source_") or "?"
        host.view.line(f"  {step.index:>3} {who:<8} {step.type.lower():<20} {text[:80]}{calls}")


async def _export(host: Host, arg: str) -> None:
    params = ExportSessionParams(agent_id=host.current.agent_id)
    result: ExportSessionResult = await host.client.connection.request(Method.EXPORT_SESSION, params, ExportSessionResult)
    if not arg:
        host.view.markdown(result.markdown)
        return
    path = await anyio.Path(arg).expanduser()
    await path.write_text(result.markdown, encoding="utf-8")
    host.view.note(f"exported to {visible(str(path), newlines=False)} ({len(result.markdown):,} characters)")


async def _clear(host: Host, arg: str) -> None:
    host.view.clear()


async def _tools(host: Host, arg: str) -> None:
    if not host.view.tools:
        host.view.note("no tool calls yet")
        return
    for record in host.view.tools:
        host.view.line(record.summary())
    host.view.note("/show N shows one in full")


async def _show(host: Host, arg: str) -> None:
    tools = host.view.tools
    if not arg.isdigit() or not 1 <= int(arg) <= len(tools):
        host.view.error(f"usage: /show N, N from 1 to {len(tools)} (/tools lists them)" if tools else "no tool calls yet")
        return
    for line in tools[int(arg) - 1].details():
        host.view.line(line)


async def _quit(host: Host, arg: str) -> None:
    host.quitting = True


COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command("help", "/help", "this list", _help),
        Command("new", "/new", "start a new conversation (this one stays stored)", _new),
        Command("sessions", "/sessions", "the stored conversations of this workspace", _sessions),
        Command("resume", "/resume ID", "continue a stored conversation", _resume),
        Command("model", "/model [NAME]", "the model (and the backend's models); NAME switches", _model),
        Command("thinking", "/thinking LEVEL", "thinking level: minimal, low, medium, high, extra_high", _thinking),
        Command("policy", "/policy PRESET", "tool policy: safeDefaults, confirmRunCommand, allowAll, denyAll, ...", _policy),
        Command("plan", "/plan REQUEST", "ask for a plan first, nothing done yet", _plan),
        Command("go", "/go", "carry out the plan", _go),
        Command("usage", "/usage", "tokens of the last turn and of the conversation", _usage),
        Command("history", "/history", "the steps of the conversation", _history),
        Command("tools", "/tools", "the tool calls of this chat, numbered", _tools),
        Command("show", "/show N", "tool call N in full, with its result", _show),
        Command("export", "/export [FILE]", "the conversation as Markdown (to FILE, else here)", _export),
        Command("clear", "/clear", "clear the screen", _clear),
        Command("quit", "/quit", "quit (also /exit, Ctrl-D)", _quit),
        Command("exit", "/exit", "quit", _quit),
    )
}
NAMES = [f"/{name}" for name in COMMANDS]


async def run(host: Host, name: str, arg: str) -> None:
    command = COMMANDS.get(name)
    if command is None:
        host.view.error(f"unknown command /{visible(name, newlines=False)} (/help lists the commands)")
        return
    try:
        await command.run(host, arg)
    except AgyClientError as e:
        host.view.error(error_text("error", e))
    except OSError as e:
        host.view.error(f"error: {e}")


def error_text(prefix: str, e: AgyClientError) -> str:
    """A failure as the chat shows it: the code and message, then the cause and the
    fix the server gave (the message alone says only that something failed)."""
    lines = [f"{prefix}: {e.code_name or type(e).__name__}: {e.message}"]
    if (cause := e.cause) is not None and cause not in e.message:
        lines.append(f"  cause: {cause}")
    if (hint := e.hint) is not None:
        lines.append(f"  hint: {hint}")
    return "\n".join(lines)
