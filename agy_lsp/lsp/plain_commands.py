"""Registration of the standard-LSP features: code actions, `workspace/executeCommand`
commands and work-done progress cancel (docs/protocol.md, "Standard LSP").

Commands take one argument, an object; a malformed one is -32602 with the cause.
Commands that start a turn answer at once with `{agentId, turnId}`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.uris import to_fs_path

from agy_lsp.lsp import plain_actions, plain_chatdoc, plain_inline, plain_review
from agy_lsp.lsp.plain_run import PlainLayer
from agy_lsp.lsp.rpc import to_jsonrpc
from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.types import ChatResult

if TYPE_CHECKING:
    from agy_lsp.lsp.language_server import AgyLanguageServer

log = logging.getLogger(__name__)

CHAT, CANCEL, NEW_AGENT, PLAN_THEN_GO = "agy-lsp.chat", "agy-lsp.cancel", "agy-lsp.newAgent", "agy-lsp.planThenGo"
PLAN_PREFIX = "First write a short numbered plan for this, then carry it out step by step.\n\n"
Command = Callable[[PlainLayer, dict[str, Any]], Awaitable[Any]]


def bad(message: str, **data: Any) -> AgyError:
    return AgyError(ErrorCode.INVALID_PARAMS, message, data or None)


def _arg(args: tuple[Any, ...]) -> dict[str, Any]:
    if len(args) == 0:
        return {}
    if len(args) != 1 or not isinstance(args[0], dict):
        raise bad("a command takes one argument, an object", got=[type(a).__name__ for a in args])
    return args[0]  # pyright: ignore[reportUnknownVariableType]


def _str(args: dict[str, Any], key: str, required: bool = True) -> str | None:
    value = args.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise bad(f"`{key}` must be a non-empty string", field=key)
    return value


def _path(layer: PlainLayer, args: dict[str, Any]) -> str:
    uri = _str(args, "uri", required=False)
    if uri is None:
        return layer.state.folders[0] + "/" if layer.state.folders else "/"
    path = to_fs_path(uri)
    if not path:
        raise bad("`uri` must be a file: URI", field="uri")
    return path


async def run_action(layer: PlainLayer, args: dict[str, Any]) -> Any:
    action = _str(args, "action")
    if action not in plain_actions.INSTRUCTIONS:
        raise bad(f"unknown action {action!r}", field="action", known=sorted(plain_actions.INSTRUCTIONS))
    uri = _str(args, "uri")
    assert uri is not None
    doc = plain_actions.document(layer.ls, uri)
    if doc is None:
        raise bad("the document is not open in the editor", field="uri", uri=uri)
    path = to_fs_path(doc.uri) or doc.uri
    agent_id = await layer.state.agent_for(layer.ls, path)
    text = doc.source
    layer.tools.saw(agent_id, path, text)
    prompt = plain_actions.prompt_for(action, path, text, args, layer.state.support.apply_edit)
    done = _show_answer(layer) if action == "explain" else None
    turn = layer.start(agent_id, prompt, f"agy: {action} ({path.rsplit('/', 1)[-1]})", done)
    return {"agentId": agent_id, "turnId": turn.turn_id}


def _show_answer(layer: PlainLayer) -> Callable[[ChatResult], Awaitable[None]]:
    async def done(result: ChatResult) -> None:
        if result.text.strip():
            layer.ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Info, message=result.text.strip()))

    return done


async def chat(layer: PlainLayer, args: dict[str, Any], plan: bool = False) -> Any:
    prompt = _str(args, "prompt")
    assert prompt is not None
    agent_id = await layer.state.agent_for(layer.ls, _path(layer, args))
    turn = layer.start(agent_id, (PLAN_PREFIX if plan else "") + prompt, "agy: plan, then go" if plan else "agy: chat", _show_answer(layer))
    return {"agentId": agent_id, "turnId": turn.turn_id}


async def plan_then_go(layer: PlainLayer, args: dict[str, Any]) -> Any:
    return await chat(layer, args, plan=True)


async def cancel(layer: PlainLayer, args: dict[str, Any]) -> Any:
    return {"cancelled": layer.cancel(turn_id=_str(args, "turnId", required=False))}


async def new_agent(layer: PlainLayer, args: dict[str, Any]) -> Any:
    return {"agentId": await layer.state.agent_for(layer.ls, _path(layer, args), fresh=True)}


COMMANDS: dict[str, Command] = {
    plain_actions.ACTION_COMMAND: run_action,
    CHAT: chat,
    CANCEL: cancel,
    NEW_AGENT: new_agent,
    PLAN_THEN_GO: plan_then_go,
}


def register_command(server: AgyLanguageServer, layer: PlainLayer, name: str, fn: Command) -> None:
    async def handler(ls: Any, *args: Any) -> Any:  # pygls reads these annotations at run time
        try:
            return await fn(layer, _arg(args))
        except AgyError as e:
            raise to_jsonrpc(e) from e
        except JsonRpcException:
            raise
        except Exception as e:
            log.exception("command %s", name)
            raise JsonRpcException(
                message=f"internal error: {type(e).__name__}",
                code=int(ErrorCode.INTERNAL_ERROR),
                data={"code": "INTERNAL_ERROR", "type": type(e).__name__, "cause": str(e)[:2000]},
            ) from e

    server.command(name)(handler)


def register(server: AgyLanguageServer, layer: PlainLayer, extra: dict[str, Command] | None = None) -> None:
    server.editor.plain = layer
    reviews = plain_review.register(server, layer)
    plain_inline.register(server, layer)

    async def review(layer: PlainLayer, args: dict[str, Any]) -> Any:
        return await reviews.review(args)

    commands = {**COMMANDS, plain_review.REVIEW: review, plain_chatdoc.CHAT_IN_DOCUMENT: plain_chatdoc.chat_in_document}
    for name, fn in {**commands, **(extra or {})}.items():
        register_command(server, layer, name, fn)

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=plain_actions.OFFERED_KINDS, resolve_provider=False),
    )
    def code_action(ls: AgyLanguageServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        try:
            doc = plain_actions.document(ls, params.text_document.uri)
            if doc is not None and plain_chatdoc.is_markdown(doc):
                return plain_chatdoc.code_actions(ls, params)
            fixes = reviews.quick_fixes(params)
            asked_about = params.context.diagnostics
            if fixes and asked_about and all(d.source == plain_review.SOURCE for d in asked_about):
                # at agy's own findings the fix is the answer (Kate's Quick Fix runs every action offered)
                return fixes
            return fixes + plain_actions.code_actions(ls, layer.state, params)
        except Exception:  # listing must never fail the editor's request
            log.exception("code actions")
            return []

    @server.feature(lsp.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def progress_cancel(ls: AgyLanguageServer, params: lsp.WorkDoneProgressCancelParams) -> None:
        layer.cancel(token=str(params.token))
