"""Tool calls: kinds, statuses, permission requests allowed, rejected and remembered."""

from __future__ import annotations

import asyncio
import os

from acp import schema as s
from acp import text_block

from tests.acp.conftest import choose, exists


def run(path: str) -> dict:
    return {"toolCalls": [{"name": "run_command", "args": {"CommandLine": f"touch {path}", "Cwd": os.path.dirname(path)}}]}


async def test_permission_allowed_rejected_and_remembered(start, state_dir: str) -> None:
    allowed, rejected = os.path.join(state_dir, "allowed"), os.path.join(state_dir, "rejected")
    always = [os.path.join(state_dir, f"always{n}") for n in (1, 2)]
    async with start() as server:
        client = server.client

        async def answer(session_id: str, call: s.ToolCallUpdate, options: list[s.PermissionOption]) -> s.RequestPermissionResponse:
            return choose({a: "allow_once", r: "reject_once", al: "allow_always"}[session_id])

        client.on_permission = answer
        a, r, al = await asyncio.gather(
            server.new(run(allowed), {"text": "ran it"}),
            server.new(run(rejected), {"text": "did not run"}),
            server.new(run(always[0]), {"text": "one"}, run(always[1]), {"text": "two"}),
        )
        results = await asyncio.gather(*(server.conn.prompt(session_id=sid, prompt=[text_block("go")]) for sid in (a, r, al)))
        assert [x.stop_reason for x in results] == ["end_turn"] * 3

        # Allowed: asked once, with the call's kind, title and input; then it ran.
        asked = [p for p in client.permissions if p[0] == a]
        assert len(asked) == 1
        _, call, options = asked[0]
        assert call.kind == "execute" and "touch" in (call.title or "") and call.raw_input["CommandLine"] == f"touch {allowed}"
        assert {o.kind for o in options} == {"allow_once", "allow_always", "reject_once", "reject_always"}
        assert exists(allowed)
        starts = client.of(a, s.ToolCallStart)
        assert len(starts) == 1 and starts[0].kind == "execute" and starts[0].raw_input["CommandLine"] == f"touch {allowed}"
        statuses = [u.status for u in client.of(a, s.ToolCallProgress) if u.tool_call_id == starts[0].tool_call_id]
        assert statuses[0] == "in_progress" and statuses[-1] == "completed"
        assert client.text(a) == "ran it"

        # Rejected: the command never ran, the call failed, the turn still ended normally.
        assert not exists(rejected)
        assert [u.status for u in client.of(r, s.ToolCallProgress)][-1] == "failed"
        assert client.text(r) == "did not run"

        # allow_always: asked for the first run_command only.
        await server.conn.prompt(session_id=al, prompt=[text_block("again")])
        assert len([p for p in client.permissions if p[0] == al]) == 1
        assert all(exists(p) for p in always)


async def test_the_permission_request_holds_the_whole_call(start, state_dir: str) -> None:
    """A 40-line, 2,000-character command whose '; touch' comes last: the permission
    request's content holds every byte of it (control characters escaped), and its
    one-line title says the rest is below."""
    pwned = os.path.join(state_dir, "PWNED-xyz")
    lines = [f"echo checking the build status now please wait step {i:02d} of 40 ok" for i in range(39)]
    command = "\n".join([*lines, f"echo done; touch {pwned}"])
    assert len(command) > 2000
    call = {"toolCalls": [{"name": "run_command", "args": {"CommandLine": command, "Cwd": state_dir, "Note": "a\x1b[2Kb\rc"}}]}
    async with start() as server:
        client = server.client

        async def answer(session_id: str, call: s.ToolCallUpdate, options: list[s.PermissionOption]) -> s.RequestPermissionResponse:
            return choose("reject_once")

        client.on_permission = answer
        sid = await server.new(call, {"text": "did not run"})
        await server.conn.prompt(session_id=sid, prompt=[text_block("build")])
        ((_, asked, _),) = client.permissions
        blocks = [c.content for c in asked.content or [] if isinstance(c, s.ContentToolCallContent)]
        shown = "\n".join(b.text for b in blocks if isinstance(b, s.TextContentBlock))
        assert command in "\n".join(line.removeprefix("    ") for line in shown.split("\n"))
        assert f"Cwd: {state_dir}" in shown and "a\\x1b[2Kb\\rc" in shown and "\x1b" not in shown
        assert "\n" not in (asked.title or "") and "+39 lines, in full below" in (asked.title or "")
        assert asked.raw_input["CommandLine"] == command
        assert not exists(pwned)
