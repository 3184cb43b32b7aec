"""Every benchmark once at tiny sizes, so they cannot rot (not the real figures):
`python -m benchmarks --quick` runs all sections at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

EXPECTED = (
    # startup: LSP, ACP, MCP
    "initialize_ms",
    "acp_initialize_ms",
    "mcp_initialize_ms",
    "first_agent_ready_ms",
    "first_chunk_ms",
    "acp_first_chunk_ms",
    "mcp_first_chunk_ms",
    # agy-lsp run
    "run_first_chunk_ms",
    "run_exit_ms",
    # turns and throughput
    "ttfc_overhead_ms",
    "acp_ttfc_overhead_ms",
    "mcp_ttfc_overhead_ms",
    "turn_ratio",
    "acp_turn_ratio",
    "mcp_turn_ratio",
    "sdk_chunks_per_s",
    "per_chunk_overhead_us",
    "forwarding_chunks_per_s",
    "roundtrip_ratio",
    # history
    "history_encode_ms",
    "history_after_turn_ms",
    "acp_replay_after_turn_ms",
    "history_request_ms",
    "acp_load_ms",
    # concurrency (2 agents in quick mode)
    "turn_latency_p95_2_agents_ms",
    "server_rss_2_agents_mb",
    # large outputs
    "large_output_turn_ratio",
    "large_output_rss_growth_mb",
    "large_output_cpu_slope",
    "acp_large_output_turn_ratio",
    "acp_large_output_rss_growth_mb",
    "acp_large_output_cpu_slope",
    # the rest
    "cancel_response_ms",
    "pacing_burst_last_ttfc_ms",
    "memory_3_conversations_max_live_1_mb",
    "wake_turn_ms",
    # standard LSP for plain clients (issue #27)
    "inline_completion_overhead_ms",
    "inline_burst_model_requests",
    "inline_burst_last_ratio",
    "action_first_progress_overhead_ms",
    # MCP over HTTP (issue #29)
    "mcp_http_concurrent_p95_ratio",
    "mcp_http_server_rss_mb",
    "mcp_http_turn_overhead_ms",
)


def test_benchmarks_run_quick(tmp_path: object) -> None:
    out = str(tmp_path)
    # No time limit of its own (speed is the benchmarks' business, and this machine is shared): the run only has to finish.
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", out], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    with open(os.path.join(out, "results.json")) as f:
        results = json.load(f)
    assert not {k: s for k, s in results["sections"].items() if "error" in s}
    metrics = {m["name"]: m for m in results["metrics"]}
    missing = [name for name in EXPECTED if name not in metrics]
    assert not missing, f"{missing} missing from {sorted(metrics)}"
    for m in metrics.values():  # every figure with a target says whether it is met, against what
        if m["target"] and not m["target"].startswith("("):
            assert m["met"] is not None, m
    assert os.path.exists(os.path.join(out, "results.md"))
