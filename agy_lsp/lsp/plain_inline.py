"""`textDocument/inlineCompletion` (LSP 3.18): ghost text from a lightweight agent.

Off by default (it spends tokens as the person types); `inlineCompletion.enabled`
in initializationOptions or workspace/didChangeConfiguration turns it on. Each
workspace folder gets one completion agent, apart from its chat agent: no tools,
minimal behaviour, `inlineCompletion.model` when set. The harness keeps a
conversation's every exchange (the SDK has no reset), so a completion agent serves
about `FRESH_AFTER_CHARS` of prompts and answers and is then replaced by a fresh
one, started in the background at half of that: every request stays small, and a
rotation costs no wait. It is internal: never stored,
listed by `agy/listSessions`, `agy/listAgents` or another front-end, nor resumable
as a chat.

A typing burst costs at most two model requests: a request waits
`inlineCompletion.debounceMs` and gives up (empty) when a newer one came meanwhile,
and a newer one that survives its wait cancels the completion still running.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from agy_lsp.lsp import plain_actions
from agy_lsp.lsp.plain_run import PlainLayer
from agy_lsp.protocol.errors import AgyError
from agy_lsp.protocol.types import Capabilities, CreateAgentParams

if TYPE_CHECKING:
    from agy_lsp.lsp.language_server import AgyLanguageServer

log = logging.getLogger(__name__)
T = TypeVar("T")

AGENT_NAME = "agy-lsp completions: "  # + the workspace folder
BEFORE_LINES, AFTER_LINES = 80, 20  # what the model sees around the cursor
FRESH_AFTER_CHARS = 48_000  # prompt and answer text one agent carries before a fresh one takes over
CURSOR = "<CURSOR>"
INSTRUCTIONS = (
    "You complete code at the cursor. Reply with only the text to insert at "
    f"{CURSOR}: no explanation, no code fence, nothing that is already before or after it."
)
_FENCE = re.compile(r"^```[\w+-]*\n(.*?)\n?```\s*$", re.S)


class Completions:
    def __init__(self, layer: PlainLayer) -> None:
        self.layer = layer
        self._agents: dict[str, str] = {}  # folder -> completion agent
        self._served: dict[str, int] = {}  # agent -> characters of prompts and answers it carries
        self._spares: dict[str, asyncio.Task[str]] = {}  # folder -> a fresh agent starting
        self._tasks: set[asyncio.Task[Any]] = set()
        self._latest: dict[str, int] = {}  # folder -> generation of the newest request
        self._running: dict[str, tuple[str, str]] = {}  # folder -> (agent, turn) of the running completion
        self._locks: dict[str, asyncio.Lock] = {}
        self._generation = 0

    async def complete(self, params: lsp.InlineCompletionParams) -> list[lsp.InlineCompletionItem]:
        settings = self.layer.ls.settings.inline_completion
        if not settings.enabled:
            return []
        doc = plain_actions.document(self.layer.ls, params.text_document.uri)
        if doc is None:
            return []
        path = to_fs_path(doc.uri) or doc.uri
        folder = self.layer.state.folder_of(path)
        self._generation += 1
        mine = self._latest[folder] = self._generation
        await asyncio.sleep(max(0, settings.debounce_ms) / 1000)
        if self._latest[folder] != mine:
            return []  # superseded while waiting: the newer request answers
        if (running := self._running.get(folder)) is not None:
            self.layer.ls.manager.cancel(*running)  # superseded while the model answered
        lock = self._locks.setdefault(folder, asyncio.Lock())
        async with lock:
            if self._latest[folder] != mine:
                return []
            try:
                offset = doc.offset_at_position(params.position)
            except Exception:  # a position outside the document: nothing to complete
                return []
            asked = prompt(path, doc.source, offset)
            agent_id = await self._agent(folder, settings.model)
            turn_id = self.layer.state.new_turn_id()
            self._running[folder] = (agent_id, turn_id)
            try:
                result = await self.layer.ls.manager.chat(agent_id, asked, turn_id=turn_id)
                self._served[agent_id] = self._served.get(agent_id, 0) + len(result.text)
            except AgyError as e:
                log.info("inline completion failed: %s", e.message)
                return []
            finally:
                self._running.pop(folder, None)
                await self._forget(agent_id)
                self._served[agent_id] = self._served.get(agent_id, 0) + len(asked)
                if self._served[agent_id] >= FRESH_AFTER_CHARS // 2 and folder not in self._spares:
                    self._spares[folder] = self._background(self._create(folder, settings.model, start=True))
            if result.stop_reason == "cancelled" or self._latest[folder] != mine:
                return []
            insert = clean(result.text)
            if not insert:
                return []
            here = lsp.Range(start=params.position, end=params.position)
            return [lsp.InlineCompletionItem(insert_text=insert, range=here)]

    async def _agent(self, folder: str, model: str | None) -> str:
        live = self._agents.get(folder)
        manager = self.layer.ls.manager
        if live is not None and manager.has(live) and self._served.get(live, 0) < FRESH_AFTER_CHARS:
            return live
        if live is not None:  # it served its share: it closes while the fresh one answers
            self._served.pop(live, None)
            if manager.has(live):
                self._background(manager.shutdown_agent(live))
        agent_id = None
        if (spare := self._spares.pop(folder, None)) is not None:
            try:
                agent_id = await spare
            except Exception as e:
                log.info("the fresh completion agent did not start: %s", e)
        if agent_id is None or not manager.has(agent_id):
            agent_id = await self._create(folder, model, start=False)
        self._agents[folder] = agent_id
        return agent_id

    async def _create(self, folder: str, model: str | None, *, start: bool) -> str:
        manager = self.layer.ls.manager
        backend = manager.default_backend(model) if model else None
        created = await manager.create(
            CreateAgentParams(
                name=AGENT_NAME + folder,
                backend=backend,
                workspaces=[folder],
                system_instructions=INSTRUCTIONS,
                capabilities=Capabilities(enabled_tools=[], agent_behavior="minimal"),
                policies="denyAll",
            ),
            start=start,
            internal=True,
        )
        return created.agent_id

    def _background(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)
        return task

    async def _forget(self, agent_id: str) -> None:
        """Each completion starts from an empty history (small, fast requests)."""
        try:
            await self.layer.ls.manager.clear_history(agent_id)
        except Exception as e:
            log.info("could not clear the completion agent's history: %s", e)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.info("completion agent upkeep failed: %s", error)


def prompt(path: str, text: str, offset: int) -> str:
    before = text[:offset].split("\n")[-BEFORE_LINES:]
    after = text[offset:].split("\n")[:AFTER_LINES]
    return f"File: {path}\n```\n" + "\n".join(before) + CURSOR + "\n".join(after) + "\n```\n"


def clean(answer: str) -> str:
    """The model's answer as text to insert: a code fence around it dropped."""
    if m := _FENCE.match(answer.strip()):
        return m.group(1)
    return answer.rstrip("\n") if answer.strip() else ""


def register(server: AgyLanguageServer, layer: PlainLayer) -> Completions:
    completions = Completions(layer)

    @server.feature(lsp.TEXT_DOCUMENT_INLINE_COMPLETION, lsp.InlineCompletionOptions())
    async def inline_completion(ls: AgyLanguageServer, params: lsp.InlineCompletionParams) -> Any:
        try:
            return await completions.complete(params)
        except asyncio.CancelledError:
            raise
        except Exception:  # ghost text is optional: a failure shows nothing, never an error
            log.exception("inline completion")
            return []

    return completions
