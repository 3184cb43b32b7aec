"""One started SDK `Agent` and its `localharness`, behind the core's `LiveAgent`."""

from __future__ import annotations

import base64
import binascii
import logging
import subprocess
import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio
from google.antigravity import Agent
from google.antigravity import types as sdk

from agy_lsp.protocol.errors import AgyError, ErrorCode, invalid_params
from agy_lsp.protocol.types import ContentPart, Prompt, Step, ToolCall, Usage
from agy_lsp.sdk import callbacks, internals, to_wire
from agy_lsp.sdk.errors import classify
from agy_lsp.sdk.port import Snapshot, StepEvent, TurnCancelledError

log = logging.getLogger(__name__)

# The harness's error on the step that stands for a call a hook or policy refused.
DENIED = "denied by pre-tool hook"
_MODEL, _USER, _ERROR, _SYSTEM = sdk.StepSource.MODEL, sdk.StepTarget.USER, sdk.StepStatus.ERROR, sdk.StepSource.SYSTEM


class GoogleLiveAgent:
    def __init__(self, agent: Agent) -> None:
        self._agent = agent
        self._conv = agent.conversation
        self._process = internals.harness_process(agent)
        self._seen_steps: set[str] = set()

    @property
    def conversation_id(self) -> str | None:
        return self._conv.conversation_id or None

    def harness_pid(self) -> int | None:
        p = self._process
        return p.pid if p is not None and p.poll() is None else None

    def harness_alive(self) -> bool:
        return self.harness_pid() is not None

    # ------------------------------------------------------------------ turns

    async def send(self, prompt: Prompt) -> None:
        content = _content(prompt)
        self._seen_steps.clear()
        try:
            await self._conv.send(content)
        except Exception as e:
            raise self._failure(e) from e

    async def events(self) -> AsyncIterator[StepEvent]:
        """The turn's steps until it ends. Raises TurnCancelledError after `cancel`, and
        AgyError for a failed turn."""
        system_status: int | None = None
        try:
            async for step in self._conv.receive_steps():
                if step.source == _SYSTEM and step.status == _ERROR:
                    code = getattr(step, "http_code", 0)  # a LocalConnectionStep's, when the harness knows it
                    if isinstance(code, int) and 100 <= code <= 599:
                        system_status = code
                yield self._event(step)
        except sdk.AntigravityCancelledError as e:
            raise TurnCancelledError() from e
        except Exception as e:
            raise self._failure(e, system_status) from e

    def _event(self, step: sdk.Step) -> StepEvent:
        first = step.id not in self._seen_steps
        self._seen_steps.add(step.id)
        event = StepEvent("step", step.id, first)
        if step.source == _MODEL and step.target == _USER and step.status != _ERROR:
            event.text, event.thought = step.content_delta or "", step.thinking_delta or ""
        if step.tool_calls:
            # A built-in or MCP tool's step is keyed by its step id; a custom tool's
            # own step has none, so by the call object (see to_wire.Labels).
            event.calls = [callbacks.sighting(c, key=c.step_id or c) for c in step.tool_calls]
        elif step.type == sdk.StepType.TOOL_CALL:
            event.kind = "custom_tool"
        elif step.status == _ERROR and DENIED in (step.error or ""):
            event.kind, event.error = "denied", step.error or ""
        return event

    def _failure(self, e: BaseException, system_status: int | None = None) -> AgyError:
        err = classify(e, system_http_status=system_status)
        if not self.harness_alive():
            return AgyError(ErrorCode.AGENT_FAILED, "the agent's harness process died", err.data)
        return err

    def stop_reason(self) -> str:
        return internals.last_stop_reason(self._conv)

    def structured_output(self) -> Any:
        """The structured output of the last turn only (never an earlier turn's)."""
        for step in reversed(self._conv.history):
            if step.type == sdk.StepType.FINISH:
                return to_wire.jsonable(step.structured_output)
            if step.source == sdk.StepSource.USER:
                return None
        return None

    async def cancel(self) -> None:
        await self._conv.cancel()

    async def wait_for_idle(self) -> None:
        await self._conv.wait_for_idle()

    # ------------------------------------------------------------------ conversation

    def history(self) -> list[Step]:
        return [to_wire.step(s) for s in to_wire.latest_snapshots(self._conv.history)]

    def snapshot(self) -> Snapshot:
        conv = self._conv
        return Snapshot(
            conversation_id=self.conversation_id,
            turn_count=conv.turn_count,
            last_response=conv.last_response,
            compaction_indices=conv.compaction_indices,
            total_usage=to_wire.usage(conv.total_usage) or Usage(),
            last_turn_usage=to_wire.usage(conv.last_turn_usage),
        )

    def label(self, key: Any, call: ToolCall) -> None:
        to_wire.labels.label(key, (call.id, call.call_id))

    def clear_history(self) -> None:
        self._conv.clear_history()

    async def disconnect(self) -> None:
        await self._conv.disconnect()

    async def close(self, timeout_secs: float) -> None:
        """Closes the SDK agent, then kills the harness if it is still there.

        The SDK's disconnect waits for the harness with a blocking `wait()`, which can
        stall the event loop; a watchdog thread kills the process at the deadline so
        that wait returns."""
        watchdog = threading.Timer(timeout_secs, kill, args=(self._process,))
        watchdog.daemon = True
        watchdog.start()
        try:
            with anyio.move_on_after(timeout_secs), anyio.CancelScope(shield=True):
                await self._agent.__aexit__(None, None, None)
        except Exception as e:
            log.info("agent closed with %s", type(e).__name__)
        finally:
            watchdog.cancel()
            kill(self._process)


def kill(process: subprocess.Popen[bytes] | None) -> None:
    # Popen.kill is a no-op once the process was reaped, so a recycled pid is safe.
    if process is not None and process.poll() is None:
        try:
            process.kill()
            process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass


def _content(prompt: Prompt) -> Any:
    """A validated wire prompt (agents/prompts.py) -> SDK content."""
    if isinstance(prompt, str):
        return prompt
    return [_part(part) for part in prompt]


def _part(part: ContentPart) -> Any:
    if part.type == "text":
        return part.text
    try:
        raw = base64.b64decode(part.data or "", validate=True)
    except (binascii.Error, ValueError) as e:
        raise invalid_params("prompt part data is not valid base64", field="prompt") from e
    return sdk.from_bytes(raw, mime_type=part.mime_type or "")
