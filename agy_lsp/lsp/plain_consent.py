"""Consent without a plugin: an "ask" tool call as `window/showMessageRequest`.

Used when the client did not declare `experimental.agy.confirmToolCall`. The
message is the whole call (`protocol/shown.py`: every argument in full, control
characters escaped); the actions are Allow once, Allow always, Reject, Reject
always. No answer (the person dismissed it) or anything unknown is a rejection; an
error (a client that cannot show it) refuses the call too, saying the editor could
not ask: fail closed.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from agy_lsp.protocol.shown import action_lines
from agy_lsp.protocol.types import ConfirmToolCallParams, ConfirmToolCallResult

if TYPE_CHECKING:
    from agy_lsp.lsp.language_server import AgyLanguageServer


class CannotAskError(Exception):
    """The client answered the prompt with an error: it cannot ask the person."""


ACTIONS = {"Allow once": "allow_once", "Allow always": "allow_always", "Reject": "reject_once", "Reject always": "reject_always"}


def message_of(params: ConfirmToolCallParams) -> str:
    lines = ["agy: the agent wants to run this. Allow it?", *action_lines(params.tool_call)]
    if params.reason:
        lines.append(f"(asked because: {params.reason})")
    return "\n".join(lines)


def outcome_of(params: ConfirmToolCallParams, title: str | None) -> str:
    """The answer as an option id of this call, or a kind (the core takes either)."""
    kind = ACTIONS.get(title or "")
    if kind is None:
        return "reject_once"
    option = next((o for o in params.options if o.kind == kind), None)
    return option.option_id if option is not None else kind


async def ask(ls: AgyLanguageServer, params: ConfirmToolCallParams) -> ConfirmToolCallResult:
    request = lsp.ShowMessageRequestParams(
        type=lsp.MessageType.Warning,
        message=message_of(params),
        actions=[lsp.MessageActionItem(title=t) for t in ACTIONS],
    )
    msg_id = f"agy-{uuid.uuid4().hex[:12]}"
    try:
        answer: Any = await ls.protocol.send_request_async(lsp.WINDOW_SHOW_MESSAGE_REQUEST, request, msg_id=msg_id)
    except BaseException as e:
        if not isinstance(e, Exception):  # cancelled or timed out: the editor may drop its prompt
            ls.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id=msg_id))
            raise
        ls.editor.log("warning", f"window/showMessageRequest failed ({e}); the tool call is refused")
        # nobody was asked, so not "you rejected it": the core refuses with this cause
        raise CannotAskError(f"the editor could not show window/showMessageRequest ({getattr(e, 'message', None) or e})") from e
    title = answer.get("title") if isinstance(answer, dict) else getattr(answer, "title", None)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    return ConfirmToolCallResult(outcome=outcome_of(params, title if isinstance(title, str) else None))
