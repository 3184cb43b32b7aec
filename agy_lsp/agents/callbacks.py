"""Editor tools and hooks: SDK callbacks whose body is a request to the editor.

- An editor tool becomes an SDK custom tool (`ToolWithSchema`) that sends
  `agy/runTool`; its answer or error goes back to the model as the tool result.
- A subscribed hook point becomes an SDK hook: inspect points notify
  (`agy/hook` notification), decide/transform points ask (`agy/hook` request).
  Unsubscribed points register nothing, so they cost nothing.
- Two internal tool hooks always run: the pre-tool-call hook gives each call its
  id (agents/chunks.py `ToolIds`) and asks a subscribed editor; the post-tool-call
  hook streams `toolResult` chunks.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import anyio

from agy_lsp.agents import convert
from agy_lsp.agents.mcp import qualified_name
from agy_lsp.protocol.types import EditorTool, HookParams, HookPoint, RunToolParams

if TYPE_CHECKING:
    from agy_lsp.agents.session import AgentSession

log = logging.getLogger(__name__)


class EditorToolError(RuntimeError):
    """Raised inside an editor tool; the SDK hands its message to the model."""


class Callbacks:
    def __init__(self, session: AgentSession) -> None:
        self._session = session
        self._pending: set[anyio.CancelScope] = set()
        self.tool_state: dict[str, Any] = {}

    # ------------------------------------------------------------------ pending editor requests

    @contextlib.contextmanager
    def pending_scope(self) -> Generator[anyio.CancelScope, None, None]:
        """A cancel scope around one request to the editor; cancelling the turn
        cancels every pending one (confirmations resolve as cancelled)."""
        with anyio.CancelScope() as scope:
            self._pending.add(scope)
            try:
                yield scope
            finally:
                self._pending.discard(scope)

    def cancel_pending(self) -> None:
        for scope in list(self._pending):
            scope.cancel()

    # ------------------------------------------------------------------ editor tools

    def sdk_tools(self) -> list[Any]:
        from google.antigravity.tools.tool_runner import ToolWithSchema

        tools = self._session.params.tools
        self._session.chunks.ids.custom = frozenset(t.name for t in tools)
        return [ToolWithSchema(self._tool_body(t), input_schema=_schema(t)) for t in tools]

    def _tool_body(self, tool: EditorTool) -> Any:
        session = self._session

        async def run(**args: Any) -> Any:
            timeout = tool.timeout_secs or session.settings.tool_timeout_secs
            params = RunToolParams(
                agent_id=session.agent_id,
                turn_id=session.turn_id or "",
                tool_call=session.chunks.ids.running(tool.name, args),
                state=self.tool_state,
            )
            try:
                with self.pending_scope() as scope:
                    with anyio.fail_after(timeout):
                        result = await session.editor.run_tool(params)
                if scope.cancelled_caught:
                    raise EditorToolError("the turn was cancelled")
            except TimeoutError as e:
                raise EditorToolError(f"the editor did not answer within {timeout:g}s") from e
            except EditorToolError:
                raise
            except Exception as e:
                raise EditorToolError(f"the editor failed to run {tool.name}: {e}") from e
            if result.state is not None:
                self.tool_state.update(result.state)
            if result.error is not None:
                raise EditorToolError(result.error)
            return result.content

        run.__name__ = tool.name
        run.__doc__ = tool.description or f"Editor tool {tool.name}"
        return run

    # ------------------------------------------------------------------ hooks

    def sdk_hooks(self) -> list[Any]:
        from google.antigravity import types as sdk
        from google.antigravity.hooks import hooks as h

        session = self._session
        subscribed = set(session.params.hooks)
        out: list[Any] = []

        callbacks = self

        class _ToolCalls(h.PreToolCallDecideHook):
            async def run(self, context: Any, data: Any) -> Any:
                ids = session.chunks.ids
                call = ids.before(data)
                if "preToolCall" not in subscribed:
                    return sdk.HookResult(allow=True)
                answer = await callbacks.ask("preToolCall", call)
                if answer is None:  # fail closed: a decide hook that cannot decide denies
                    ids.deny(call.id)
                    return sdk.HookResult(allow=False, message="the editor's preToolCall hook did not answer")
                if not answer.allow:
                    ids.deny(call.id)
                elif answer.modified_args:
                    ids.modified(call.id, answer.modified_args)
                return sdk.HookResult(allow=answer.allow, message=answer.message, modified_args=answer.modified_args)

        class _ToolResults(h.PostToolCallHook):
            async def run(self, context: Any, data: Any) -> None:
                result = session.chunks.ids.result(data)
                session.chunks.emit("toolResult", tool_result=result)
                if "postToolCall" in subscribed:
                    callbacks.notify("postToolCall", result)

        out += [_ToolCalls(), _ToolResults()]
        for point in subscribed:
            hook = self._hook_for(point, h)
            if hook is not None:
                out.append(hook)
        return out

    def notify(self, point: HookPoint, data: Any) -> None:
        session = self._session
        session.editor.hook_notice(HookParams(agent_id=session.agent_id, point=point, turn_id=session.turn_id, data=data))

    async def ask(self, point: HookPoint, data: Any) -> Any:
        """A decide/transform hook: the editor's answer, or None if it failed."""
        session = self._session
        params = HookParams(agent_id=session.agent_id, point=point, turn_id=session.turn_id, data=data)
        try:
            with self.pending_scope():
                with anyio.fail_after(session.settings.confirm_timeout_secs):
                    return await session.editor.hook(params)
        except Exception as e:
            log.info("hook %s failed: %s", point, e)
            return None

    def _hook_for(self, point: HookPoint, h: Any) -> Any:
        from google.antigravity import types as sdk

        cb, session = self, self._session

        def inspect(base: Any) -> Any:
            class _Inspect(base):  # type: ignore[misc, valid-type]
                async def run(self, context: Any, data: Any) -> None:
                    cb.notify(point, convert._jsonable(data))  # pyright: ignore[reportPrivateUsage]

            return _Inspect()

        if point in ("postTurn", "onCompaction", "onSessionStart", "onSessionEnd"):
            base = {
                "postTurn": h.PostTurnHook,
                "onCompaction": h.OnCompactionHook,
                "onSessionStart": h.OnSessionStartHook,
                "onSessionEnd": h.OnSessionEndHook,
            }[point]
            return inspect(base)
        if point in ("preToolCall", "postToolCall"):
            return None  # served by the always-on tool hooks (sdk_hooks)
        if point == "preTurn":

            class _PreTurn(h.PreTurnHook):
                async def run(self, context: Any, data: Any) -> Any:
                    answer = await cb.ask(point, convert._jsonable(data))  # pyright: ignore[reportPrivateUsage]
                    if answer is None:
                        return sdk.HookResult(allow=True)
                    return sdk.HookResult(allow=answer.allow, message=answer.message)

            return _PreTurn()
        if point == "onToolError":

            class _ToolError(h.OnToolErrorHook):
                async def run(self, context: Any, data: Any) -> Any:
                    payload: dict[str, Any] = {"error": str(data), "type": type(data).__name__}
                    if name := getattr(data, "tool_name", None):  # an SDK ToolExecutionError
                        payload["name"] = qualified_name(str(name), getattr(data, "server_name", None))
                    if call_id := session.chunks.ids.id_of_error(data):
                        payload["id"] = call_id
                    answer = await cb.ask(point, payload)
                    return answer.message or None if answer is not None else None

            return _ToolError()
        if point == "onInteraction":

            class _Interaction(h.OnInteractionHook):
                async def run(self, context: Any, data: Any) -> Any:
                    answer = await cb.ask(point, convert._jsonable(data))  # pyright: ignore[reportPrivateUsage]
                    if answer is None or answer.answer is None:
                        return sdk.QuestionHookResult(responses=[], cancelled=True)
                    return _question_result(answer.answer, sdk)

            return _Interaction()
        return None


def _question_result(answer: Any, sdk: Any) -> Any:
    """The editor's onInteraction answer -> QuestionHookResult. Accepts a list of
    {selectedOptionIds?, freeformResponse?, skipped?} or a single string."""
    if isinstance(answer, str):
        answer = [{"freeformResponse": answer}]
    if isinstance(answer, dict):
        answer = [answer]
    responses = []
    for item in answer if isinstance(answer, list) else []:  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(item, dict):
            continue
        responses.append(  # pyright: ignore[reportUnknownMemberType]
            sdk.QuestionResponse(
                selected_option_ids=item.get("selectedOptionIds"),  # pyright: ignore[reportUnknownMemberType]
                freeform_response=str(item.get("freeformResponse", "")),  # pyright: ignore[reportUnknownMemberType]
                skipped=bool(item.get("skipped", False)),  # pyright: ignore[reportUnknownMemberType]
            )
        )
    return sdk.QuestionHookResult(responses=responses)


def _schema(tool: EditorTool) -> dict[str, Any]:
    schema = dict(tool.parameters) if tool.parameters else {}
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    return schema
