"""One `agy-lsp run`: the agent's spec from the flags, the turn, its end.

The core runs in-process (AgentManager with `RunEditor`). Whatever stops the run
early (SIGINT, SIGTERM, --timeout, a refused call, a closed stdout) cancels the
turn through the core, so the turn settles, the session is stored as far as it
got (resumable) and the harness is closed; a second signal gives up waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import time
from typing import Any, Literal

import anyio
import msgspec

from agy_lsp.agents.manager import AgentManager
from agy_lsp.agents.report import TurnReport
from agy_lsp.protocol.agent_options import Budget, ModelOptions
from agy_lsp.protocol.errors import AgyError
from agy_lsp.protocol.types import AnyBackend, ChatResult, CreateAgentParams, Policies, PolicyRule, Scripted
from agy_lsp.run import codes
from agy_lsp.run.codes import UsageError
from agy_lsp.run.editor import Consent, RunEditor
from agy_lsp.run.output import Output, RunResult
from agy_lsp.settings import SettingsError, from_environment

Stop = Literal["SIGINT", "SIGTERM", "timeout", "refused", "broken"]
_STOP_CODES: dict[Stop, int] = {
    "SIGINT": codes.SIGINT,
    "SIGTERM": codes.SIGTERM,
    "timeout": codes.TIMEOUT,
    "refused": codes.REFUSED,
    "broken": codes.SIGPIPE,
}
_PRESETS = ("safeDefaults", "confirmRunCommand", "allowAll", "denyAll", "workspaceOnly", "auto")


def read_json(value: str, what: str) -> Any:
    """JSON text, or a file holding it."""
    try:
        if os.path.isfile(value):
            with open(value, encoding="utf-8") as f:
                return json.load(f)
        return json.loads(value)
    except (OSError, ValueError) as e:
        raise UsageError(f"{what}: {e}") from e


def prompt_of(ns: argparse.Namespace) -> str:
    if ns.prompt_flag is not None and ns.prompt:
        raise UsageError("give the prompt once: as an argument or with -p")
    text = ns.prompt_flag if ns.prompt_flag is not None else " ".join(ns.prompt)
    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise UsageError("no prompt: give one as an argument, with -p, or `-` to read it from stdin")
    return text


def policies_of(ns: argparse.Namespace) -> Policies | None:
    """--policy (a preset, or policies as JSON) with an allow rule per --allow first."""
    policies: Policies | None = None
    if ns.policy is not None:
        if ns.policy in _PRESETS:
            policies = Policies(preset=ns.policy)
        else:
            raw = read_json(ns.policy, "--policy")
            try:
                policies = msgspec.convert(raw, Policies | list[PolicyRule])  # pyright: ignore[reportArgumentType]
            except msgspec.ValidationError as e:
                raise UsageError(f"--policy: {e} (a preset is one of {', '.join(_PRESETS)})") from e
            if isinstance(policies, list):
                policies = Policies(rules=policies)
    if not ns.allow:
        return policies
    base = policies or Policies()
    allow = [PolicyRule(tool=tool, decision="allow", reason="--allow") for tool in ns.allow]
    return msgspec.structs.replace(base, rules=[*allow, *base.rules])


class Run:
    def __init__(self, ns: argparse.Namespace) -> None:
        self.ns = ns
        self.t0 = time.perf_counter()
        self.out = Output(ns.output, sys.stdout, sys.stderr, lambda: self.stop("broken"))
        self.editor = RunEditor(self.out, Consent(ns.allow, ns.yes), self._refused)
        self.result = RunResult()
        self.stopped: Stop | None = None
        self.manager: AgentManager | None = None
        self.agent_id: str | None = None
        self.in_turn = False
        self.scope: anyio.CancelScope | None = None

    # ------------------------------------------------------------------ entry

    def main(self) -> int:
        logging.basicConfig(
            stream=sys.stderr,
            level=getattr(logging, os.environ.get("AGY_LOG_LEVEL", "warning").upper(), logging.WARNING),
            format="agy-lsp %(levelname)s %(name)s: %(message)s",
        )
        from agy_lsp.secrets import ScrubFilter, register_environment

        register_environment()
        for handler in logging.getLogger().handlers:
            handler.addFilter(ScrubFilter())
            handler.addFilter(_drop_sdk_step_errors)
        try:
            code = anyio.run(self._main)
        except KeyboardInterrupt:  # before the event loop took over SIGINT
            code = codes.SIGINT
        return code

    async def _main(self) -> int:
        try:
            prompt = prompt_of(self.ns)
            cwd = self._cwd()
            settings = from_environment(
                {"backend": self.ns.backend, "model": self.ns.model, "base_url": self.ns.base_url, "state_dir": self.ns.state_dir}
            )
            params = self._params(cwd)
        except (UsageError, SettingsError) as e:  # a bad flag, or an AGY_* variable it cannot use
            return self._fail(codes.USAGE, str(e))
        code = codes.OK
        async with AgentManager(settings, self.editor) as manager, anyio.create_task_group() as tg:
            self.manager = manager
            tg.start_soon(self._watch_signals)
            if self.ns.timeout is not None:
                tg.start_soon(self._deadline, self.ns.timeout)
            with anyio.CancelScope() as self.scope:
                code = await self._run(manager, params, prompt, cwd)
            if self.scope.cancelled_caught:
                code = self._stopped_code()
                if self.result.error is None:
                    self._error(code, f"stopped ({self.stopped}) before the turn ended")
            self._finish(code)
            tg.cancel_scope.cancel()
        return code  # the manager closed the harness on the way out

    # ------------------------------------------------------------------ the turn

    def _cwd(self) -> str:
        cwd = os.path.abspath(self.ns.cwd or os.getcwd())
        if not os.path.isdir(cwd):
            raise UsageError(f"--cwd {cwd!r} is not a directory")
        return cwd

    def _backend(self, manager: AgentManager) -> AnyBackend | None:
        """Only what the flags chose: a resumed session otherwise keeps its own."""
        if self.ns.script is not None:
            return Scripted(script=read_json(self.ns.script, "--script"))
        if self.ns.backend or self.ns.model or self.ns.base_url:
            return manager.default_backend()
        return None

    def _params(self, cwd: str) -> CreateAgentParams:
        ns = self.ns
        budget = None
        if ns.max_turn_requests is not None or ns.max_tokens is not None:
            budget = Budget(max_model_calls=ns.max_turn_requests, max_total_tokens=ns.max_tokens, scope="forwardLooking")
        schema = read_json(ns.schema, "--schema") if ns.schema is not None else None
        if schema is not None and not isinstance(schema, dict):
            raise UsageError("--schema: a JSON schema is an object")
        return CreateAgentParams(
            workspaces=[cwd],
            system_instructions=ns.system,
            policies=policies_of(ns),
            model_options=ModelOptions(thinking_level=ns.thinking) if ns.thinking else None,
            budget=budget,
            response_schema=schema,  # pyright: ignore[reportArgumentType]
            chat_timeout_secs=ns.timeout,
        )

    def _session(self, manager: AgentManager, cwd: str) -> str | None:
        """The stored conversation --resume or --continue names."""
        if self.ns.resume is not None:
            try:
                meta = manager.sessions.find(self.ns.resume, "--resume")
            except AgyError as e:
                raise UsageError(f"--resume: {e.message}") from e
            if meta is None:
                raise UsageError(f"--resume: no stored session {self.ns.resume!r} in {manager.settings.state_dir}")
            return meta.conversation_id
        if self.ns.continue_:
            stored = manager.sessions.stored(cwd)
            if not stored:
                raise UsageError(f"--continue: no stored session for {cwd} in {manager.settings.state_dir}")
            return stored[0].conversation_id
        return None

    async def _run(self, manager: AgentManager, params: CreateAgentParams, prompt: str, cwd: str) -> int:
        report = TurnReport()
        try:
            conversation_id = self._session(manager, cwd)
            backend = self._backend(manager)
            params = msgspec.structs.replace(params, conversation_id=conversation_id, backend=backend)
            created = await manager.create(params)
            self.agent_id = created.agent_id
            self.result.session_id = created.conversation_id
            self.out.event(
                {
                    "type": "init",
                    "sessionId": created.conversation_id,
                    "resumed": conversation_id is not None,
                    "cwd": cwd,
                    "backend": type(manager.backend_of(created.agent_id)).__name__.lower(),
                    "tools": created.tools,
                }
            )
            self.in_turn = True
            try:
                result = await manager.chat(created.agent_id, prompt, report)
            finally:
                self.in_turn = False
                self._collect(manager, report)
            return self._ended(result)
        except UsageError as e:
            return self._error(codes.USAGE, str(e))
        except AgyError as e:
            return self._error(codes.for_error(e), e.message, e)

    def _ended(self, result: ChatResult) -> int:
        r = self.result
        r.usage, r.structured_output = result.usage, result.structured_output
        if result.usage is not None:
            self.out.event({"type": "usage", "usage": msgspec.to_builtins(result.usage)})
        if result.stop_reason == "cancelled":
            code = self._stopped_code()
            return self._error(code, f"the turn was cancelled ({self.stopped or 'cancelled'})") if code else code
        code = codes.for_stop_reason(result.stop_reason)
        return self._error(code, f"the turn stopped short: {result.stop_reason}") if code else code

    def _collect(self, manager: AgentManager, report: TurnReport) -> None:
        """What the core knows once the turn ended: the session's id (a new session
        has one only now), the turn's calls and the files they changed."""
        r = self.result
        r.tool_calls, r.files_changed = self.editor.outcomes(report), report.files_changed
        r.text, r.turn_id, r.stop_reason = report.text, report.turn_id or None, report.stop_reason  # also a budget or safety stop
        r.warning = msgspec.to_builtins(report.warning) if report.warning is not None else None
        if self.agent_id is not None:
            try:
                self.result.session_id = manager.status(self.agent_id).conversation_id or self.result.session_id
            except AgyError:
                pass

    # ------------------------------------------------------------------ stopping

    def stop(self, why: Stop) -> None:
        """Cancel the turn through the core (it settles and is stored); before or
        after the turn, or on a second stop, cancel the run itself."""
        first = self.stopped is None
        if first:
            self.stopped = why
        if first and self.in_turn and self.manager is not None and self.agent_id is not None:
            if self.manager.cancel(self.agent_id):
                return
        if self.scope is not None:
            self.scope.cancel()

    def _refused(self) -> None:
        # after the refusal is answered: cancelling now would withdraw that very answer
        asyncio.get_running_loop().call_soon(self.stop, "refused")

    def _stopped_code(self) -> int:
        return _STOP_CODES[self.stopped] if self.stopped is not None else codes.SIGINT

    async def _watch_signals(self) -> None:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                if self.stopped is None:
                    self.out.note(f"agy-lsp run: {signal.Signals(signum).name}: cancelling the turn (again to stop at once)", always=True)
                self.stop("SIGINT" if signum == signal.SIGINT else "SIGTERM")

    async def _deadline(self, secs: float) -> None:
        await anyio.sleep(secs)
        self.out.note(f"agy-lsp run: --timeout {secs:g}s passed: cancelling the turn", always=True)
        self.stop("timeout")

    # ------------------------------------------------------------------ the end

    def _error(self, code: int, message: str, err: AgyError | None = None) -> int:
        if code:
            name = err.code.name if err is not None else codes.status(code).upper()
            self.result.error = {"code": int(err.code) if err is not None else None, "name": name, "message": message}
            if err is not None:
                self.result.error["data"] = {k: v for k, v in err.data.items() if k != "partialText"}
        return code

    def _fail(self, code: int, message: str) -> int:
        self._error(code, message)
        self._finish(code)
        return code

    def _finish(self, code: int) -> None:
        r = self.result
        r.exit_code, r.status = code, codes.status(code)
        r.duration_ms = (time.perf_counter() - self.t0) * 1000
        if r.error is not None and self.stopped not in ("refused", "broken"):
            self.out.note(f"agy-lsp run: {r.error['message']}", always=True)
        self.out.finish(r)


def _drop_sdk_step_errors(record: logging.LogRecord) -> bool:
    """The SDK logs each failed model request ("System step error (HTTP 503): ...") on
    the root logger; `run` already shows it as a retry line or fails the turn with its
    cause, so the SDK's copy is shown only at the debug log level."""
    return record.name != "root" or not str(record.msg).startswith("System step error") or logging.getLogger().level <= logging.DEBUG
