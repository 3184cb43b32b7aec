"""One turn of an agent, from the prompt to its result.

claim the agent (AGENT_BUSY, or wait for a cancelled turn to settle) -> wait out
quota backoff -> make sure a harness is live (wake, restart, heal) -> pace ->
send and stream the steps (agents/turn.py turns them into chunks) -> the result,
or a classified error. A model failure restarts the harness on the same
conversation; quota errors are retried up to `maxQuotaRetries`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import anyio
import msgspec

from agy_lsp.agents import prompts
from agy_lsp.agents.report import TurnReport
from agy_lsp.agents.session import AgentSession
from agy_lsp.agents.store import RefusedCall
from agy_lsp.agents.turn import Turn
from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.types import ChatResult, Prompt, ToolCall, TurnWarning
from agy_lsp.sdk.port import LiveAgent, TurnCancelledError

log = logging.getLogger(__name__)

SETTLE_SECS = 10.0  # how long a new prompt waits for a cancelled turn to finish


async def run_chat(session: AgentSession, prompt: Prompt, turn_id: str | None = None, report: TurnReport | None = None) -> ChatResult:
    """The turn's answer; `report` (agents/report.py) gets all it did, also when it fails."""
    report = report or TurnReport()
    try:
        report.result = result = await _chat(session, prompt, turn_id, report)
    except AgyError as err:
        report.error = err
        raise
    return result


async def _chat(session: AgentSession, prompt: Prompt, turn_id: str | None, report: TurnReport) -> ChatResult:
    prompt = prompts.with_commands(prompt)
    prompts.check(prompt)
    await _claim(session)
    turn = Turn(
        session.agent_id,
        turn_id or uuid.uuid4().hex[:12],
        session.deps.editor,
        session.ids,
        frozenset(t.name for t in session.spec.tools),
        _labeler(session),
        report,
    )
    turn.task = asyncio.current_task()
    session.turn = turn
    session.last_active = time.monotonic()
    try:
        result = await _turn(session, turn, prompt)
    except AgyError as err:  # a failed turn that could not be saved either says both
        if session.unsaved is not None:
            err.data["warning"] = msgspec.to_builtins(warning(session.unsaved))
        raise
    if session.unsaved is not None:  # acknowledged means stored: the answer says it was not
        result = msgspec.structs.replace(result, warning=warning(session.unsaved))
    return result


async def _turn(session: AgentSession, turn: Turn, prompt: Prompt) -> ChatResult:
    try:
        with turn.cancel_scope():  # agy/cancel before the turn reached the model ends it here
            return await _with_retries(session, turn, prompt)
        return _cancelled(turn)
    finally:
        turn.cancel_pending()  # a turn that failed (a dead harness, a model error) withdraws its open editor requests
        turn.close_calls()
        turn.report.ended(turn.calls.records)
        _keep_refused(session, turn)
        session.persist(prompt, turn.id)
        session.turn = None
        turn.ended.set()
        session.last_active = time.monotonic()
        if session.state == "busy" and not session.closing:  # closing: busy -> closed, never idle in between
            session.lifecycle.to("idle")
        session.deps.changed()


def warning(err: AgyError) -> TurnWarning:
    return TurnWarning(code=int(err.code), message=err.message, data=dict(err.data))


async def _claim(session: AgentSession) -> None:
    """A second turn while one runs is refused, unless that one was cancelled: then
    the new turn waits for it to settle (bounded)."""
    running = session.turn
    if running is None:
        return
    if running.cancel_requested or _task_cancelled(running):
        with anyio.move_on_after(SETTLE_SECS):
            await running.ended.wait()
        if session.turn is None:
            return
    raise AgyError(
        ErrorCode.AGENT_BUSY,
        f"agent {session.agent_id} is already running turn {running.id}; cancel it or wait",
        {"agentId": session.agent_id, "turnId": running.id},
    )


def _task_cancelled(turn: Turn) -> bool:
    """$/cancelRequest cancels the request's task; the turn learns it at its next await,
    which may come after the next request was read."""
    cancelling = getattr(turn.task, "cancelling", None)  # Python 3.11+
    return bool(cancelling and cancelling())


def _labeler(session: AgentSession) -> Callable[[Any, ToolCall], None]:
    """Tells the live harness's adapter which id a call got, so history shows it."""

    def label(key: Any, call: ToolCall) -> None:
        if session.live is not None:
            session.live.label(key, call)

    return label


async def _with_retries(session: AgentSession, turn: Turn, prompt: Prompt) -> ChatResult:
    deps, attempt = session.deps, 0
    while True:
        await deps.quota.wait(session.quota_key)
        live = await session.ensure_live()
        await deps.pacer.wait_turn()
        try:
            result = await _run(session, live, turn, prompt)
        except AgyError as err:
            if err.code == ErrorCode.QUOTA_EXCEEDED:
                err.data["retryAfterMs"] = deps.quota.backoff(session.quota_key, err.data.get("retryAfterMs"), deps.editor)
                if attempt < session.max_quota_retries():
                    attempt += 1
                    if session.state == "busy":  # a QUOTA_EXHAUSTED stop reason: the harness is fine, and idle until the retry
                        session.lifecycle.to("idle")
                    continue
            raise
        deps.quota.success(session.quota_key, deps.editor)
        return result


