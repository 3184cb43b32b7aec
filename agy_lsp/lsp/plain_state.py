"""What the standard-LSP features share: the client's declared capabilities, the
agent each workspace folder uses, and the turns running for plain-LSP actions.

A plain client (one that never heard of agy) gets one agent per workspace folder,
named `agy-lsp: <folder>`, created at its first action and resumed from the stored
session of that name after a restart (so `agy/listSessions` lists it). Inline
completions use an internal agent of their own instead (plain_inline.py).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.uris import from_fs_path, to_fs_path

from agy_lsp.protocol.types import Capabilities, CreateAgentParams, EditorTool, PolicyRule

if TYPE_CHECKING:
    from agy_lsp.lsp.language_server import AgyLanguageServer

log = logging.getLogger(__name__)

AGENT_NAME = "agy-lsp: "  # + the workspace folder

# The file tools of plain-LSP agents (run in plain_tools.py)
READ, WRITE, REPLACE = "read_file", "write_file", "replace_in_file"


def _tool(name: str, description: str, *strings: str, integers: tuple[str, ...] = ()) -> EditorTool:
    """A file tool: an absolute `path` and the `strings` are required, the `integers` optional."""
    properties: dict[str, Any] = {"path": {"type": "string", "description": "absolute path"}}
    properties |= {arg: {"type": "string"} for arg in strings} | {arg: {"type": "integer"} for arg in integers}
    parameters = {"type": "object", "properties": properties, "required": ["path", *strings]}
    return EditorTool(name=name, description=description, parameters=parameters)


TOOLS = {
    READ: _tool(READ, "Read a text file as the editor has it (including unsaved changes). Lines are 1-based.", integers=("line", "limit")),
    WRITE: _tool(WRITE, "Write a whole text file through the editor (creates or replaces it; the person can undo it).", "content"),
    REPLACE: _tool(
        REPLACE, "Replace one exact occurrence of `old` with `new` in a file, through the editor. Prefer this to write_file.", "old", "new"
    ),
}
REPLACED = ["view_file", "create_file", "edit_file"]  # the SDK's names of the built-ins these stand for


@dataclass
class ClientSupport:
    """What the client declared at initialize (read once)."""

    apply_edit: bool = False
    document_changes: bool = False
    change_annotations: bool = False
    show_message_request: bool = False
    progress: bool = False
    resource_create: bool = False

    @classmethod
    def of(cls, caps: lsp.ClientCapabilities) -> ClientSupport:
        ws, window = caps.workspace, caps.window
        edit = ws.workspace_edit if ws else None
        return cls(
            apply_edit=bool(ws and ws.apply_edit),
            # LSP: a client that supports neither documentChanges nor resourceOperations gets
            # only `changes`; so declaring resource operations (as Neovim does) accepts them
            document_changes=bool(edit and (edit.document_changes or edit.resource_operations)),
            change_annotations=bool(edit and edit.change_annotation_support),
            # showMessageRequest is base protocol (every client gets asked); declaring
            # `window.showMessage` is how a client says it shows one
            show_message_request=bool(window and window.show_message is not None),
            progress=bool(window and window.work_done_progress),
            resource_create=bool(edit and edit.resource_operations and lsp.ResourceOperationKind.Create in edit.resource_operations),
        )

    def missing(self) -> list[str]:
        return [
            what
            for what, ok in (
                ("workspace/applyEdit (edits would be written to disk behind the editor)", self.apply_edit),
                ("window/showMessageRequest (tool calls that need consent are refused unless it is answered)", self.show_message_request),
                ("work-done progress (no progress or cancel for running actions)", self.progress),
            )
            if not ok
        ]


@dataclass
class RunningTurn:
    agent_id: str
    turn_id: str
    title: str
    task: asyncio.Task[Any] | None = None
    token: str | None = None  # the work-done progress token
    begun: bool = False  # its `begin` went out (after the client answered the create)
    on_chunk: Callable[[Any], None] | None = None


@dataclass
class PlainState:
    support: ClientSupport = field(default_factory=ClientSupport)
    plain: bool = True  # the client did not declare experimental.agy
    folders: list[str] = field(default_factory=list[str])
    agents: dict[str, str] = field(default_factory=dict[str, str])  # folder -> agent id
    plain_agents: set[str] = field(default_factory=set[str])
    turns: dict[str, RunningTurn] = field(default_factory=dict[str, RunningTurn])  # turn id -> turn
    seen_versions: dict[tuple[str, str], int | None] = field(default_factory=dict[tuple[str, str], int | None])
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict[str, asyncio.Lock])

    def set_folders(self, uris: list[str], root_uri: str | None) -> None:
        folders = [to_fs_path(u) for u in uris] or ([to_fs_path(root_uri)] if root_uri else [])
        self.folders = [f.rstrip("/") or "/" for f in folders if f]

    def folder_of(self, path: str) -> str:
        """The workspace folder holding `path` (the deepest), else its directory."""
        inside = [f for f in self.folders if path == f or path.startswith(f.rstrip("/") + "/")]
        return max(inside, key=len) if inside else str(Path(path).parent)

    def turn_of_agent(self, agent_id: str) -> RunningTurn | None:
        return next((t for t in self.turns.values() if t.agent_id == agent_id), None)

    async def agent_for(self, ls: AgyLanguageServer, path: str, *, fresh: bool = False) -> str:
        """The agent of `path`'s workspace folder: the live one, else the stored one
        resumed, else a new one. `fresh`: always a new one (`agy-lsp.newAgent`)."""
        folder = self.folder_of(path)
        lock = self._locks.setdefault(folder, asyncio.Lock())
        async with lock:
            live = self.agents.get(folder)
            if live is not None and not fresh and ls.manager.has(live):
                return live
            params = self.agent_params(folder)
            stored = [] if fresh else [m for m in ls.manager.sessions.stored() if m.name == params.name]
            created = None
            if stored:
                latest = max(stored, key=lambda m: m.updated_at)
                try:
                    created = await ls.manager.create(_with(params, conversation_id=latest.conversation_id), start=False)
                except Exception as e:  # a session that no longer resumes: start afresh
                    log.info("could not resume %s: %s", latest.conversation_id, e)
            if created is None:
                created = await ls.manager.create(params, start=False)
            self.agents[folder] = created.agent_id
            self.plain_agents.add(created.agent_id)
            return created.agent_id

    def agent_params(self, folder: str) -> CreateAgentParams:
        through_editor = self.support.apply_edit
        tools: list[EditorTool] = list(TOOLS.values()) if through_editor else []
        disabled = REPLACED if through_editor else []
        return CreateAgentParams(
            name=AGENT_NAME + folder,
            workspaces=[folder],
            tools=tools,
            capabilities=Capabilities(disabled_tools=disabled) if disabled else None,
            # reading a buffer is like the SDK's view_file, which safe defaults allow; writes ask
            policies=[PolicyRule(tool=READ, decision="allow")] if through_editor else None,
        )

    def new_turn_id(self) -> str:
        return uuid.uuid4().hex[:12]


def _with(params: CreateAgentParams, **changes: Any) -> CreateAgentParams:
    import msgspec

    return msgspec.structs.replace(params, **changes)


def uri_of(path: str) -> str:
    return from_fs_path(path) or path
