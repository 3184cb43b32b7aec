"""Tool calls under an "ask" policy: elicitation when the host can, else denied with a
reason the calling model can read. The default over MCP is safeDefaults."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.mcp_front.conftest import Host, allow, decline, ok, replies

pytestmark = pytest.mark.asyncio(loop_scope="package")  # the shared server lives in the package's loop

RUN_LS = {"toolCalls": [{"name": "run_command", "args": {"CommandLine": "echo agy-was-here", "Cwd": "/tmp"}}]}


async def test_elicitation_allows_denies_and_remembers(host: Host) -> None:
    replies(host, RUN_LS, {"text": "ran it"}, RUN_LS, {"text": "could not run it"})
    host.on_elicit = allow()
    first = await host.run("list files")
    assert first["text"] == "ran it"
    assert [(c["name"], c["outcome"]) for c in first["toolCalls"]] == [("run_command", "completed")]
    (asked,) = host.elicitations
    assert "run_command" in asked.message and "echo agy-was-here" in asked.message
    choices = asked.requested_schema["properties"]["decision"]["oneOf"]
    assert [c["const"] for c in choices] == ["allow_once", "allow_always", "reject_once", "reject_always"]
    assert asked.requested_schema["required"] == ["decision"]
    assert "agy-was-here" in str(host.script.requests[-1]["messages"])  # the command's output reached the model

    host.on_elicit = decline()
    second = await host.reply(first["sessionId"], "again")
    assert second["text"] == "could not run it"
    (call,) = second["toolCalls"]
    assert call["outcome"] == "denied" and call["reason"] == "you rejected the tool call"
    assert len(host.elicitations) == 2

    # "Always allow" is remembered for the session: asked once, then never again.
    replies(host, RUN_LS, {"text": "one"}, RUN_LS, {"text": "two"})
    host.on_elicit = allow("allow_always")
    third = await host.reply(first["sessionId"], "run it")
    fourth = await host.reply(first["sessionId"], "run it again")
    assert [c["outcome"] for c in third["toolCalls"] + fourth["toolCalls"]] == ["completed", "completed"]
    assert len(host.elicitations) == 3
    status = await host.call("agy_status", {"sessionId": first["sessionId"]})
    assert status.structured_content is not None
    assert status.structured_content["permissions"] == [{"tool": "run_command", "decision": "allow"}]


async def test_without_elicitation_an_ask_is_denied_with_a_reason_and_reads_still_run(start: Any) -> None:
    async with start(elicit=False) as host:
        notes = Path(host.workdir) / "notes.txt"
        notes.write_text("hello\n")
        view = {"toolCalls": [{"name": "view_file", "args": {"AbsolutePath": str(notes)}}]}
        replies(host, view, RUN_LS, {"text": "done"}, RUN_LS, {"text": "ran"})
        result = await host.run("look around")
        assert result["text"] == "done"
        read, run = result["toolCalls"]
        assert (read["name"], read["outcome"]) == ("view_file", "completed")  # safeDefaults: reading needs no OK
        assert (run["name"], run["outcome"]) == ("run_command", "denied")
        assert "cannot ask" in run["reason"]
        assert "agy-was-here" not in str(host.script.requests[-1]["messages"][-1])
        assert host.elicitations == []

        # The host opts in to more with `policy`, from the next turn on.
        opted = await host.run("now run it", sessionId=result["sessionId"], policy="allowAll")
        assert [(c["name"], c["outcome"]) for c in opted["toolCalls"]] == [("run_command", "completed")]


async def test_a_2026_host_cannot_be_asked_so_an_ask_is_denied(start: Any) -> None:
    """MCP 2026-07-28 has no server-to-client requests: no elicitation, even from a
    host that would answer one. Everything else works as over the handshake."""
    async with start(RUN_LS, {"text": "done"}, modern=True) as host:
        assert host.session.protocol_version == "2026-07-28"
        result = await host.run("run it")
        (call,) = result["toolCalls"]
        assert (call["name"], call["outcome"]) == ("run_command", "denied") and "cannot ask" in call["reason"]
        assert host.elicitations == []
        assert ok(await host.call("agy_status", {"sessionId": result["sessionId"]}))["turnCount"] == 1


async def test_the_elicitation_shows_the_whole_call_and_a_long_one_defaults_to_reject(host: Host) -> None:
    """A 40-line, 2,000-character command whose '; touch' comes last: every byte of it
    is in the message (nothing cut), control characters escaped, and since a host may
    show a long message in a small box, the message says how long it is and the
    form's default is Reject."""
    lines = [f"echo checking the build status now please wait step {i:02d} of 40 ok" for i in range(39)]
    pwned = Path(host.workdir) / "PWNED-xyz"
    command = "\n".join([*lines, f"echo done; touch {pwned}"])
    assert len(command) > 2000
    long_run = {"toolCalls": [{"name": "run_command", "args": {"CommandLine": command, "Cwd": "/tmp", "Note": "a\x1b[2Kb\rc"}}]}
    replies(host, long_run, {"text": "not run"})
    host.on_elicit = decline()
    result = await host.run("build it")
    assert [c["outcome"] for c in result["toolCalls"]] == ["denied"]
    (asked,) = host.elicitations
    assert command in "\n".join(line.removeprefix("    ") for line in asked.message.split("\n"))
    end = re.search(r"\n(\(end of the call [0-9a-f]{6}\))", asked.message)
    assert end is not None and f"down to the line '{end.group(1)}'" in asked.message
    assert asked.message.index(f"; touch {pwned}") < end.start()
    assert "Cwd: /tmp" in asked.message and "a\\x1b[2Kb\\rc" in asked.message and "\x1b" not in asked.message
    assert "40 lines" in asked.message and "choose Reject" in asked.message
    assert asked.requested_schema["properties"]["decision"]["default"] == "reject_once"
    assert not pwned.exists()
