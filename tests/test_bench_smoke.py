"""Every benchmark once at tiny sizes, so they cannot rot (not the real figures)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_benchmarks_run_quick(tmp_path: object) -> None:
    out = str(tmp_path)
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", out], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert time.monotonic() - t0 < 90
    with open(os.path.join(out, "results.json")) as f:
        results = json.load(f)
    names = {m["name"] for m in results["metrics"]}
    for expected in (
        "ttfc_overhead_ms",
        "turn_ratio",
        "per_chunk_overhead_us",
        "forwarding_chunks_per_s",
        "roundtrip_ratio",
        "history_encode_ms",
        "history_request_ms",
        "initialize_ms",
        "first_agent_ready_ms",
        "cancel_response_ms",
        "pacing_burst_last_ttfc_ms",
        "memory_3_conversations_max_live_1_mb",
        "wake_turn_ms",
    ):
        assert expected in names, f"{expected} missing from {sorted(names)}"
    assert not any("error" in s for s in results["sections"].values())
    assert os.path.exists(os.path.join(out, "results.md"))
