"""Stored sessions: resources (list, read, subscribe, change notifications), agy_sessions,
agy_history, and a session that outlives its server."""

from __future__ import annotations

from typing import Any

import mcp_types as types
import pytest
from mcp import MCPError

from tests.mcp_front.conftest import Host, ok, replies

pytestmark = pytest.mark.asyncio(loop_scope="package")  # the shared server lives in the package's loop


@pytest.mark.filterwarnings("ignore::mcp.MCPDeprecationWarning")  # resources/subscribe is the 2025-11-25 way
async def test_sessions_are_resources_with_change_notifications(host: Host) -> None:
    replies(host, {"text": "First answer."}, {"text": "Second answer."})
    templates = (await host.session.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == ["agy://sessions/{sessionId}"]

    run = await host.run("Tell me something")
    session_id, uri = run["sessionId"], f"agy://sessions/{run['sessionId']}"
    await host.wait_for(lambda: bool(host.notified(types.ResourceListChangedNotification)))
    resources = (await host.session.list_resources()).resources
    assert str(resources[0].uri) == uri  # newest first
    (resource,) = [r for r in resources if str(r.uri) == uri]
    assert (str(resource.uri), resource.mime_type, resource.title) == (uri, "text/markdown", "Tell me something")

    read = await host.session.read_resource(uri)
    (contents,) = read.contents
    assert isinstance(contents, types.TextResourceContents) and contents.mime_type == "text/markdown"
    assert "## You\n\nTell me something" in contents.text and "## Agent\n\nFirst answer." in contents.text

    await host.session.subscribe_resource(uri)
    announced = len(host.notified(types.ResourceListChangedNotification))
    await host.reply(session_id, "More")
    await host.wait_for(lambda: any(str(n.params.uri) == uri for n in host.notified(types.ResourceUpdatedNotification)))
    assert "Second answer." in (await host.session.read_resource(uri)).contents[0].text  # type: ignore[union-attr]
    assert len(host.notified(types.ResourceListChangedNotification)) == announced  # not a new session

    for bad in ("agy://sessions/nope", "file:///etc/passwd", "agy://sessions/"):
        with pytest.raises(MCPError) as e:
            await host.session.read_resource(bad)
        assert e.value.error.code == -32602, bad


async def test_a_session_outlives_its_server(start: Any) -> None:
    async with start({"text": "Remember: blue."}) as host:
        first = await host.run("Pick a colour", cwd=host.workdir)
        session_id = first["sessionId"]
        listed = ok(await host.call("agy_sessions", {}))
        assert listed["total"] == 1 and listed["sessions"][0]["sessionId"] == session_id
        assert listed["sessions"][0]["live"] is True and listed["sessions"][0]["cwd"] == host.workdir

    async with start({"text": "It was blue."}) as host:  # the same state dir, a new server
        (stored,) = ok(await host.call("agy_sessions", {"cwd": host.workdir}))["sessions"]
        assert stored == {**stored, "sessionId": session_id, "title": "Pick a colour", "turnCount": 1, "live": False}
        assert ok(await host.call("agy_sessions", {"cwd": "/elsewhere"}))["sessions"] == []
        status = ok(await host.call("agy_status", {"sessionId": session_id}))
        assert status["state"] == "stored" and status["turnCount"] == 1

        history = ok(await host.call("agy_history", {"sessionId": session_id}))
        assert "Pick a colour" in history["markdown"] and "Remember: blue." in history["markdown"]
        assert history["truncated"] is False

        again = await host.reply(session_id, "Which colour?")
        assert again["text"] == "It was blue." and again["sessionId"] == session_id
        assert "Remember: blue." in str(host.script.requests[-1]["messages"])  # the model got the old conversation
        last = ok(await host.call("agy_history", {"sessionId": session_id, "limit": 2}))["markdown"]
        assert "It was blue." in last and "## You\n\nPick a colour" not in last
        assert ok(await host.call("agy_status", {"sessionId": session_id}))["turnCount"] == 2
