"""`agy-lsp --mcp`: Antigravity agents as tools for MCP hosts, on stdio, through the
official `mcp` package (its lowlevel `Server`: framing, both protocol eras,
cancellation, progress, elicitation), over the shared core."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup
from mcp.server.lowlevel.server import NotificationOptions, Server
from mcp.server.models import InitializationOptions
from mcp.server.subscriptions import ListenHandler

from agy_lsp import __version__, parent_process
from agy_lsp.agents.manager import AgentManager
from agy_lsp.mcp.mcp_editor import McpEditor
from agy_lsp.mcp.owned_notifier import OwnedNotifier, watching
from agy_lsp.mcp.owners import Guard, Owners, guard_resource, guard_tool
from agy_lsp.mcp.queries import Queries
from agy_lsp.mcp.resources import Notifier, Resources
from agy_lsp.mcp.sessions import Sessions
from agy_lsp.mcp.stdio import stdio_server
from agy_lsp.mcp.tools import Tools
from agy_lsp.mcp.turns import Turns
from agy_lsp.settings import Settings

if TYPE_CHECKING:
    from agy_lsp.sdk.port import Sdk

log = logging.getLogger(__name__)

INSTRUCTIONS = (
    "agy-lsp runs Google Antigravity coding agents. agy_run delegates a task to one and returns its answer, "
    "the files it changed and a sessionId; agy_reply continues that conversation. By default an agent may "
    "read files freely, but edits and commands need the person's approval (asked through the host when it "
    "supports elicitation, otherwise denied): pass policy to allow more. Stored sessions are also resources "
    "(agy://sessions/<sessionId>, Markdown transcripts)."
)


async def _exit(manager: AgentManager, why: str) -> None:
    """SIGTERM, or the host's process is gone: close every agent, then exit at once
    (without EOF on stdin the normal way out would wait for a host that never hangs up)."""
    log.info("%s: shutting down", why)
    with anyio.move_on_after(manager.settings.shutdown_timeout_secs + 5, shield=True):
        await manager.close_all()
    logging.shutdown()
    os._exit(0)


async def _until_signal(manager: AgentManager) -> None:
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            await _exit(manager, f"signal {signum}")


async def _exit_when(gone: anyio.Event, manager: AgentManager) -> None:
    await gone.wait()
    await _exit(manager, "the host's process is gone")


class AgyServer(Server[object]):
    """The lowlevel Server, announcing resources/list_changed also where a transport
    (the Streamable HTTP session manager) asks for the default options."""

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        notify = notification_options or NotificationOptions(resources_changed=True)
        return super().create_initialization_options(notify, experimental_capabilities, extensions)


def build_server(manager: AgentManager, editor: McpEditor, tg: TaskGroup, default_cwd: str, guard: Guard | None = None) -> AgyServer:
    """The MCP server over the core, whatever the transport. `guard`: whose sessions a
    request may see (HTTP, owners.py); None: all of them (stdio, one host)."""
    notifier = OwnedNotifier(tg, guard) if isinstance(guard, Owners) else Notifier(tg)
    sessions = Sessions(manager, default_cwd)
    tools = Tools(Turns(manager, editor, sessions, notifier, tg), Queries(manager, sessions), editor, notifier)
    resources = Resources(manager, sessions, notifier)
    call_tool, read, subscribe, unsubscribe = tools.call, resources.read, resources.subscribe, resources.unsubscribe
    if guard is not None:
        sessions.guard = guard
        call_tool, read, subscribe = guard_tool(guard, call_tool), guard_resource(guard, read), guard_resource(guard, subscribe)
    if isinstance(notifier, OwnedNotifier):
        subscribe, unsubscribe = watching(notifier, subscribe, True), watching(notifier, unsubscribe, False)
    return AgyServer(
        "agy-lsp",
        version=__version__,
        title="Google Antigravity agents (agy-lsp)",
        instructions=INSTRUCTIONS,
        on_list_tools=tools.list,
        on_call_tool=call_tool,
        on_list_resources=resources.list,
        on_list_resource_templates=resources.templates,
        on_read_resource=read,
        on_subscribe_resource=subscribe,
        on_unsubscribe_resource=unsubscribe,
        on_subscriptions_listen=ListenHandler(notifier.bus),
    )


async def run_mcp(settings: Settings, client_process_id: int | None = None, sdk: Callable[[], Sdk] | None = None) -> int:
    """Serve one MCP host on stdin/stdout until it hangs up (or its process dies, or
    SIGTERM); every agent is closed on the way out. 0 on a clean end. `sdk`: the
    core's SDK factory (None: the real SDK; tests/inproc passes a fake)."""
    editor = McpEditor()
    async with AgentManager(settings, editor) if sdk is None else AgentManager(settings, editor, sdk=sdk) as manager:
        manager.announce_fallback()
        async with anyio.create_task_group() as tg:
            server = build_server(manager, editor, tg, os.getcwd())
            options = server.create_initialization_options()

            async def serve() -> None:
                async with stdio_server() as (read, write):
                    await server.run(read, write, options)
                tg.cancel_scope.cancel()  # the host hung up

            tg.start_soon(serve)
            tg.start_soon(_until_signal, manager)
            if client_process_id is not None:
                gone = anyio.Event()
                tg.start_soon(parent_process.watch, client_process_id, gone.set)
                tg.start_soon(_exit_when, gone, manager)
    return 0
