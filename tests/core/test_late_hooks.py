"""A hook of a turn that was cancelled or has ended (a killed command's post-tool hook
comes after the cancel) is absorbed: the core records nothing in another turn, never
raises into the SDK, and says the harness no longer waits for its answer."""

from __future__ import annotations

from typing import Any

import anyio

from agy_lsp.sdk.port import ToolEnd, ToolSighting
from tests.core.conftest import CoreFactory, wait_until
from tests.core.fake_sdk import Hang


async def test_a_hook_of_a_cancelled_turn_is_late_and_its_end_is_dropped(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        c.sdk.script(agent, [Hang()])
        callbacks = c.session(agent).callbacks
        out: list[Any] = []
        async with anyio.create_task_group() as tg:

            async def run() -> None:
                out.append(await c.manager.chat(agent, "go"))

            tg.start_soon(run)
            await wait_until(lambda: c.session(agent).turn is not None)
            during = callbacks.hook_arrived(tool=True)
            assert during() == "live"
            assert c.manager.cancel(agent)
            assert during() == "cancelled"
        assert out[0].stop_reason == "cancelled"
        assert during() == "ended"
        assert callbacks.hook_arrived(tool=True)() == "ended"  # a tool hook outside any turn
        assert callbacks.hook_arrived(tool=False)() == "live"  # a session hook (start, end)
        chunks = len(c.editor.chunks)
        late = ToolEnd(ToolSighting("run_command", {}, call_id="late-1", step_id="s:9"), result="killed")
        callbacks.after_tool(late)  # raised "a tool call outside a turn" before
        assert await callbacks.before_tool(ToolSighting("run_command", {}, call_id="late-2")) is not None
        assert await callbacks.confirm_tool(ToolSighting("run_command", {}, call_id="late-3"), None) is False
        assert len(c.editor.chunks) == chunks  # nothing shown for a turn that is over
        assert (await c.manager.chat(agent, "next")).text == "echo: next"
