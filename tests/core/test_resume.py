"""Resume: the stored session holds the agent's whole spec (never a secret), and
`createAgent {conversationId}` brings all of it back; fields given override."""

from __future__ import annotations

import sys

import msgspec

from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.protocol.types import Capabilities, OpenAI, RunToolParams, RunToolResult
from tests.core.conftest import BACKEND, Core, CoreFactory, raises
from tests.core.fake_sdk import Say, Tool

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}}
SPEC = {
    "name": "reviewer",
    "systemInstructions": "be brief",
    "workspaces": ["/work/project"],
    "capabilities": {"disabledTools": ["generate_image"], "agentBehavior": "interactive"},
    "responseSchema": SCHEMA,
    "maxQuotaRetries": 7,
    "chatTimeoutSecs": 42.0,
    "policies": {"preset": "allowAll", "rules": [{"tool": "run_command", "decision": "deny", "reason": "no shell"}]},
    "tools": [{"name": "word_count", "description": "Counts words", "timeoutSecs": 5.0}],
    "hooks": ["preToolCall", "postTurn"],
    "mcpServers": [
        {"name": "local", "command": sys.executable, "args": ["-V"], "env": {"GITHUB_TOKEN": "ghp-secret-env"}},
        {"name": "remote", "type": "http", "url": "http://mcp.test/", "headers": {"Authorization": "Bearer hdr-secret"}},
    ],
}


async def stored_agent(c: Core) -> tuple[str, str]:
    """An agent with the whole SPEC that ran one turn (an editor tool saved state); (agent, conversation)."""

    async def run(params: RunToolParams) -> RunToolResult:
        return RunToolResult(content="1", state={"cursor": 12})

    c.editor.on_run = run
    agent = await c.create(**SPEC)
    c.sdk.script(agent, [Tool("word_count", {"text": "x"}), Say("first answer")])
    await c.manager.chat(agent, "first prompt")
    conversation = c.session(agent).conversation_id
    assert conversation is not None
    await c.manager.shutdown_agent(agent)
    return agent, conversation


async def test_resume_brings_back_the_whole_spec(core: CoreFactory) -> None:
    async with core() as c:
        _, conversation = await stored_agent(c)
        resumed = await c.create(backend=None, conversationId=conversation)
        session = c.session(resumed)
        spec = session.spec
        assert spec.name == "reviewer" and spec.system_instructions == "be brief" and spec.workspaces == ["/work/project"]
        assert spec.capabilities == Capabilities(disabled_tools=["generate_image"], agent_behavior="interactive")
        assert spec.response_schema == SCHEMA and spec.max_quota_retries == 7 and spec.chat_timeout_secs == 42.0
        assert session.max_quota_retries() == 7 and session.chat_timeout() == 42.0
        assert spec.hooks == ["preToolCall", "postTurn"] and [t.name for t in spec.tools] == ["word_count"]
        assert spec.tools[0].timeout_secs == 5.0
        started = c.sdk.live(resumed).spec
        assert started.resume and started.conversation_id == conversation
        assert started.capabilities == spec.capabilities and started.response_schema == SCHEMA
        assert [t.name for t in started.editor_tools] == ["word_count"] and started.hooks == ["preToolCall", "postTurn"]
        assert [(r.tool, r.decision, r.reason) for r in started.rules] == [("run_command", "deny", "no shell")]
        assert [p.name for p in started.presets] == ["allowAll"]
        assert started.system_instructions == "be brief" and started.workspaces == ["/work/project"]
        assert [s.name for s in started.mcp_servers] == ["local", "remote"]
        assert started.backend == OpenAI(base_url=BACKEND.base_url, model="m")  # described, without its key
        assert c.manager.name_of(resumed) == "reviewer"
        assert c.manager.status(resumed).turn_count == 1
        assert c.manager.history(resumed).steps[0].content == "first prompt"
        c.sdk.script(resumed, [Tool("word_count", {"text": "y"}), Say("again")])
        await c.manager.chat(resumed, "second")
        assert c.editor.runs[-1].state == {"cursor": 12}  # the editor tools' state came back


