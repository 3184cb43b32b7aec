"""Every built-in tool the harness offers, plus an MCP and an editor tool, called by
the scripted model on the real SDK and harness: each call has one id and one name
(the one the model called) in its `toolCall` and `toolResult` chunks, its
`agy/confirmToolCall`, `agy/runTool`, hooks and `agy/history`, and its `toolResult`
carries what the tool really returned (the text the harness gave the model), or
its error. The table is docs/protocol.md#built-in-tools.

One server for the module: three agents run their turns at once (one calls most
tools in turn; a subagent and a `finish` need agents of their own), and each test
checks one tool's messages.
"""

from __future__ import annotations

import asyncio
import http.server
import os
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from pytest_lsp import LanguageClient

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from tests.e2e.conftest import start_client
from tests.e2e.test_mcp import echo_server, mcp_log
from tests.helpers import request, to_dict

pytestmark = pytest.mark.asyncio(loop_scope="module")

WORD_COUNT = {
    "name": "word_count",
    "description": "Counts the words of a text",
    "parameters": {"type": "object", "properties": {"text": {"type": "string"}}},
}
GHOST = {"name": "ghost_buffer", "description": "Reads an editor buffer", "parameters": {"type": "object"}}
# Every built-in the SDK knows (google-antigravity 0.1.22), by its SDK name.
ALL_BUILTINS = [
    "list_directory", "search_directory", "find_file", "view_file", "create_file", "edit_file", "run_command",
    "ask_question", "invoke_subagent", "run_workflow", "generate_image", "search_web", "read_url_content",
    "schedule", "finish",
]  # fmt: skip
# What the harness offers the model with all of them on (and the names it uses).
OFFERED = {
    "ask_question", "define_subagent", "find_by_name", "generate_image", "grep_search", "invoke_subagent", "list_dir",
    "manage_subagents", "manage_task", "read_url_content", "replace_file_content", "run_command", "run_workflow",
    "schedule", "search_web", "send_message", "view_file", "write_to_file",
}  # fmt: skip


@dataclass
class Case:
    """One call the model makes. `hooks`: the harness runs it through the pre-tool hook
    (and so the policy); `hookless` calls have no model id anywhere, and get their
    step's id. `expect` is in the result, or in the error when `outcome` is failed."""

    tool: str  # as the model calls it
    args: dict[str, Any]
    expect: str
    name: str = ""  # on our wire, when not `tool`
    outcome: str = "completed"
    hooks: bool = True
    agent: str = "main"

    @property
    def wire_name(self) -> str:
        return self.name or self.tool

    @property
    def model_id(self) -> str:
        return f"id-{self.tool}"


EDIT = {"Instruction": "swap", "Description": "swap", "AllowMultiple": False, "TargetContent": "beta", "ReplacementContent": "gamma"}
EDIT |= {"StartLine": 1, "EndLine": 3}
HELPER = {"name": "helper", "description": "helps", "system_prompt": "Help."}
INVOKE = {"TypeName": "helper", "Role": "Helper", "Prompt": "say hi"}


def cases(ws: str, url: str) -> list[Case]:
    a, new = os.path.join(ws, "a.txt"), os.path.join(ws, "new.txt")
    return [
        Case("view_file", {"AbsolutePath": a}, "1: alpha"),
        Case("write_to_file", {"TargetFile": new, "CodeContent": "hello\n", "Overwrite": False, "Description": "d"}, "Created file"),
        Case("replace_file_content", {**EDIT, "TargetFile": a}, "+gamma"),
        Case("list_dir", {"DirectoryPath": ws}, '"name":"a.txt"'),
        Case("find_by_name", {"SearchDirectory": ws, "Pattern": "*.txt"}, "a.txt"),
        Case("grep_search", {"SearchPath": ws, "Query": "alpha", "MatchPerLine": True}, '"LineContent":"alpha"'),
        Case("run_command", {"CommandLine": "echo hi-from-run", "Cwd": ws, "WaitMsBeforeAsync": 5000}, "hi-from-run"),
        Case("read_url_content", {"Url": url}, "Title: Probe page"),
        Case("search_web", {"query": "antigravity"}, 'The search for "antigravity" returned'),  # offline: no summary
        Case("generate_image", {"Prompt": "a cat", "ImageName": "cat"}, "media generation failed", outcome="failed"),
        Case("define_subagent", HELPER, 'Subagent "helper" defined', hooks=False),
        Case("manage_subagents", {"Action": "list"}, "active subagent", hooks=False),
        Case("manage_task", {"Action": "list"}, "No background tasks", hooks=False),
        Case("send_message", {"Recipient": "nobody", "Message": "hi"}, 'recipient "nobody" not found', outcome="failed", hooks=False),
        Case("ask_question", {"questions": [{"question": "Pick one", "options": ["red", "blue"]}]}, "A1: red"),
        Case("call_mcp_tool", {"ServerName": "echo", "ToolName": "shout", "Arguments": {"text": "hey"}}, "HEY", name="echo/shout"),
        Case("word_count", {"text": "a b c"}, "3 words"),
        Case("ghost_buffer", {"name": "ghost.py"}, "no buffer named ghost.py", outcome="failed"),
        # The SDK's own names for write_to_file and replace_file_content are not offered to the model.
        Case("create_file", {"TargetFile": new, "CodeContent": "x"}, "unknown tool name: `create_file`", outcome="failed", hooks=False),
        Case("edit_file", {"TargetFile": a, "CodeContent": "x"}, "unknown tool name: `edit_file`", outcome="failed", hooks=False),
        Case("run_workflow", {"Script": "print('hi-from-workflow')", "Description": "wf"}, "running as a background task"),
        Case("schedule", {"Prompt": "ping", "DurationSeconds": 1}, "running as a background task", hooks=False),
        Case("invoke_subagent", {"Subagents": [INVOKE]}, "Created the following subagents", agent="sub"),
        Case("finish", {"answer": "42"}, "Task is complete", agent="finish"),
    ]


