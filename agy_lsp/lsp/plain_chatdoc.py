"""Chat in a Markdown document: the text under the last heading (or `---` line) is
the prompt; the answer streams in below it through `workspace/applyEdit`, tool
calls as short quoted lines, and a `## you` heading closes it for the next message.

Offered as the code action "agy: send" in any Markdown document (`*.md`, such as
`notes.agy.md`), and as the command `agy-lsp.chatInDocument {uri}`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from agy_lsp.lsp import plain_actions
from agy_lsp.lsp.plain_run import PlainLayer
from agy_lsp.lsp.plain_tools import end_position
from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.shown import visible
from agy_lsp.protocol.types import ChatChunk, ChatResult

if TYPE_CHECKING:
    from agy_lsp.lsp.language_server import AgyLanguageServer

log = logging.getLogger(__name__)

CHAT_IN_DOCUMENT = "agy-lsp.chatInDocument"
KIND = "source.agy.chat"
ANSWER, YOU = "## agy", "## you"
FLUSH_EVERY = 0.1  # seconds: streamed text is applied in batches this far apart
RETRY_AFTER, MAX_REFUSED = 0.5, 40  # a refused piece is sent again this often, for ~20 s at most


def is_markdown(doc: Any) -> bool:
    return doc.uri.endswith((".md", ".markdown")) or getattr(doc, "language_id", None) == "markdown"


def last_message(text: str) -> str:
    """The text under the last heading or `---` line (the whole text when there is none)."""
    lines = text.split("\n")
    marks = [i for i, line in enumerate(lines) if line.startswith("#") or line.strip() == "---"]
    return "\n".join(lines[marks[-1] + 1 :] if marks else lines).strip()


def tool_line(chunk: ChatChunk) -> str | None:
    if chunk.kind == "toolCall" and chunk.tool_call is not None:
        return f"> ⚙ {visible(chunk.tool_call.name, newlines=False)}"
    if chunk.kind == "toolResult" and chunk.tool_result is not None:
        result = chunk.tool_result
        outcome = result.outcome or ("failed" if result.error else "completed")
        mark = "✓" if outcome == "completed" else "✗"
        detail = f": {visible(result.error, newlines=False)[:100]}" if result.error and mark == "✗" else ""
        return f"> {mark} {visible(result.name, newlines=False)} {outcome}{detail}"
    return None


class Stream:
    """Appends to one place in the document, in order, as the answer comes."""

    def __init__(self, layer: PlainLayer, uri: str, at: lsp.Position) -> None:
        self.layer, self.uri, self.at = layer, uri, at
        self.written = ""  # what the editor applied so far: where it ends is where the next piece goes
        self.refused = 0  # pieces refused in a row
        self.pending: list[str] = []
        self.tail = ""  # the last two characters added
        self._lock = asyncio.Lock()
        self._scheduled = False
        self._tasks: set[asyncio.Task[Any]] = set()

    def add(self, text: str) -> None:
        self.pending.append(text)
        self.tail = (self.tail + text)[-2:]

    def paragraph_break(self) -> str:
        """The newlines that end what was added so far with a blank line."""
        return "\n" * (2 - len(self.tail) + len(self.tail.rstrip("\n")))

    def on_chunk(self, chunk: ChatChunk) -> None:
        if chunk.kind == "text" and chunk.text and chunk.depth is None:
            self.add(chunk.text)
        elif (line := tool_line(chunk)) is not None:
            self.add(self.paragraph_break() + f"{line}\n\n")  # a paragraph of its own
        else:
            return
        self.schedule()

    def schedule(self, delay: float = FLUSH_EVERY) -> None:
        if not self._scheduled:
            self._scheduled = True
            task = asyncio.ensure_future(self._flush_later(delay))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _flush_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self._scheduled = False
        await self.flush()

    async def flush(self, tail: str = "") -> None:
        async with self._lock:
            text = "".join(self.pending) + tail
            self.pending.clear()
            if not text or await self.insert(text):
                self.refused = 0
                return
            # refused (the person keeps typing): kept, and sent again with what follows it
            self.pending.insert(0, text)
            self.refused += 1
            if self.refused < MAX_REFUSED:
                self.schedule(RETRY_AFTER)
            else:
                self.pending.clear()
                self.layer.ls.window_show_message(
                    lsp.ShowMessageParams(
                        type=lsp.MessageType.Warning,
                        message=f"agy: the editor kept refusing the answer's text for {self.uri}; "
                        "the whole answer is in the agent's history",
                    )
                )

    def _anchor(self, source: str) -> lsp.Position:
        """Where the answer so far ends now: found by its text, so the person's typing above
        it (or below) moves it along; where it was when they edited the answer itself."""
        if self.written and (i := source.rfind(self.written)) >= 0:
            return end_position(source[: i + len(self.written)])
        return self.at

    async def insert(self, text: str) -> bool:
        for _ in range(3):  # the person typed meanwhile (a version mismatch): again, on the new version
            doc = plain_actions.document(self.layer.ls, self.uri)
            if doc is None:
                return True  # closed: nowhere to write; the answer is in the history
            self.at = self._anchor(doc.source)
            ident = lsp.OptionalVersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version)
            edit = lsp.TextEdit(range=lsp.Range(start=self.at, end=self.at), new_text=text)
            workspace_edit = (
                lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(text_document=ident, edits=[edit])])
                if self.layer.state.support.document_changes
                else lsp.WorkspaceEdit(changes={doc.uri: [edit]})
            )
            try:
                result: Any = await self.layer.ls.workspace_apply_edit_async(lsp.ApplyWorkspaceEditParams(edit=workspace_edit, label="agy"))
            except Exception as e:  # eglot refuses an edit on a stale version with an error answer
                log.info("the editor refused the chat text for %s: %s", self.uri, getattr(e, "message", None) or e)
                result = None
            applied = result.get("applied") if isinstance(result, dict) else getattr(result, "applied", False)  # pyright: ignore[reportUnknownMemberType]
            if applied:
                self.at = _advance(self.at, text)
                self.written += text
                await self._synced(doc.version)
                return True
            await self._synced(doc.version)  # the editor's didChange of the person's typing: its version
        log.info("the editor refused the chat text for %s", self.uri)
        return False

    async def _synced(self, version: int | None) -> None:
        for _ in range(50):
            doc = plain_actions.document(self.layer.ls, self.uri)
            if doc is None or doc.version != version:
                return
            await asyncio.sleep(0.02)


def _advance(at: lsp.Position, text: str) -> lsp.Position:
    lines = text.split("\n")
    if len(lines) == 1:
        return lsp.Position(line=at.line, character=at.character + len(text.encode("utf-16-le")) // 2)
    return lsp.Position(line=at.line + len(lines) - 1, character=len(lines[-1].encode("utf-16-le")) // 2)


async def chat_in_document(layer: PlainLayer, args: dict[str, Any]) -> Any:
    uri = args.get("uri")
    doc = plain_actions.document(layer.ls, uri) if isinstance(uri, str) else None
    if doc is None:
        raise AgyError(ErrorCode.INVALID_PARAMS, "`uri` must name a document open in the editor", {"field": "uri", "uri": uri})
    prompt = last_message(doc.source)
    if not prompt:
        raise AgyError(ErrorCode.INVALID_PARAMS, "nothing to send: write under the last heading first", {"uri": uri})
    path = to_fs_path(doc.uri) or doc.uri
    agent_id = await layer.state.agent_for(layer.ls, path)
    source = doc.source
    # before the final newline, not after it: an editor whose buffers always end in one
    # (Neovim) appends an insert past it as whole lines, adding a blank line
    before_eol = source.endswith("\n")
    stream = Stream(layer, doc.uri, end_position(source[:-1] if before_eol else source))
    stream.add(f"\n\n{ANSWER}\n\n")

    async def done(result: ChatResult) -> None:
        await stream.flush(stream.paragraph_break() + f"{YOU}\n" + ("" if before_eol else "\n"))

    turn = layer.start(agent_id, prompt, f"agy: chat ({path.rsplit('/', 1)[-1]})", done, on_chunk=stream.on_chunk)
    # The heading soon, but well after this answer: eglot sends no didChange while it waits
    # for it, and eglot 1.9 holds back a request that arrives with that answer until some
    # later message comes (the edit would hang until the person typed).
    stream.schedule(FLUSH_EVERY)
    return {"agentId": agent_id, "turnId": turn.turn_id}


def code_actions(ls: AgyLanguageServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    doc = plain_actions.document(ls, params.text_document.uri)
    if doc is None or not is_markdown(doc) or not last_message(doc.source):
        return []
    only = [str(k.value if isinstance(k, lsp.CodeActionKind) else k) for k in params.context.only or []]
    if only and not any(KIND == o or KIND.startswith(o + ".") for o in only):
        return []
    command = lsp.Command(title="agy: send", command=CHAT_IN_DOCUMENT, arguments=[{"uri": doc.uri}])
    return [lsp.CodeAction(title="agy: send", kind=KIND, command=command)]
