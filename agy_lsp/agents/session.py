"""AgentSession: one agent over its whole life, through its harnesses.

It owns the lifecycle (agents/lifecycle.py): start, restart after a model failure,
heal after the harness died, hibernate and wake, bounded close. Turns run in
agents/chat.py; what the harness asks during a turn is answered by
agents/harness_callbacks.py; the SDK is reached only through `LiveAgent`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import msgspec

from agy_lsp.agents import policies, prompts
from agy_lsp.agents.editor import Editor
from agy_lsp.agents.harness_callbacks import CoreCallbacks
from agy_lsp.agents.hibernation import RETRY_CAP_SECS, SaveRetry
from agy_lsp.agents.lifecycle import Lifecycle
from agy_lsp.agents.mcp_servers import without_secrets
from agy_lsp.agents.pacing import Pacer
from agy_lsp.agents.permissions import Permissions
from agy_lsp.agents.quota import QuotaRegistry
from agy_lsp.agents.store import RefusedCall, SessionMeta, SessionStore, persist_failed, remove_scratch, scratch_dir, shorten
from agy_lsp.agents.tool_calls import IdBook
from agy_lsp.agents.turn import Turn
from agy_lsp.backends.identity import describe, quota_key
from agy_lsp.protocol.errors import AgyError, ErrorCode, invalid_params
from agy_lsp.protocol.types import (
    AgentState,
    AgentStateNotice,
    AnyBackend,
    CreateAgentParams,
    OpenAI,
    Prompt,
    Scripted,
)
from agy_lsp.sdk.port import LiveAgent, Sdk, StartSpec
from agy_lsp.settings import Settings

log = logging.getLogger(__name__)

CLOSE_SETTLE_SECS = 2.0  # how long closing waits for a cancelled turn to end (and save itself)


@dataclass
class SessionDeps:
    """What every session of one manager shares."""

    editor: Editor
    sdk: Callable[[], Sdk]
    settings: Callable[[], Settings]
    pacer: Pacer
    quota: QuotaRegistry
    make_room: Callable[[AgentSession], Any]  # awaitable: room for one more harness (agents/hibernation.py)
    changed: Callable[[], None]  # a harness came or went, or a turn ended


class AgentSession:
    def __init__(self, agent_id: str, spec: CreateAgentParams, backend: AnyBackend, deps: SessionDeps, internal: bool = False) -> None:
        self.agent_id = agent_id
        self.internal = internal  # the server's own (inline completions): never stored nor listed (store.scratch_dir)
        self._scratch: str | None = None  # where an internal agent's harness saves, until it closes
        self.spec = spec
        self.backend = backend
        self.deps = deps
        self.lifecycle = Lifecycle("hibernated", self._announce)
        self.conversation_id: str | None = spec.conversation_id
        self.meta: SessionMeta | None = None
        self.aliases: list[str] = []
        self.refused: list[RefusedCall] = []
        self.unsaved: AgyError | None = None  # why the last save failed (PERSIST_FAILED); None once one succeeds
        self.save_retry = SaveRetry()  # when the hibernation timer may retry a failed save
        self.turn: Turn | None = None
        self.ids = IdBook()
        self.turn_count_offset = 0  # turns from harnesses before the current one
        self.last_active = time.monotonic()  # when a turn last started or ended; hibernation picks by it
        self.spawning = False  # has room for a harness that is not up yet (agents/hibernation.py)
        self.needs_restart = False  # the SDK agent is unusable (a model failure, a stuck cancel, a new config)
        self.closing = False  # close() began: no new harness
        self.live: LiveAgent | None = None  # the running harness
        self.conversation: LiveAgent | None = None  # the last one, readable after close (hibernated)
        self.tool_names: list[str] = []
        self._scripted_url: str | None = None
        self._life = anyio.Lock()  # start, restart, hibernate and wake, one at a time
        self.permissions = Permissions(agent_id, deps.editor, lambda: deps.settings().confirm_timeout_secs, self.persist)
        self.callbacks = CoreCallbacks(
            agent_id=agent_id,
            editor=deps.editor,
            permissions=self.permissions,
            turn=lambda: self.turn,
            settings=deps.settings,
            tools={t.name: t for t in spec.tools},
            hooks=frozenset(spec.hooks),
        )

    @property
    def state(self) -> AgentState:
        return self.lifecycle.state

    @property
    def name(self) -> str | None:
        return self.spec.name

    @property
    def quota_key(self) -> str:
        return quota_key(self.backend)

    def chat_timeout(self) -> float:
        """Read when a turn starts: a value set on the agent wins over the settings."""
        return self.spec.chat_timeout_secs or self.deps.settings().chat_timeout_secs

    def max_quota_retries(self) -> int:
        retries = self.spec.max_quota_retries
        return retries if retries is not None else self.deps.settings().max_quota_retries

    def _announce(self, state: AgentState, reason: str | None) -> None:
        self.deps.editor.agent_state(AgentStateNotice(agent_id=self.agent_id, state=state, reason=reason))
        self.deps.changed()

    # ------------------------------------------------------------------ persistence

    def restore(self, meta: SessionMeta) -> None:
        """Resume from stored metadata: permissions, tool state, turn count, refused calls."""
        self.meta = meta
        self.turn_count_offset = meta.turn_count
        self.permissions.restore(meta.permissions)
        self.callbacks.tool_state.update(meta.tool_state)
        self.refused = list(meta.refused)
        self.aliases = list(meta.aliases)

    def persist(self, prompt: Prompt | None = None, turn_id: str | None = None, *, tell: bool = True) -> None:
        """Saves the session's metadata (all of it, every time). A failed save leaves the
        stored file as it was and the agent working in memory: it is kept in `unsaved`
        (PERSIST_FAILED, for the turn's answer) and told to the editor (unless `tell` is
        False: the caller tells); the next save that succeeds stores everything again."""
        if not self.conversation_id and self.live is not None:  # a first turn cancelled or failed: store what it did
            self.conversation_id = self.live.conversation_id
        if not self.conversation_id or self.internal:  # an internal agent is never stored
            return
        if self.meta is None:
            self.meta = SessionMeta(conversation_id=self.conversation_id)
        meta = self.meta
        if not meta.title and prompt is not None:  # a save within the first turn (a remembered permission) has no prompt
            meta.title = shorten(prompts.first_text(prompt))
        meta.spec = stored_spec(self.spec)
        meta.backend = describe(self.backend)
        meta.permissions = self.permissions.remembered()
        meta.tool_state = dict(self.callbacks.tool_state)
        meta.refused = self.refused
        meta.aliases = self.aliases
        meta.turn_count = self.turn_count()
        store = SessionStore(self.deps.settings().state_dir)
        try:
            store.save(meta)
        except OSError as e:
            where = store.sessions / f"{self.conversation_id}.json"
            err = self.unsaved = persist_failed(e, self.agent_id, self.conversation_id, where, turn_id)
            if not tell or (self.turn is not None and turn_id is None):  # mid-turn: the turn's own save tells
                return
            self.deps.editor.log("error", f"{err.message} [{err.code.name} {int(err.code)}]. {err.data['hint']}")
            return
        if self.unsaved is not None:
            self.unsaved = None
            self.save_retry.reset()
            self.deps.editor.log("info", f"agent {self.agent_id}: session {self.conversation_id} saved again, with everything it knows")

    # ------------------------------------------------------------------ harness

    def start_spec(self, resume: bool) -> StartSpec:
        """Also records the agent's tool names (policies expand globs against them)."""
        settings, spec = self.deps.settings(), self.spec
        if self.internal and self._scratch is None:
            self._scratch = scratch_dir(settings.state_dir, self.agent_id)
        start = StartSpec(
            backend=self.model_backend(),
            state_dir=self._scratch or settings.state_dir,
            system_instructions=spec.system_instructions,
            workspaces=spec.workspaces,
            capabilities=spec.capabilities,
            editor_tools=spec.tools,
            hooks=spec.hooks,
            mcp_servers=spec.mcp_servers or [],
            response_schema=spec.response_schema,
            conversation_id=self.conversation_id,
            resume=resume,
            start_timeout_secs=settings.send_timeout_secs,
            model_options=spec.model_options,
            budget=spec.budget,
            compaction=spec.compaction,
            run_command=spec.run_command,
            subagents=spec.subagents,
            skills=spec.skills,
            tool_output=spec.tool_output,
            ask_questions="onInteraction" in spec.hooks,  # someone answers, so the model may ask
        )
        self.tool_names = self.deps.sdk().builtin_tools(start) + [t.name for t in spec.tools]
        start.rules, start.presets = policies.resolve(spec.policies, known_tools=self.tool_names, workspaces=spec.workspaces)
        return start

    def model_backend(self) -> Any:
        """The scripted model is registered once per session, so a restart resumes
        its script instead of replaying it from the top."""
        if isinstance(self.backend, Scripted):
            if self._scripted_url is None:
                from agy_lsp.backends.scripted import parse_script, shared_model  # an HTTP server: only when used

                try:
                    script = parse_script(self.backend.script if self.backend.script is not None else [])
                except ValueError as e:
                    raise invalid_params(str(e), field="backend.script") from e
                self._scripted_url, _ = shared_model().register(script)
            return OpenAI(base_url=self._scripted_url, model="scripted")
        return self.backend

    async def start(self, reason: str | None = None) -> None:
        """Spawns a harness on the conversation, once there is room. Raises AgyError;
        the agent is then `failed` (or stays `hibernated` if it never had room)."""
        before = self.state
        self.lifecycle.to("starting", reason)
        try:
            await self.deps.make_room(self)
        except BaseException as e:  # no room, or cancelled while waiting: nothing was spawned
            self.lifecycle.to("hibernated" if before == "hibernated" else "failed", str(e) or None)
            raise
        try:
            live = await self.deps.sdk().start(self.start_spec(resume=self.conversation_id is not None), self.callbacks)
        except BaseException as e:
            self.lifecycle.to("failed", str(e) or type(e).__name__)
            if isinstance(e, AgyError):
                e.data.setdefault("backend", describe(self.backend))
            raise
        finally:
            self.spawning = False
        self.live = self.conversation = live
        self.needs_restart = False
        self.last_active = time.monotonic()
        self.lifecycle.to("idle")

    def harness_alive(self) -> bool:
        return self.live is not None and self.live.harness_alive()

    def harness_pid(self) -> int | None:
        return self.live.harness_pid() if self.live is not None else None

    def check_harness(self) -> None:
        """A harness that died while nobody was talking to it (killed, OOM)."""
        if self.state == "idle" and self.live is not None and not self.live.harness_alive():
            self.lifecycle.to("failed", "the harness process exited")

    def holds_harness(self) -> bool:
        return self.spawning or self.harness_alive()

    def can_hibernate(self) -> bool:
        """While saves fail, only when a retry is due: the save must succeed first, as the
        harness's memory may be the only copy of the last turns (docs/reliability.md#when-the-disk-fails)."""
        return not self._life.locked() and self._idle_and_live() and (self.unsaved is None or self.save_retry.ready())

    def _idle_and_live(self) -> bool:
        return self.state == "idle" and self.turn is None and self.harness_alive()

    async def _close_harness(self) -> None:
        live, self.live = self.live, None
        if live is not None:
            if self.conversation_id is None:  # a first turn that failed or was cancelled: the next harness goes on with it
                self.conversation_id = live.conversation_id
            self.turn_count_offset += live.snapshot().turn_count  # a resumed conversation counts from 0
            await live.close(self.deps.settings().shutdown_timeout_secs)

    async def close(self) -> None:
        """Shut down for good; bounded, the harness is killed if it will not go. A running
        turn is cancelled and given a moment to settle, so that its own save stores it
        (a new session's first turn too: SIGTERM over stdio MCP closed its harness first)."""
        self.closing = True  # a turn waiting on the cancelled one must not start a harness now
        if (turn := self.turn) is not None:
            turn.cancel()
            with anyio.move_on_after(CLOSE_SETTLE_SECS):
                await turn.ended.wait()
            if not turn.ended.is_set():  # still settling: store what the live harness has
                self.persist()
        await self._close_harness()
        remove_scratch(self._scratch)
        if self.state != "closed":
            self.lifecycle.to("closed")

    async def restart(self, reason: str) -> None:
        """A fresh harness on the same conversation: after a model failure the SDK
        agent is dead (its websocket to the harness is closed), and a new backend or
        policy needs one."""
        self.lifecycle.to("restarting", reason)
        await self._close_harness()
        await self.start()

    async def hibernate(self, reason: str) -> bool:
        """Closes an idle agent's harness and keeps its conversation; False if in use."""
        if not self.can_hibernate():
            return False
        async with self._life:
            if not self._idle_and_live():  # a turn may have begun while we waited
                return False
            self.persist(tell=False)
            if self.unsaved is not None:  # kept live, in memory, until a retry of the save succeeds
                if self.save_retry.failed(self.deps.settings().idle_timeout_secs):
                    err = self.unsaved
                    self.deps.editor.log(
                        "warning",
                        f"{err.message} [{err.code.name} {int(err.code)}]: agent {self.agent_id} is kept live, not hibernated, "
                        f"as its harness may hold the only copy of the last turns; the save is retried at idle ticks, "
                        f"backing off to every {RETRY_CAP_SECS:g}s, and it hibernates once one succeeds. {err.data['hint']}",
                    )
                return False
            await self._close_harness()
            if self.state != "closed":  # shut down while this closed it: closed it stays
                self.lifecycle.to("hibernated", reason)
            log.info("agent %s hibernated: %s", self.agent_id, reason)
            return True

    async def ensure_live(self) -> LiveAgent:
        """The live harness: woken, restarted or healed if need be."""
        async with self._life:
            if self.state == "closed" or self.closing:
                raise AgyError(ErrorCode.AGENT_CLOSED, f"agent {self.agent_id} is closed", {"agentId": self.agent_id})
            self.check_harness()
            if self.state == "failed":
                await self._heal()
            elif self.live is not None and self.needs_restart:
                await self.restart("resuming after a failure")
            elif self.live is None:
                await self.start("waking up" if self.state == "hibernated" else None)
            assert self.live is not None
            return self.live

    async def _heal(self) -> None:
        """The harness died (or never started): a new one on the same conversation, so
        the history survives. AGENT_FAILED only if that fails too."""
        await self._close_harness()
        try:
            await self.start("restarting after the harness died")
        except AgyError as e:
            if e.code in (ErrorCode.AGENT_LIMIT, ErrorCode.INVALID_PARAMS, ErrorCode.CONVERSATION_CORRUPT):
                raise
            raise AgyError(
                ErrorCode.AGENT_FAILED,
                "the agent's harness died and a new one would not start",
                {"agentId": self.agent_id, "conversationId": self.conversation_id, "cause": e.message},
            ) from e

    async def set_backend(self, backend: AnyBackend) -> None:
        """Another backend or model; a live harness restarts on the same conversation."""
        self.backend, self._scripted_url = backend, None
        async with self._life:
            if self.live is not None and self.state == "idle":
                await self.restart("the backend changed")

    def configure(self, changes: dict[str, Any]) -> None:
        """New spec fields (model options, budget, ...), checked now, applied from the
        next turn: a new harness on the same conversation."""
        spec = msgspec.structs.replace(self.spec, **changes)
        before, self.spec = self.spec, spec
        try:
            self.deps.sdk().check(self.start_spec(resume=False), self.callbacks)
        except BaseException:
            self.spec = before
            raise
        self.needs_restart = self.live is not None
        self.persist()

    def set_policies(self, spec_policies: Any) -> None:
        """New policies apply from the next turn (a harness restart on the same conversation)."""
        policies.resolve(spec_policies, known_tools=self.tool_names, workspaces=self.spec.workspaces)  # InvalidParams now
        self.spec.policies = spec_policies
        self.needs_restart = self.live is not None
        self.persist()

    # ------------------------------------------------------------------ queries

    def turn_count(self) -> int:
        return self.turn_count_offset + (self.live.snapshot().turn_count if self.live is not None else 0)


def stored_spec(spec: CreateAgentParams) -> CreateAgentParams:
    """What a stored session keeps of a spec: all of it but the backend (stored apart,
    as described, without its key) and MCP servers' env and headers."""
    return msgspec.structs.replace(spec, backend=None, conversation_id=None, mcp_servers=without_secrets(spec.mcp_servers))
