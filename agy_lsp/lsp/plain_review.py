"""`agy-lsp.review`: the agent reviews a file or a range; its findings become
diagnostics (source `agy`), each with a quick fix that applies the agent's
suggested change. A finding goes away when the text it points at changes (it
follows the text when lines above it move).

The agent answers with a JSON array (asked for in the prompt); an answer that is
not one is shown as a message and publishes nothing.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from agy_lsp.lsp import plain_actions
from agy_lsp.lsp.plain_run import PlainLayer
from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.types import ChatResult

if TYPE_CHECKING:
    from agy_lsp.lsp.language_server import AgyLanguageServer

log = logging.getLogger(__name__)

REVIEW = "agy-lsp.review"
SOURCE = "agy"
MAX_FINDINGS = 50
_SEVERITY = {
    "error": lsp.DiagnosticSeverity.Error,
    "warning": lsp.DiagnosticSeverity.Warning,
    "info": lsp.DiagnosticSeverity.Information,
    "hint": lsp.DiagnosticSeverity.Hint,
}
ASK = (
    "Review the code at lines {start}-{end} of {path} for bugs and real problems (not style). "
    "Change no file. Answer with only a JSON array, one object per finding: "
    '{{"line": <1-based first line>, "endLine": <1-based last line>, "severity": "error"|"warning"|"info"|"hint", '
    '"message": "<the problem>", "fix": {{"old": "<exact text to replace, from those lines>", "new": "<replacement>"}}}} '
    "(fix is optional). An empty array if you find nothing.\n\nBelow is {note}, with line numbers.\n\n```\n{shown}```\n"
)


@dataclass
class Finding:
    diagnostic: lsp.Diagnostic
    text: str  # the lines it points at, when published
    fix: dict[str, str] | None


class Reviews:
    def __init__(self, layer: PlainLayer) -> None:
        self.layer = layer
        self.findings: dict[str, list[Finding]] = {}  # uri -> findings

    async def review(self, args: dict[str, Any]) -> Any:
        uri = args.get("uri")
        if not isinstance(uri, str):
            raise AgyError(ErrorCode.INVALID_PARAMS, "`uri` (an open document) is required", {"field": "uri"})
        doc = plain_actions.document(self.layer.ls, uri)
        if doc is None:
            raise AgyError(ErrorCode.INVALID_PARAMS, "the document is not open in the editor", {"field": "uri", "uri": uri})
        lines = doc.lines
        rng = args.get("range") or {}
        if isinstance(rng, dict) and rng.get("start") == rng.get("end"):
            rng = {}  # a bare cursor (a code action at point): the whole file
        start = _int(rng.get("start", {}).get("line"), 0) if isinstance(rng, dict) else 0
        end = _int(rng.get("end", {}).get("line"), len(lines) - 1) if isinstance(rng, dict) else len(lines) - 1
        start, end = max(0, min(start, len(lines) - 1)), max(0, min(end, len(lines) - 1))
        path = to_fs_path(doc.uri) or doc.uri
        shown, note = plain_actions.excerpt(doc.source, start, end)
        prompt = ASK.format(start=start + 1, end=end + 1, path=path, note=note, shown=shown)
        agent_id = await self.layer.state.agent_for(self.layer.ls, path)
        doc_uri = doc.uri

        async def done(result: ChatResult) -> None:
            self.publish(doc_uri, result.text)

        turn = self.layer.start(agent_id, prompt, f"agy: review ({path.rsplit('/', 1)[-1]})", done)
        return {"agentId": agent_id, "turnId": turn.turn_id}

    def publish(self, uri: str, answer: str) -> None:
        doc = plain_actions.document(self.layer.ls, uri)
        raw = parse_findings(answer)
        if doc is None or raw is None:
            self.layer.ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Info, message=f"agy review: {answer.strip()}"))
            return
        lines = doc.lines
        found: list[Finding] = []
        for item in raw[:MAX_FINDINGS]:
            first = _int(item.get("line"), 1) - 1
            last = max(first, _int(item.get("endLine"), first + 1) - 1)
            if not 0 <= first < len(lines):
                continue
            last = min(last, len(lines) - 1)
            fix = item.get("fix")
            fix = fix if isinstance(fix, dict) and isinstance(fix.get("old"), str) and isinstance(fix.get("new"), str) else None  # pyright: ignore[reportUnknownMemberType]
            diag = lsp.Diagnostic(
                range=_lines_range(lines, first, last),
                message=str(item.get("message") or "a problem"),
                severity=_SEVERITY.get(str(item.get("severity")), lsp.DiagnosticSeverity.Warning),
                source=SOURCE,
            )
            found.append(Finding(diag, "".join(lines[first : last + 1]), fix))  # pyright: ignore[reportUnknownArgumentType]
        self.findings[doc.uri] = found
        self._send(doc.uri, doc.version)

    def _send(self, uri: str, version: int | None) -> None:
        diags = [f.diagnostic for f in self.findings.get(uri, [])]
        self.layer.ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diags, version=version))

    def changed(self, uri: str) -> None:
        """After an edit: keep each finding whose text is still there (moved with it), drop the rest."""
        found = self.findings.get(uri)
        doc = plain_actions.document(self.layer.ls, uri)
        if not found or doc is None:
            return
        lines, kept, moved = doc.lines, list[Finding](), False
        for f in found:
            n = f.text.count("\n") or 1
            rng = f.diagnostic.range
            here = "".join(lines[rng.start.line : rng.start.line + n])
            if here == f.text:
                kept.append(f)
                continue
            at = [i for i in range(len(lines) - n + 1) if "".join(lines[i : i + n]) == f.text]
            if len(at) == 1:
                f.diagnostic.range = _lines_range(lines, at[0], at[0] + n - 1)
                kept.append(f)
                moved = True
        if moved or len(kept) != len(found):
            self.findings[uri] = kept
            self._send(uri, doc.version)

    def quick_fixes(self, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        doc = plain_actions.document(self.layer.ls, params.text_document.uri)
        if doc is None:
            return []
        actions: list[lsp.CodeAction] = []
        for f in self.findings.get(doc.uri, []):
            rng = f.diagnostic.range
            if f.fix is None or rng.end.line < params.range.start.line or params.range.end.line < rng.start.line:
                continue
            text = doc.source
            old = f.fix["old"]
            if not old or text.count(old) != 1:
                continue
            at = text.index(old)
            start, end = _position(text, at), _position(text, at + len(old))
            edit = lsp.TextEdit(range=lsp.Range(start=start, end=end), new_text=f.fix["new"])
            ident = lsp.OptionalVersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version)
            actions.append(
                lsp.CodeAction(
                    title=f"agy: {f.diagnostic.message[:80]}",
                    kind=lsp.CodeActionKind.QuickFix,
                    diagnostics=[f.diagnostic],
                    is_preferred=True,
                    edit=lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(text_document=ident, edits=[edit])])
                    if self.layer.state.support.document_changes
                    else lsp.WorkspaceEdit(changes={doc.uri: [edit]}),
                )
            )
        return actions


def parse_findings(answer: str) -> list[dict[str, Any]] | None:
    """The JSON array in the agent's answer (in a code fence or bare), or None."""
    text = answer.strip()
    fenced = re.search(r"```(?:json)?\s*(\[.*?\])\s*```", text, re.S)
    candidates = [fenced.group(1)] if fenced else []
    if "[" in text and "]" in text:
        candidates.append(text[text.index("[") : text.rindex("]") + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, list):
            return [v for v in value if isinstance(v, dict)]  # pyright: ignore[reportUnknownVariableType]
    return None


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _lines_range(lines: Any, first: int, last: int) -> lsp.Range:
    return lsp.Range(
        start=lsp.Position(line=first, character=0),
        end=lsp.Position(line=last, character=_utf16(lines[last].rstrip("\r\n"))),
    )


def _position(text: str, offset: int) -> lsp.Position:
    before = text[:offset]
    line = before.count("\n")
    return lsp.Position(line=line, character=_utf16(before[before.rfind("\n") + 1 :]))


def register(server: AgyLanguageServer, layer: PlainLayer) -> Reviews:
    reviews = Reviews(layer)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: AgyLanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
        reviews.changed(params.text_document.uri)

    return reviews
