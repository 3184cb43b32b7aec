"""`GoogleSdk`: the core's `Sdk` on google-antigravity. This package is the only
place that imports the SDK; an SDK upgrade touches agy_lsp/sdk and nothing else."""

from __future__ import annotations

import logging
import os

import anyio
from google.antigravity import Agent

from agy_lsp.protocol.errors import AgyError
from agy_lsp.sdk import config, installed_version, options
from agy_lsp.sdk.commands import Commands
from agy_lsp.sdk.errors import classify, unreadable_conversation
from agy_lsp.sdk.internals import harness_process, read_deep_records
from agy_lsp.sdk.live import GoogleLiveAgent, kill
from agy_lsp.sdk.port import HarnessCallbacks, StartSpec

log = logging.getLogger(__name__)


class GoogleSdk:
    def version(self) -> str | None:
        return installed_version()

    def builtin_tools(self, spec: StartSpec) -> list[str]:
        return options.builtin_tools(spec)

    def check(self, spec: StartSpec, callbacks: HarnessCallbacks) -> None:
        config.build(spec, callbacks)

    async def start(self, spec: StartSpec, callbacks: HarnessCallbacks) -> GoogleLiveAgent:
        """Spawns the harness. A half-started one is killed, never leaked."""
        commands = Commands()
        sdk_config = config.build(spec, callbacks, commands)
        read_deep_records()
        os.makedirs(os.path.join(spec.state_dir, "conversations"), exist_ok=True)
        agent = Agent(sdk_config)
        try:
            with anyio.CancelScope(shield=True), anyio.fail_after(spec.start_timeout_secs):
                await agent.__aenter__()
        except Exception as e:
            kill(harness_process(agent))
            if isinstance(e, AgyError):
                raise
            if spec.resume and (corrupt := unreadable_conversation(e, spec.conversation_id)) is not None:
                raise corrupt from e
            raise classify(e, stage="create") from e
        return GoogleLiveAgent(agent, commands)