def reply(case: Case) -> dict[str, Any]:
    builtin = case.tool not in ("finish", "word_count", "ghost_buffer")  # the harness adds these two to its built-ins only
    summary = {"toolSummary": f"Summary of {case.tool}", "toolAction": "Acting"} if builtin else {}
    return {"toolCalls": [{"name": case.tool, "id": case.model_id, "args": {**case.args, **summary}}]}


@dataclass
class Seen:
    cases: dict[str, Case]
    chunks: dict[str, list[dict[str, Any]]] = field(default_factory=dict[str, list[dict[str, Any]]])  # by agent
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict[str, list[dict[str, Any]]])
    confirms: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    runs: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    hooks: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    offered: set[str] = field(default_factory=set[str])
    results: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])

    def of(self, kind: str, case: Case) -> list[dict[str, Any]]:
        """The chunks of this kind about the case's tool, in its agent's turn."""
        return [c[kind] for c in self.chunks[case.agent] if c["kind"] == kind and c[kind]["name"] == case.wire_name]


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><head><title>Probe page</title></head><body><h1>Hello</h1><p>Some text.</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page() -> Iterator[str]:
    """A web page on 127.0.0.1, so read_url_content really runs offline."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/page.html"
    server.shutdown()


def _answer_everything(client: LanguageClient, seen: Seen) -> None:
    @client.feature("agy/confirmToolCall")
    async def confirm(params: Any) -> dict[str, Any]:
        seen.confirms.append(to_dict(params))
        return {"outcome": "allow_once"}

    @client.feature("agy/runTool")
    async def run_tool(params: Any) -> dict[str, Any]:
        seen.runs.append(p := to_dict(params))
        return {"content": "3 words"} if p["toolCall"]["name"] == "word_count" else {"error": "no buffer named ghost.py"}

    @client.feature("agy/hook")  # preToolCall, onToolError, onInteraction are requests; postToolCall a notification
    async def hook(params: Any) -> dict[str, Any]:
        seen.hooks.append(p := to_dict(params))
        if p["point"] == "onInteraction":
            return {"answer": [{"selectedOptionIds": ["1"]}]}
        return {"allow": True}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def seen(model: ScriptedModel, page: str) -> AsyncIterator[Seen]:
    ws = tempfile.mkdtemp(prefix="agy-builtins-")
    with open(os.path.join(ws, "a.txt"), "w") as f:
        f.write("alpha\nbeta\n")
    all_cases = cases(ws, page)
    result = Seen({c.wire_name: c for c in all_cases})
    client = await start_client()
    try:
        _answer_everything(client, result)
        common: dict[str, Any] = {
            "workspaces": [ws],
            "capabilities": {"enabledTools": ALL_BUILTINS},
            "policies": [{"tool": "*", "decision": "ask_user"}],  # every call that has a policy asks
            "hooks": ["preToolCall", "postToolCall", "onToolError", "onInteraction"],
        }
        scripts = {
            "main": [reply(c) for c in all_cases if c.agent == "main"],
            "sub": [reply(Case("define_subagent", HELPER, "")), *(reply(c) for c in all_cases if c.agent == "sub")],
            "finish": [reply(c) for c in all_cases if c.agent == "finish"],
        }
        extra: dict[str, dict[str, Any]] = {
            "main": {"tools": [WORD_COUNT, GHOST], "mcpServers": [echo_server(mcp_log())]},
            "sub": {},
            "finish": {"responseSchema": {"type": "object", "properties": {"answer": {"type": "string"}}}},
        }
        states: dict[str, Any] = {}

        async def run(agent: str) -> None:
            url, states[agent] = model.register(parse_script({"replies": scripts[agent], "fallback": "done"}))
            backend = {"type": "openai", "baseUrl": url, "model": "scripted"}
            created = await request(client, "agy/createAgent", {"backend": backend, **common, **extra[agent]})
            result.results[agent] = await request(client, "agy/chat", {"agentId": created["agentId"], "prompt": "use your tools"})
            result.chunks[agent] = client.recorder.chunks(result.results[agent]["turnId"])  # type: ignore[attr-defined]
            result.history[agent] = (await request(client, "agy/history", {"agentId": created["agentId"]}))["steps"]

        await asyncio.wait_for(asyncio.gather(*(run(a) for a in scripts)), timeout=120)
        result.offered = {t["function"]["name"] for t in states["main"].requests[0].get("tools", [])}
        yield result
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_the_harness_offers_the_model_these_names(seen: Seen) -> None:
    """The names of docs/protocol.md#built-in-tools (with every built-in on): the model
    never sees the SDK's create_file or edit_file. An editor tool keeps its name; an MCP
    server adds the harness's generic MCP tools."""
    mcp = {"call_mcp_tool", "list_resources", "read_resource"}
    assert seen.offered - {"word_count", "ghost_buffer"} - mcp == OFFERED and mcp <= seen.offered


