"""Hostile session ids over MCP (issue #25): a session id that is a path, or not an id
at all, is INVALID_PARAMS (a protocol error, as for any bad argument) on every tool
and resource that takes one; nothing outside the state dir is touched, and whether
a file exists there never shows in an answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import MCPError

from tests.mcp_front.conftest import ok

INVALID_PARAMS = -32602
CANARIES = ("proj/app.db", "proj/app.db-wal", "proj/app-notes.txt", "x/secret.db")
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("agy_reply", {"prompt": "hi"}),
    ("agy_status", {}),
    ("agy_cancel", {}),
    ("agy_history", {}),
    ("agy_run", {"prompt": "hi"}),
]


async def invalid(host: Any, tool: str, args: dict[str, Any]) -> MCPError:
    with pytest.raises(MCPError) as caught:
        await host.call(tool, args)
    return caught.value


async def test_hostile_session_ids_are_invalid_params(start, tmp_path: Path) -> None:
    for name in CANARIES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("canary")
    async with start({"text": "stored"}) as host:
        session_id = (await host.run("keep this"))["sessionId"]  # `conversations/` exists: `..` from it resolves
        assert (tmp_path / "state" / "conversations").is_dir()
        for value in ("../../proj/app", str(tmp_path / "proj" / "app"), "../../x/secret", "a" * 5000, "a\x00b", "..", "*"):
            for tool, args in CALLS:
                err = await invalid(host, tool, {**args, "sessionId": value})
                assert err.error.code == INVALID_PARAMS, (tool, value[:20], err.error)
                assert err.error.data["code"] == "INVALID_PARAMS" and err.error.data["field"] == "sessionId"
                assert str(tmp_path) not in err.error.message
        for value in ("a" * 5000, "a\x00b", "..", ".hidden", "a%2F..%2Fb"):
            with pytest.raises(MCPError) as caught:
                await host.session.read_resource(f"agy://sessions/{value}")
            assert caught.value.error.code == INVALID_PARAMS and str(tmp_path) not in caught.value.error.message
        assert all((tmp_path / name).read_text() == "canary" for name in CANARIES)

        # No existence oracle: the same answer with or without `../../x/secret.db`.
        present = (await invalid(host, "agy_status", {"sessionId": "../../x/secret"})).error
        (tmp_path / "x" / "secret.db").unlink()
        absent = (await invalid(host, "agy_status", {"sessionId": "../../x/secret"})).error
        assert (present.code, present.message, present.data) == (absent.code, absent.message, absent.data)

        assert ok(await host.call("agy_status", {"sessionId": session_id}))["turnCount"] == 1  # a real id still works