async def test_fields_given_in_the_resume_request_override_the_stored_ones(core: CoreFactory) -> None:
    async with core() as c:
        _, conversation = await stored_agent(c)
        resumed = await c.create(
            conversationId=conversation, name="renamed", chatTimeoutSecs=3.0, maxQuotaRetries=0, policies="denyAll", hooks=["postTurn"]
        )
        spec = c.session(resumed).spec
        assert (spec.name, spec.chat_timeout_secs, spec.max_quota_retries, spec.policies, spec.hooks) == (
            "renamed",
            3.0,
            0,
            "denyAll",
            ["postTurn"],
        )
        assert spec.response_schema == SCHEMA and spec.system_instructions == "be brief"  # not given: stored
        assert [p.name for p in c.sdk.live(resumed).spec.presets] == ["denyAll"]
        assert c.sdk.live(resumed).spec.backend == BACKEND  # a backend given with its key is used as given


async def test_the_stored_session_holds_no_secret(core: CoreFactory) -> None:
    async with core() as c:
        _, conversation = await stored_agent(c)
        raw = (c.state_dir / "sessions" / f"{conversation}.json").read_bytes()
        for secret in (b"sk-core-test-key", b"ghp-secret-env", b"hdr-secret", b"GITHUB_TOKEN", b"Authorization"):
            assert secret not in raw
        stored = msgspec.json.decode(raw)
        assert stored["backend"] == {"type": "openai", "model": "m", "base_url": BACKEND.base_url}
        assert stored["spec"]["name"] == "reviewer" and stored["spec"]["chatTimeoutSecs"] == 42.0
        assert stored["spec"]["mcpServers"][1] == {"name": "remote", "type": "http", "url": "http://mcp.test/"}
        assert stored["toolState"] == {"cursor": 12} and stored["turnCount"] == 1 and stored["title"] == "first prompt"


async def test_refused_calls_are_shown_in_history_after_resume(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(policies={"preset": "allowAll", "rules": [{"tool": "run_command", "decision": "deny"}]})
        c.sdk.script(agent, [Tool("run_command", {"CommandLine": "rm -rf /"}), Say("ok")])
        await c.manager.chat(agent, "go")
        before = [s for s in c.manager.history(agent).steps if s.tool_calls]
        conversation = c.session(agent).conversation_id
        assert conversation is not None
        await c.manager.shutdown_agent(agent)
        resumed = await c.create(conversationId=conversation)
        after = [s for s in c.manager.history(resumed).steps if s.tool_calls]
        assert after == before and after[0].tool_calls[0].outcome == "denied" and after[0].error == "denied by a policy"


async def test_the_turn_count_goes_on_across_resumes_and_restarts(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create()
        await c.manager.chat(agent, "1")
        await c.manager.chat(agent, "2")
        conversation = c.session(agent).conversation_id
        assert conversation is not None
        await c.manager.shutdown_agent(agent)
        resumed = await c.create(conversationId=conversation)
        await c.manager.chat(resumed, "3")
        assert await c.session(resumed).hibernate("test")
        await c.manager.chat(resumed, "4")
        assert c.manager.status(resumed).turn_count == 4
        assert [m.turn_count for m in c.manager.sessions.stored()] == [4]


async def test_resume_of_an_unknown_conversation_is_invalid_params(core: CoreFactory) -> None:
    async with core() as c:
        err = await raises(ErrorCode.INVALID_PARAMS, c.create(conversationId="f" * 36))
        assert err.data["conversationId"] == "f" * 36 and c.sdk.starts == []


async def test_a_conversation_the_sdk_has_without_our_metadata_resumes_with_the_request_spec(core: CoreFactory) -> None:
    async with core() as c:
        conversation = c.sdk.new_conversation(str(c.state_dir)).id  # e.g. written by another tool on the SDK
        resumed = await c.create(conversationId=conversation, name="adopted")
        assert c.session(resumed).spec.name == "adopted"
        assert c.sdk.live(resumed).spec.conversation_id == conversation and c.sdk.live(resumed).spec.resume
