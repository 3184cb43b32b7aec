"""The agy-lsp language server and its main loop (features register in lsp/server.py).

The core (`AgentManager` and everything under it, ~0.1 s of imports) is loaded
once `initialize` has been answered: an editor waits for that answer at startup,
and the next request finds the core loaded (`manager` loads it at first use).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskGroup
from pygls.lsp.server import LanguageServer

from agy_lsp import __version__, parent_process
from agy_lsp.lsp.jsonrpc import AgyProtocol, FrameWriter, agy_converter, stdout_binary
from agy_lsp.lsp.lsp_editor import LspEditor
from agy_lsp.lsp.transport import open_stdin, read_loop
from agy_lsp.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from agy_lsp.agents.manager import AgentManager
    from agy_lsp.sdk.port import Sdk

log = logging.getLogger(__name__)


class AgyLanguageServer(LanguageServer):
    protocol: AgyProtocol  # pyright: ignore[reportIncompatibleVariableOverride]

    def __init__(self, settings: Settings, client_process_id: int | None = None, sdk: Callable[[], Sdk] | None = None) -> None:
        super().__init__("agy-lsp", __version__, protocol_cls=AgyProtocol, converter_factory=agy_converter)
        self.settings = settings
        self.editor = LspEditor(self)
        self._manager: AgentManager | None = None
        self.initialized = False  # `initialize` was answered
        self.exit_code: int | None = None
        self._exit: anyio.Event | None = None
        self.client_supports_progress = False
        self.client_process_id = client_process_id  # --clientProcessId, else initialize's processId
        self._tasks: TaskGroup | None = None
        self._watching = False
        self._sdk = sdk  # None: the real SDK

    @property
    def manager(self) -> AgentManager:
        if self._manager is None:
            from agy_lsp.agents.manager import AgentManager

            if self._sdk is None:
                self._manager = AgentManager(self.settings, self.editor)
            else:
                self._manager = AgentManager(self.settings, self.editor, sdk=self._sdk)
        return self._manager

    def reconfigure(self, settings: Settings) -> None:
        self.settings = settings
        if self._manager is not None:
            self._manager.reconfigure(settings)

    def watch_client_process(self, pid: int | None) -> None:
        """Exit (closing every agent) when the editor's process dies; once per server."""
        if pid is None or pid <= 0 or self._tasks is None or self._watching:
            return
        self._watching = True
        self._tasks.start_soon(parent_process.watch, pid, lambda: self.request_exit(0))

    def request_exit(self, code: int) -> None:
        self.exit_code = code
        if self._exit is not None:
            self._exit.set()

    async def serve(self) -> int:
        """Serve stdio until `exit`, EOF or SIGTERM; then close every agent."""
        self._exit = anyio.Event()
        if self.exit_code is not None:
            return self.exit_code
        writer = FrameWriter(stdout_binary())
        self.protocol.set_frame_writer(writer)
        reader = await open_stdin()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_exit, 0)
        await self._until_initialized(reader)
        if self.exit_code is not None and self._manager is None:
            writer.flush()
            return self.exit_code
        async with self.manager:
            async with anyio.create_task_group() as tg:
                self._tasks = tg

                async def read() -> None:
                    await read_loop(reader, self.protocol)
                    log.info("stdin closed")
                    self.request_exit(0)

                tg.start_soon(read)
                self.watch_client_process(self.client_process_id)
                await self._exit.wait()
                tg.cancel_scope.cancel()
            self._cancel_handlers()
        writer.flush()
        return self.exit_code or 0

    async def _until_initialized(self, reader: asyncio.StreamReader) -> None:
        """Serve until `initialize` is answered with only the LSP shell loaded (a message
        that needs the core before that loads it: `manager`)."""
        assert self._exit is not None
        exit_event = self._exit
        async with anyio.create_task_group() as tg:

            async def exit_early() -> None:
                await exit_event.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(exit_early)
            if not await read_loop(reader, self.protocol, until=lambda: self.initialized or self._manager is not None):
                self.request_exit(0)  # stdin closed
            tg.cancel_scope.cancel()

    def _cancel_handlers(self) -> None:
        for future in list(self.protocol.pending_requests().values()):
            future.cancel()
