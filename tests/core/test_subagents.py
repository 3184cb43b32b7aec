"""A subagent's work is nested under the call that started it from its first chunk:
the core sets `parentCallId` even when the subagent streams before the delegating
call's post-tool hook (which names the subagent) arrives, so editors need not guess."""

from __future__ import annotations

from agy_lsp.protocol.types import ChatChunk
from tests.core.conftest import CoreFactory
from tests.core.fake_sdk import Say, Sub, Tool


def delegation_ids(chunks: list[ChatChunk], depth: int = 0) -> list[str]:
    return [
        ch.tool_call.id
        for ch in chunks
        if ch.kind == "toolCall" and ch.tool_call is not None and ch.tool_call.name == "invoke_subagent" and (ch.depth or 0) == depth
    ]


async def test_the_first_chunk_of_a_subagent_carries_its_parent_call(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(policies="allowAll")
        helper = Sub("traj-a", ("sub ", "says hi"))
        c.sdk.script(agent, [Tool("invoke_subagent", {"Subagents": [{"Role": "Helper"}]}, starts=(helper,)), Say("done")])
        result = await c.manager.chat(agent, "delegate")
        chunks = c.editor.turn_chunks(result.turn_id)
        (call,) = delegation_ids(chunks)
        sub = [ch for ch in chunks if ch.depth]
        assert [ch.text for ch in sub] == ["sub ", "says hi"]
        assert sub[0].parent_call_id == call, "set from the subagent's first chunk on, before the call's hook named it"
        assert {ch.parent_call_id for ch in sub} == {call}
        assert all(ch.trajectory_id == "traj-a" for ch in sub)
        assert result.text == "done", "a subagent's text is not the agent's answer"


async def test_parallel_delegations_and_a_subagents_own_subagent_are_each_nested(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(policies="allowAll")
        nested = Sub("traj-b", ("b works",), delegates=(Sub("traj-b1", ("b1 works",)),))
        c.sdk.script(
            agent,
            [
                Tool("invoke_subagent", {}, starts=(Sub("traj-a", ("a works",)),)),
                Tool("invoke_subagent", {}, starts=(nested,)),
                Say("done"),
            ],
        )
        result = await c.manager.chat(agent, "delegate twice")
        chunks = c.editor.turn_chunks(result.turn_id)
        first, second = delegation_ids(chunks)
        (inner,) = delegation_ids(chunks, depth=1)
        parents = {ch.trajectory_id: ch.parent_call_id for ch in chunks if ch.depth}
        assert parents == {"traj-a": first, "traj-b": second, "traj-b1": inner}
        assert all(ch.parent_call_id for ch in chunks if ch.depth), "every subagent chunk names its call"
