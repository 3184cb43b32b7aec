"""`manager.sessions.new` and `open`: the public id of a new session, and a session a
front-end names (its live agent, or the stored one resumed under that id), in the
core for ACP and MCP alike."""

from __future__ import annotations

from collections.abc import Awaitable

import anyio

from agy_lsp.protocol.errors import ErrorCode
from tests.core.conftest import CoreFactory, params, raises


async def test_a_new_session_is_found_by_its_id_live_and_after_it_closed(core: CoreFactory) -> None:
    async with core() as c:
        m = c.manager
        sid, agent = await m.sessions.new(params(workspaces=["/w/a"]))
        assert len(sid) == 32 and c.session(agent).aliases == [sid]
        assert c.session(agent).state == "hibernated"  # no harness until its first turn
        assert await m.sessions.open(sid) == agent  # live: the same agent
        await m.chat(agent, "hello")
        conversation = c.session(agent).conversation_id
        await m.shutdown_agent(agent)

        opened: list[str | None] = []
        async with anyio.create_task_group() as tg:  # two calls naming it open it once
            for _ in range(2):
                tg.start_soon(lambda: _append(opened, m.sessions.open(sid, params(workspaces=["/w/a"]))))
        assert len(opened) == 2 and opened[0] == opened[1] and opened[0] is not None
        resumed = c.session(opened[0])
        assert resumed.conversation_id == conversation and resumed.aliases == [sid] and resumed.state == "hibernated"
        assert len(m.list()) == 1
        assert await m.sessions.open(conversation or "") == opened[0]  # by its conversation id too


async def test_opening_an_unknown_or_hostile_id(core: CoreFactory) -> None:
    async with core() as c:
        assert await c.manager.sessions.open("nobody") is None
        err = await raises(ErrorCode.INVALID_PARAMS, c.manager.sessions.open("../../etc/passwd"))
        assert err.data.get("field") == "sessionId"


async def _append(out: list[str | None], opening: Awaitable[str | None]) -> None:
    out.append(await opening)
