"""agy_run / agy_reply whose session cannot be saved: the answer stands (not isError)
and its structured content carries `warning` (PERSIST_FAILED), valid against the
tool's output schema. The read-only state directory is real (tests/disk_faults.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema

from tests.disk_faults import read_only
from tests.mcp_front.conftest import ok


async def test_a_reply_whose_session_cannot_be_saved_carries_a_warning(start: Any, tmp_path: Path) -> None:
    with read_only(tmp_path / "state" / "sessions") as fault:
        async with start({"text": "first answer"}, {"text": "second answer"}, {"text": "third answer"}) as host:
            schema = {t.name: t.output_schema for t in (await host.session.list_tools()).tools}["agy_reply"]
            first = await host.run("one")
            assert "warning" not in first
            fault.on()
            result = await host.call("agy_reply", {"sessionId": first["sessionId"], "prompt": "two"})
            second = ok(result)  # not isError: the agent did answer
            jsonschema.validate(second, schema)
            assert second["text"] == "second answer" and second["stopReason"] == "end_turn"
            warning = second["warning"]
            assert warning["code"] == "PERSIST_FAILED" and warning["data"]["errno"] == fault.errno
            assert warning["data"]["hint"] and "PERSIST_FAILED" in result.content[0].text  # hosts that read only the text
            fault.off()
            third = await host.reply(first["sessionId"], "three")
            assert third["text"] == "third answer" and "warning" not in third
