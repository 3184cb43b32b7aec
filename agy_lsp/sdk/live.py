"""One started SDK `Agent` and its `localharness`, behind the core's `LiveAgent`."""

from __future__ import annotations

import base64
import binascii
import logging
import re
import subprocess
import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio
from google.antigravity import Agent
from google.antigravity import types as sdk

from agy_lsp.protocol.errors import AgyError, ErrorCode, invalid_params
from agy_lsp.protocol.types import ContentPart, Prompt, SandboxStatus, Step, ToolCall, TrajectoryUsage, Usage
from agy_lsp.sdk import callbacks, internals, to_wire, transcript
from agy_lsp.sdk.commands import Commands
from agy_lsp.sdk.errors import classify, retry_reason, unreachable_step
from agy_lsp.sdk.history import HistoryView
from agy_lsp.sdk.port import Snapshot, StepEvent, ToolEnd, ToolSighting, TurnCancelledError

log = logging.getLogger(__name__)

# The harness's error on the step that stands for a call a hook or policy refused.
DENIED = "denied by pre-tool hook"
_MODEL, _USER, _ERROR, _SYSTEM = sdk.StepSource.MODEL, sdk.StepTarget.USER, sdk.StepStatus.ERROR, sdk.StepSource.SYSTEM
_ENVIRONMENT, _ENDED = sdk.StepTarget.ENVIRONMENT, (sdk.StepStatus.DONE, sdk.StepStatus.ERROR)
_WAITING = sdk.StepStatus.WAITING_FOR_USER
ASK = sdk.BuiltinTools.ASK_QUESTION.value
# The harness's error on the step that stands for a call it refused as invalid (an
# unknown tool, arguments it cannot use); no hook sees such a call.
INVALID = "invalid tool call"
# The model's arguments that only feed the harness's step text (the hooks drop them).
_SUMMARY_ARGS = ("toolSummary", "toolAction")
_DRAIN_TRIES = 8  # errors a stopped turn may stream before its end
_DRAIN_SECS = 1.0  # how long reading a stopped turn's last steps may take


