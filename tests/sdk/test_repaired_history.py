"""Steps the harness's record left unfinished (after it refused a huge model reply)
are put back from its transcript, and only those (agy_lsp/sdk/transcript.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from agy_lsp.protocol.types import Step
from agy_lsp.sdk import internals, transcript


def test_lost_prompts_and_unfinished_replies_come_back_from_the_transcript(tmp_path: Path) -> None:
    log = tmp_path / "brain" / "traj" / internals.TRANSCRIPT
    os.makedirs(log.parent)
    entries = [
        {"step_index": 0, "type": "USER_INPUT", "status": "DONE", "content": "<USER_REQUEST>\nfirst\n</USER_REQUEST>\n<X>meta</X>"},
        {"step_index": 1, "type": "PLANNER_RESPONSE", "status": "DONE", "content": "hello"},
        {"step_index": 2, "type": "USER_INPUT", "status": "DONE", "content": "no wrapper"},
        {"step_index": 3, "type": "PLANNER_RESPONSE", "status": "DONE", "content": "another text"},
    ]
    log.write_text("".join(json.dumps(e) + "\n" for e in entries))
    transcript.register(str(tmp_path))
    steps = [
        Step(id="traj:0", index=0, source="USER", status="ACTIVE", content=""),
        Step(id="traj:1", index=1, source="MODEL", status="ACTIVE", content="hello"),
        Step(id="traj:2", index=2, source="USER", status="ACTIVE", content=""),
        Step(id="traj:3", index=3, source="MODEL", status="ACTIVE", content="mine"),
        Step(id="traj:4", index=4, source="USER", status="DONE", content="kept"),
    ]
    memo: dict[str, tuple[str, str] | None] = {}
    out = transcript.repaired(steps, memo)
    assert [(s.content, s.status) for s in out] == [
        ("first", "DONE"),
        ("hello", "DONE"),
        ("", "ACTIVE"),  # not the harness's prompt format: left alone
        ("mine", "ACTIVE"),  # another reply's text: not this step
        ("kept", "DONE"),
    ]
    assert transcript.repaired(out[4:], memo) == out[4:]
    done = [s for s in steps if s.status == "DONE"]
    assert transcript.repaired(done, {}) is done, "nothing to repair: the same list, no transcript read"


def test_a_transcript_line_too_deep_to_decode_is_skipped(tmp_path: Path) -> None:
    """A model's call nested 5000 deep sits in the transcript as the model made it."""
    log = tmp_path / "brain" / "deep" / internals.TRANSCRIPT
    os.makedirs(log.parent)
    deep = '{"step_index": 1, "tool_calls": [{"args": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}]}"
    log.write_text(json.dumps({"step_index": 0, "content": "kept"}) + "\n" + deep + "\n")
    assert internals.transcript(str(tmp_path), "deep") == {0: {"step_index": 0, "content": "kept"}}
