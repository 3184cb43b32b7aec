"""The built-in tools over ACP: each call is one `toolCallId` (the core's one id), one
`tool_call` with the tool's kind, and a `tool_call_update` that ends it with what the
tool really returned (or its error). An ACP session has the SDK's default tools (no
`ask_question`, no deprecated search tools, `finish` only with a response schema);
docs/protocol.md#built-in-tools has the kinds."""

from __future__ import annotations

import asyncio
import http.server
import os
import threading
from dataclasses import dataclass
from typing import Any

from acp import schema as s
from acp import text_block

from tests.acp.test_mcp import stdio


@dataclass
class Call:
    tool: str  # as the model calls it
    args: dict[str, Any]
    kind: str
    expect: str  # in the update's content
    status: str = "completed"
    hooks: bool = True  # else the harness runs it without hooks or policies: no model id anywhere
    name: str = ""  # on our wire, when not `tool`

    @property
    def model_id(self) -> str:
        return f"id-{self.tool}"


def calls(ws: str, url: str) -> list[Call]:
    a, new = os.path.join(ws, "a.txt"), os.path.join(ws, "n.txt")
    edit = {"TargetFile": a, "Instruction": "i", "Description": "d", "AllowMultiple": False, "StartLine": 1, "EndLine": 3}
    return [
        Call("view_file", {"AbsolutePath": a}, "read", "1: alpha"),
        Call("write_to_file", {"TargetFile": new, "CodeContent": "x\n", "Overwrite": False, "Description": "d"}, "edit", "Created file"),
        Call("replace_file_content", {**edit, "TargetContent": "beta", "ReplacementContent": "gamma"}, "edit", "+gamma"),
        Call("run_command", {"CommandLine": "echo hi-from-acp", "Cwd": ws, "WaitMsBeforeAsync": 5000}, "execute", "hi-from-acp"),
        Call("read_url_content", {"Url": url}, "fetch", "Title: Probe page"),
        Call("search_web", {"query": "antigravity"}, "fetch", 'The search for "antigravity"'),
        Call("generate_image", {"Prompt": "a cat", "ImageName": "cat"}, "other", "media generation failed", status="failed"),
        Call("define_subagent", {"name": "helper", "description": "helps", "system_prompt": "Help."}, "other", "defined", hooks=False),
        Call("manage_subagents", {"Action": "list"}, "other", "active subagent", hooks=False),
        Call("manage_task", {"Action": "list"}, "execute", "No background tasks", hooks=False),
        Call("send_message", {"Recipient": "nobody", "Message": "hi"}, "other", "not found", status="failed", hooks=False),
        Call("call_mcp_tool", {"ServerName": "echo", "ToolName": "shout", "Arguments": {"text": "hey"}}, "other", "HEY", name="echo/shout"),
        Call("run_workflow", {"Script": "print('wf')", "Description": "wf"}, "execute", "background task"),
        Call("schedule", {"Prompt": "ping", "DurationSeconds": 1}, "other", "background task", hooks=False),
    ]  # fmt: skip


def reply(call: Call) -> dict[str, Any]:
    args = {**call.args, "toolSummary": f"Summary of {call.tool}", "toolAction": "Acting"}
    return {"toolCalls": [{"name": call.tool, "id": call.model_id, "args": args}]}


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><head><title>Probe page</title></head><body><p>Hello.</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _text(update: Any) -> str:
    return " ".join(getattr(getattr(c, "content", None), "text", "") or "" for c in update.content or [])


async def test_every_builtin_is_one_tool_call_with_its_kind_and_real_output(start, state_dir: str) -> None:
    ws = os.path.join(state_dir, "ws")
    os.makedirs(ws)
    with open(os.path.join(ws, "a.txt"), "w") as f:
        f.write("alpha\nbeta\n")
    page = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=page.serve_forever, daemon=True).start()
    todo = calls(ws, f"http://127.0.0.1:{page.server_address[1]}/")
    subagent = [
        Call("define_subagent", {"name": "helper", "description": "d", "system_prompt": "p"}, "other", "defined", hooks=False),
        Call("invoke_subagent", {"Subagents": [{"TypeName": "helper", "Role": "R", "Prompt": "hi"}]}, "other", "Created the following"),
    ]  # fmt: skip
    try:
        async with start() as server:
            client = server.client
            client.on_permission = None  # every permission request: allow_once
            log = os.path.join(state_dir, "mcp.log")
            main, sub = await asyncio.gather(
                server.new(*(reply(c) for c in todo), {"text": "done"}, cwd=ws, mcp_servers=[stdio(log)]),
                server.new(*(reply(c) for c in subagent), {"text": "done"}, cwd=ws),
            )
            results = await asyncio.wait_for(
                asyncio.gather(*(server.conn.prompt(session_id=sid, prompt=[text_block("use your tools")]) for sid in (main, sub))), 120
            )
            assert [r.stop_reason for r in results] == ["end_turn", "end_turn"]
            problems = [p for sid, group in ((main, todo), (sub, subagent[1:])) for c in group for p in _check(client, sid, c)]
            assert problems == [], "\n".join(problems)
            # Permission requests name the call by the same toolCallId as its tool_call.
            starts = {u.tool_call_id for sid in (main, sub) for u in client.of(sid, s.ToolCallStart)}
            assert {p[1].tool_call_id for p in client.permissions} <= starts
            assert [len(client.of(sid, s.ToolCallStart)) for sid in (main, sub)] == [len(todo), len(subagent)]  # nothing else
    finally:
        page.shutdown()


def _check(client: Any, session_id: str, call: Call) -> list[str]:
    name = call.name or call.tool
    starts = client.of(session_id, s.ToolCallStart)
    if call.hooks:
        mine = [u for u in starts if u.tool_call_id == call.model_id]
    else:  # its id is its step's; its title is its name
        mine = [u for u in starts if (u.title or "").split(" ")[0] == name]
    if len(mine) != 1:
        return [f"{name}: {len(mine)} tool_call updates, want 1 ({[u.title for u in starts]})"]
    start = mine[0]
    out: list[str] = []
    if start.kind != call.kind:
        out.append(f"{name}: kind {start.kind}, want {call.kind}")
    ends = [
        u for u in client.of(session_id, s.ToolCallProgress) if u.tool_call_id == start.tool_call_id and u.status in ("completed", "failed")
    ]
    if len(ends) != 1:
        return [*out, f"{name}: {len(ends)} ending updates, want 1"]
    if ends[0].status != call.status or call.expect not in _text(ends[0]):
        out.append(f"{name}: ended {ends[0].status} with {_text(ends[0])[:200]!r}, want {call.status} with {call.expect!r}")
    if "Summary of" in _text(ends[0]):
        out.append(f"{name}: shows its toolSummary argument as its output")
    return out