class GoogleLiveAgent:
    def __init__(self, agent: Agent, commands: Commands | None = None) -> None:
        self._agent = agent
        self._conv = agent.conversation
        self._process = internals.harness_process(agent)
        self._commands = commands or Commands()
        self._commands.harness = self._process.pid if self._process is not None else None
        self._seen_steps: set[str] = set()
        self._parents: dict[str, str] = {}  # subagent trajectory -> the one that delegated to it
        self._hookless = transcript.Hookless()
        self._streamed_hooks: set[str] = set()  # hook step ids of the finish calls ended
        self._finishing: list[ToolSighting] = []  # finish calls whose step ended, waiting for their output
        self._asked: set[str] = set()  # steps that waited for the person (ask_question's)
        self._view = HistoryView()
        self._repaired: dict[str, tuple[str, str] | None] = {}  # what the harness's record lost, from its transcript
        self._retries = 0  # the harness's retries of the model request under way
        transcript.register(internals.app_data_dir(agent))

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
        self._hookless.begin_turn(self.conversation_id)
        self._finishing.clear()
        self._asked.clear()
        self._retries = 0
        self._commands.begin_turn()
        try:
            await self._conv.send(content)
        except Exception as e:
            raise self._failure(e) from e
        self._hookless.read_ahead()

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
                    # The harness retries a model it cannot reach with a growing
                    # backoff, for minutes, streaming this step each time: fail now.
                    if (network := unreachable_step(step.error or "")) is not None:
                        raise network
                event = self._event(step)
                self._found(event, final=False)
                yield event
            final = StepEvent("step", first=False)
            self._found(final, final=True)
            if final.calls or final.ended:
                yield final
        except sdk.AntigravityCancelledError as e:
            raise TurnCancelledError() from e
        except Exception as e:
            raise self._failure(e, system_status) from e

    def _event(self, step: sdk.Step) -> StepEvent:
        first = step.id not in self._seen_steps
        self._seen_steps.add(step.id)
        self._hookless.seen(step.trajectory_id)
        event = StepEvent("step", step.id, first)
        if step.parent_trajectory_id:  # a subagent's work (the harness leaves `depth` at 0: we count)
            event.trajectory_id, event.parent_trajectory_id = step.trajectory_id, step.parent_trajectory_id
            event.depth = self._depth(step.trajectory_id, step.parent_trajectory_id)
        if step.type == sdk.StepType.COMPACTION:
            event.kind, event.text = "compaction", step.content if first else ""
            return event
        if step.source == _MODEL:
            self._retries = 0  # the model answered: a later failure is a new request's
        elif step.source == _SYSTEM and step.status == _ERROR:
            code = getattr(step, "http_code", None)
            if (reason := retry_reason(step.error or "", code if isinstance(code, int) else None)) is not None:
                self._retries += first  # the harness streams this step as the retry starts
                event.kind, event.error, event.attempt = "retry", reason, self._retries + 1
                return event
        if step.source == _MODEL and step.target == _USER and step.status != _ERROR:
            event.text, event.thought = step.content_delta or "", step.thinking_delta or ""
        if step.tool_calls:
            # A built-in or MCP tool's step is keyed by its step id; a custom tool's
            # own step has none, so by the call object (see to_wire.Labels).
            event.calls = [callbacks.sighting(c, key=c.step_id or c, streamed=True) for c in step.tool_calls]
            if step.type == sdk.StepType.FINISH and step.status in _ENDED:
                self._finished(step.trajectory_id)
        elif step.type == sdk.StepType.TOOL_CALL:
            event.kind = "custom_tool"
        elif step.status == _ERROR and DENIED in (step.error or ""):
            event.kind, event.error = "denied", denial_reason(step.error or "")
        elif step.source == _MODEL and step.target == _ENVIRONMENT:
            self._no_call_step(event, step, first)
        elif first and step.source == _SYSTEM and step.status == _ERROR and INVALID in (step.error or ""):
            self._hookless.add(step.id, step.trajectory_id, "invalid")
        return event

    def _no_call_step(self, event: StepEvent, step: sdk.Step, first: bool) -> None:
        """A tool's step that does not carry the call: a call the harness runs without
        hooks, or `ask_question`'s, which waits for the person (and came with its
        pre-tool hook, whose call it then stands for; nothing else runs meanwhile)."""
        if step.status != _WAITING:
            if first:
                self._hookless.add(step.id, step.trajectory_id, "generic")
            return
        if step.id not in self._asked:  # the core places it among the calls it has (by order, as any step)
            self._asked.add(step.id)
            self._hookless.withdraw(step.id)
            key = (to_wire.STANDALONE, step.id)  # history shows the call on this step
            event.calls = [ToolSighting(ASK, {}, step_id=step.id, key=key, sdk_name=ASK)]

    def _finished(self, trajectory: str) -> None:
        """`finish` gets no post-tool hook: its step ending ends it, with the output
        the transcript has for it (the harness writes it about then)."""
        floor = self._hookless.floor(trajectory)
        for index, (name, call_id) in sorted(transcript.hooked.of(trajectory).items()):
            hook_step = f"{trajectory}:{index}"
            if index > floor and name == "finish" and hook_step not in self._streamed_hooks:
                self._streamed_hooks.add(hook_step)
                self._finishing.append(ToolSighting(name, {}, call_id=call_id, step_id=hook_step, sdk_name=name))
                return

    def _found(self, event: StepEvent, final: bool) -> None:
        """Calls that end here: a `finish` whose output the transcript now has (at the
        turn's end, with or without), and hookless calls the transcript now explains,
        each shown (the model's name and arguments) and ended (its output) at once."""
        for seen in list(self._finishing):
            found = transcript.output(seen.step_id)
            if found is not None or final:
                self._finishing.remove(seen)
                event.ended.append(ToolEnd(seen, result=found.text if found else None, error=found.error if found else None))
        for found in self._hookless.found(final):
            args = {k: v for k, v in found.args.items() if k not in _SUMMARY_ARGS}
            seen = ToolSighting(found.name, args, step_id=found.step_id, key=(to_wire.STANDALONE, found.step_id), hookless=True)
            event.calls.append(seen)
            error = found.output.error
            event.ended.append(ToolEnd(seen, result=None if error else found.output.text, error=error))

    def _depth(self, trajectory: str, parent: str) -> int:
        self._parents[trajectory] = parent
        depth, seen = 0, trajectory
        while seen in self._parents and depth < 64:
            seen, depth = self._parents[seen], depth + 1
        return depth

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
        self._commands.cancel()
        await self._conv.cancel()

    async def _drain(self) -> None:
        for _ in range(_DRAIN_TRIES):
            try:
                async for _step in self._conv.receive_steps():  # records each in history
                    pass
                return
            except sdk.AntigravityCancelledError:  # the end of a cancelled turn
                return
            except RuntimeError:  # another reader holds the stream: the SDK's wait will do
                return
            except Exception as e:  # the turn's error (a halt's "Turn cancelled"): go on to its end
                log.debug("draining the turn: %s", type(e).__name__)

    async def wait_for_idle(self) -> None:
        """Idle, with the steps the harness streamed after the turn stopped reading (a
        cancelled turn's last ones) kept in history, as the harness stores them: the
        SDK's own wait drops them. After a cancel, also with no command of the turn
        left running (a halt misses one the harness is starting: sdk/commands.py)."""
        # bounded on its own: a stream whose end was already read waits for nothing more,
        # and a cancel must still end the turn promptly (the SDK's wait follows)
        with anyio.move_on_after(_DRAIN_SECS):
            await self._drain()
        await self._conv.wait_for_idle()
        self._commands.reap()

    # ------------------------------------------------------------------ conversation

    def history(self) -> list[Step]:
        return transcript.repaired(self._view.steps(self._conv.history), self._repaired)

    def snapshot(self) -> Snapshot:
        conv = self._conv
        sandbox = conv.sandbox_status
        return Snapshot(
            conversation_id=self.conversation_id,
            turn_count=conv.turn_count,
            last_response=conv.last_response,
            compaction_indices=conv.compaction_indices,
            total_usage=to_wire.usage(conv.total_usage) or Usage(),
            last_turn_usage=to_wire.usage(conv.last_turn_usage),
            sandbox=None if sandbox is None else SandboxStatus(available=sandbox.available, reason=sandbox.unavailable_reason),
            trajectory_usage=[
                TrajectoryUsage(trajectory_id=k, usage=to_wire.usage(v) or Usage()) for k, v in conv.trajectory_usages.items()
            ],
        )

    def label(self, key: Any, call: ToolCall) -> None:
        to_wire.labels.label(key, call)

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
    if part.type == "command":
        return sdk.SlashCommand(name=sdk.BuiltinSlashCommandName(part.text))
    try:
        raw = base64.b64decode(part.data or "", validate=True)
    except (binascii.Error, ValueError) as e:
        raise invalid_params("prompt part data is not valid base64", field="prompt") from e
    return sdk.from_bytes(raw, mime_type=part.mime_type or "")


_DEFAULT_DENIAL = re.compile(r"^Denied by policy '[^']*'\.?$")


def denial_reason(error: str) -> str:
    """The reason a policy gave for a denial, as the harness reports it ("...denied by
    pre-tool hook: <reason>"); "" for the SDK's default text, which names an internal
    rule ("Denied by policy 'rule:*'.")."""
    reason = error.split(DENIED, 1)[1].lstrip(": ").strip() if DENIED in error else ""
    reason = reason.removesuffix('")').removesuffix('"')  # the harness quotes it: `(error: "...")`
    return "" if _DEFAULT_DENIAL.match(reason) else reason