async def _run(session: AgentSession, live: LiveAgent, turn: Turn, prompt: Prompt) -> ChatResult:
    timeout = session.chat_timeout()
    session.lifecycle.to("busy")
    try:
        with turn.cancel_scope() as scope:
            with anyio.fail_after(timeout):
                await live.send(prompt)
                async for event in live.events():
                    turn.on_step(event)
        if scope.cancelled_caught:  # agy/cancel: finish politely with what we have
            await _settle(session, live, turn)
            return _cancelled(turn)
    except TimeoutError as e:
        await _settle(session, live, turn, stuck=True)
        raise AgyError(
            ErrorCode.TIMEOUT,
            f"the turn did not finish within {timeout:g}s",
            {"agentId": session.agent_id, "turnId": turn.id, "timeoutSecs": timeout, "partialText": "".join(turn.text)},
        ) from e
    except TurnCancelledError:
        await _settle(session, live, turn)
        return _cancelled(turn)
    except anyio.get_cancelled_exc_class():
        # $/cancelRequest or shutdown: stop the SDK turn, then let it propagate.
        turn.cancel_requested = True
        with anyio.CancelScope(shield=True):
            await _settle(session, live, turn)
        raise
    except AgyError as err:
        err.data.update(agentId=session.agent_id, turnId=turn.id, partialText="".join(turn.text))
        await _after_failure(session, err)
        raise
    if session.conversation_id is None:
        session.conversation_id = live.conversation_id
    stop = live.stop_reason()
    if err := from_stop_reason(stop):
        err.data.update(agentId=session.agent_id, turnId=turn.id, partialText="".join(turn.text))
        raise err
    return ChatResult(
        turn_id=turn.id,
        text="".join(turn.text),
        stop_reason=stop,
        usage=live.snapshot().last_turn_usage,
        structured_output=live.structured_output() if session.spec.response_schema else None,
    )


def _cancelled(turn: Turn) -> ChatResult:
    return ChatResult(turn_id=turn.id, text="".join(turn.text), stop_reason="cancelled", usage=None)


async def _settle(session: AgentSession, live: LiveAgent, turn: Turn, *, stuck: bool = False) -> None:
    """Stop the SDK turn and drain it, so nothing leaks into the next turn."""
    turn.cancel_pending()
    try:
        with anyio.fail_after(5):
            await live.cancel()
            await live.wait_for_idle()  # also drops leftover steps
    except Exception as e:
        log.info("agent %s did not settle after cancel (%s); restarting it", session.agent_id, type(e).__name__)
        session.needs_restart = True
    if stuck:  # a turn abandoned by our own timeout leaves the SDK agent unusable
        session.needs_restart = True


async def _after_failure(session: AgentSession, err: AgyError) -> None:
    """After a model failure the SDK agent is dead (its websocket to the harness is
    closed: the next chat returns nothing or hangs, docs/architecture.md#an-agents-lifecycle):
    restart it on the same conversation now, so the next turn finds it ready."""
    if not session.harness_alive():
        session.lifecycle.to("failed", err.message)
        return
    session.needs_restart = True
    try:
        await session.restart(err.message)
    except AgyError as restart_error:
        log.warning("agent %s could not restart: %s", session.agent_id, restart_error)


def _keep_refused(session: AgentSession, turn: Turn) -> None:
    """Calls that never ran are kept with the session: the harness stores only an
    error text for them, and a replay must show what the live turn showed."""
    for step_id, rec in turn.denied_steps.items():
        call = msgspec.structs.replace(rec.wire(), outcome=rec.outcome)
        session.refused.append(RefusedCall(step_id=step_id, call=call, reason=rec.reason))
    for rec in turn.late_denials() if turn.last_step else []:
        call = msgspec.structs.replace(rec.wire(), outcome=rec.outcome)
        session.refused.append(RefusedCall(step_id="", after_step=turn.last_step, call=call, reason=rec.reason))


def from_stop_reason(reason: str) -> AgyError | None:
    """Stop reasons that mean the turn did not finish normally."""
    if reason == "QUOTA_EXHAUSTED":
        return AgyError(ErrorCode.QUOTA_EXCEEDED, "the model's quota is exhausted", {"stopReason": reason, "retryAfterMs": 0})
    if reason.startswith("MAX_") and "TOKENS" in reason:
        return AgyError(ErrorCode.MAX_TOKENS, "the turn hit a token budget", {"stopReason": reason})
    if "SAFETY" in reason:
        return AgyError(ErrorCode.SAFETY, "the model stopped for safety", {"stopReason": reason})
    return None
