"""Sessions in the core (agents/sessions.py): one listing of the live and stored
sessions, found by conversation id or alias, deleted, mapped to their live agent."""

from __future__ import annotations

from agy_lsp.protocol.errors import ErrorCode
from tests.core.conftest import CoreFactory, params, raises


async def test_listing_merges_live_and_stored_sessions(core: CoreFactory) -> None:
    async with core() as c:
        m = c.manager
        fresh = (await m.create(params(workspaces=["/w/a"]), alias="mcp-a", start=False)).agent_id  # no turn yet: not stored
        kept = await c.create(workspaces=["/w/b"])
        await m.chat(kept, "hello there")
        conversation = c.session(kept).conversation_id
        assert conversation is not None

        listed = m.sessions.listing()
        assert [(s.session_id, s.agent_id, s.meta is None, s.cwd) for s in listed] == [
            ("mcp-a", fresh, True, "/w/a"),
            (conversation, kept, False, "/w/b"),
        ]
        assert listed[1].title == "hello there" and listed[1].turn_count == 1
        assert [s.session_id for s in m.sessions.listing("/w/b")] == [conversation]
        assert [s.session_id for s in m.sessions.listing(fresh=False)] == [conversation]
        assert m.sessions.agent_for(conversation) == kept
        holder = m.sessions.holder("mcp-a")  # the live agent a front-end's id names
        assert holder is not None and (holder.agent_id, holder.cwd) == (fresh, "/w/a")
        assert m.sessions.holder(conversation) is not None and m.sessions.holder("nobody") is None

        await m.shutdown_agent(kept)
        (stored,) = m.sessions.listing(fresh=False)
        assert stored.agent_id is None and m.sessions.agent_for(conversation) is None and m.sessions.holder(conversation) is None
        assert m.sessions.page(0, 10).total == 1


async def test_find_and_delete_by_alias(core: CoreFactory) -> None:
    async with core() as c:
        m = c.manager
        agent = (await m.create(params(workspaces=["/w"]), alias="acp-1")).agent_id
        await m.chat(agent, "hi")
        conversation = c.session(agent).conversation_id
        meta = m.sessions.find("acp-1")
        assert meta is not None and meta.conversation_id == conversation
        assert [s.session_id for s in m.sessions.listing()] == ["acp-1"]  # known by the front-end's id

        err = await raises(ErrorCode.AGENT_BUSY, _call(m.sessions.delete, "acp-1"))  # open: close it first
        assert err.data["sessionId"] == "acp-1"
        await m.shutdown_agent(agent)
        assert m.sessions.delete("acp-1") and m.sessions.find("acp-1") is None and not m.sessions.delete("acp-1")
        assert m.sessions.listing() == []
        await raises(ErrorCode.INVALID_PARAMS, _call(m.sessions.find, "../acp-1"))


async def _call(fn, *args):  # a sync call as an awaitable, for `raises`
    return fn(*args)


async def test_an_internal_agent_is_nobodys_session_and_leaves_nothing_stored(core: CoreFactory) -> None:
    async with core() as c:
        m = c.manager
        dead = c.state_dir / "internal" / f"{2**22 + 1}-0123456789ab"  # the folder of a server that died (no such pid)
        dead.mkdir(parents=True)
        (dead / "conversations").mkdir()
        listed = await c.create(workspaces=["/w"])
        internal = (await m.create(params(workspaces=["/w"]), start=False, internal=True)).agent_id
        assert not dead.exists(), "left-overs of a dead server are swept"
        await m.chat(listed, "hello")
        await m.chat(internal, "complete this")
        conversation = c.session(internal).conversation_id
        assert conversation is not None and m.has(internal)

        assert [s.agent_id for s in m.sessions.listing()] == [listed]
        assert [a.agent_id for a in m.list()] == [listed]
        assert m.sessions.page(0, 10).total == 1
        assert m.sessions.holder(conversation) is None and m.sessions.find(conversation) is None
        assert await m.sessions.open(conversation) is None, "not resumable as a chat by its id"
        (scratch,) = (c.state_dir / "internal").iterdir()
        assert (scratch / "conversations" / f"{conversation}.db").exists()
        assert not (c.state_dir / "conversations" / f"{conversation}.db").exists()
        assert not (c.state_dir / "sessions" / f"{conversation}.json").exists()

        await m.shutdown_agent(internal)
        assert list((c.state_dir / "internal").iterdir()) == [] and not m.has(internal)
        assert [s.agent_id for s in m.sessions.listing()] == [listed]
