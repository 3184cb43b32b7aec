"""Shared pieces: statistics, the machine header, metrics, subprocess helpers."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any

PY = sys.executable
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def p95(xs: list[float]) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = max(0, min(len(s) - 1, round(0.95 * (len(s) - 1))))
    return s[k]


@dataclass
class Metric:
    item: int
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None  # value / baseline unless given
    p95: float | None = None
    baseline_p95: float | None = None
    target: str = ""
    met: bool | None = None
    n: int = 0
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ratio is None and self.baseline not in (None, 0):
            assert self.baseline is not None
            self.ratio = self.value / self.baseline


@dataclass
class Config:
    quick: bool
    reps: int  # repetitions of a measured operation (item 1: turns per front-end)
    warm: int  # unmeasured repetitions first
    turn_chunks: int  # item 1: chunks per turn
    burst_chunks: int  # item 2: chunks per turn
    burst_reps: int
    roundtrips: int  # item 3
    history_steps: int  # item 4
    startup_runs: int  # item 5
    agent_counts: list[int]  # item 6
    rounds: int  # item 6: turns per agent
    cancel_runs: int  # item 7
    pacing_agents: int
    open_conversations: int  # item 8
    max_live: int  # item 8: maxLiveAgents
    large_lines: list[int]  # item 9: lines of output, smallest first; the middle one has the targets
    large_reps: int  # item 9: turns per size (the largest size gets one)


def config(quick: bool) -> Config:
    if quick:
        return Config(True, 2, 1, 20, 200, 1, 50, 200, 1, [1, 2], 1, 1, 2, 3, 1, [200, 1000, 4000], 1)
    return Config(False, 20, 3, 200, 5000, 5, 2000, 10_000, 7, [1, 5, 20], 3, 5, 5, 20, 4, [5_000, 50_000, 200_000], 3)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_mb = None
    try:
        with open("/proc/meminfo") as f:
            mem_mb = int(f.readline().split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    from importlib.metadata import version

    def v(pkg: str) -> str:
        try:
            return version(pkg)
        except Exception:
            return "?"

    return {
        "host": platform.node(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "affinity_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_mb": mem_mb,
        "python": platform.python_version(),
        "google-antigravity": v("google-antigravity"),
        "pygls": v("pygls"),
        "msgspec": v("msgspec"),
        "pydantic": v("pydantic"),
    }


def _proc_kb(pid: int, file: str, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/{file}") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_kb(pid: int) -> int:
    return _proc_kb(pid, "status", "VmRSS:") or 0


def peak_rss_kb(pid: int) -> int:
    return _proc_kb(pid, "status", "VmHWM:") or 0


def reset_peak_rss(pid: int) -> bool:
    """Start a new peak-RSS window for `pid` (Linux: 5 > /proc/<pid>/clear_refs)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of `pid` so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def pss_kb(pid: int) -> int:
    """Proportional set size: shared pages count once across the processes sharing them.
    Falls back to RSS (which overcounts shared pages, but still compares)."""
    pss = _proc_kb(pid, "smaps_rollup", "Pss:")
    return pss if pss is not None else rss_kb(pid)


def children(pid: int) -> list[int]:
    out: list[int] = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            out.append(int(name))
    return out


def harness_children(pid: int) -> list[int]:
    """The localharness processes `pid` started."""
    return [p for p in children(pid) if _comm(p).startswith("localharness")]


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def server_env(state_dir: str | None = None, pacing_ms: int = 0) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        AGY_STATE_DIR=state_dir or tempfile.mkdtemp(prefix="agy-bench-"),
        AGY_PACING_MS=str(pacing_ms),
        AGY_BACKEND="",
        GEMINI_API_KEY="",
        AGY_LOG_LEVEL="warning",
        # every agent stays live (the memory benchmark sets its own cap)
        AGY_MAX_LIVE_AGENTS="0",
        AGY_IDLE_TIMEOUT_SECS="0",
        PYTHONPATH=ROOT + os.pathsep + env.get("PYTHONPATH", ""),
    )
    return env