TOOLS = [c.wire_name for c in cases("/ws", "http://x")]


@pytest.mark.parametrize("tool", TOOLS)
async def test_one_id_one_name_and_the_real_output(seen: Seen, tool: str) -> None:
    case = seen.cases[tool]
    (call,) = seen.of("toolCall", case)
    (result,) = seen.of("toolResult", case)
    ident = call["id"]
    assert result["id"] == ident and "callId" not in call
    if case.hooks:
        assert ident == case.model_id
    else:  # no model id anywhere: the id of the step the harness streamed for it
        assert ident.rpartition(":")[2].isdigit(), ident

    # The real output (or error), never the call's toolSummary argument.
    assert result["outcome"] == case.outcome, result
    if case.outcome == "completed":
        assert case.expect in str(result["result"]) and "error" not in result, result
    else:
        assert case.expect in result["error"] and "result" not in result, result
    assert "Summary of" not in str(result.get("result"))

    # The editor's requests and the hooks name it the same way, by the same id.
    by_id = [h for h in seen.hooks if isinstance(h["data"], dict) and h["data"].get("id") == ident]
    points = sorted(h["point"] for h in by_id)
    confirms = [c["toolCall"] for c in seen.confirms if c["toolCall"]["id"] == ident]
    if case.hooks:
        # `finish` ends the turn without a post-tool hook: the harness calls none.
        end = {"completed": {"postToolCall"}, "failed": {"onToolError"}}[case.outcome] if tool != "finish" else set[str]()
        assert {"preToolCall", *end} <= set(points) and points.count("postToolCall") <= 1, points
        assert all(h["data"].get("name", case.wire_name) == case.wire_name for h in by_id)
        assert [c["name"] for c in confirms] == [case.wire_name]
        post = [h["data"] for h in by_id if h["point"] == "postToolCall"]
        assert post == [] or post[0].get("result") == result.get("result")
    else:  # the harness runs it without hooks or policies
        assert points == [] and confirms == []
    if tool in ("word_count", "ghost_buffer"):
        assert [r["toolCall"]["id"] for r in seen.runs if r["toolCall"]["name"] == tool] == [ident]

    # History shows the call under the same id and name.
    in_history = [c for s in seen.history[case.agent] for c in s.get("toolCalls") or [] if c["id"] == ident]
    assert [(c["name"], c.get("outcome")) for c in in_history] == [(case.wire_name, case.outcome)], in_history
    assert "toolSummary" not in in_history[0]["args"] and "toolSummary" not in call["args"]


async def test_the_turns_ended_normally_with_each_call_once(seen: Seen) -> None:
    assert {a: r["stopReason"] for a, r in seen.results.items()} == {"main": "end_turn", "sub": "end_turn", "finish": "end_turn"}
    for agent in seen.chunks:
        want = sorted(c.wire_name for c in seen.cases.values() if c.agent == agent) + (["define_subagent"] if agent == "sub" else [])
        for kind in ("toolCall", "toolResult"):
            got = [c[kind] for c in seen.chunks[agent] if c["kind"] == kind and "trajectoryId" not in c]  # not a subagent's
            assert sorted(c["name"] for c in got) == sorted(want) and len({c["id"] for c in got}) == len(got), (agent, kind)
    assert seen.results["finish"].get("structuredOutput") == {"answer": "42"}
