"""Item 10: standard LSP for plain clients (issue #27), driven as an editor with no agy
plugin drives it: inline completions and a code action's work-done progress.

- Inline completion overhead, *paired* as in turns.py: the server runs with probes
  (`bench_server.py`) that note when the SDK was handed the prompt and when its steps
  ended; the client's `textDocument/inlineCompletion` latency minus that span is what
  agy-lsp added (lookup of the completion agent, the prompt, clearing its history,
  the response). Measured with `debounceMs: 0`: the debounce is a deliberate wait,
  reported apart. The direct SDK's turn on the same reply is the baseline shown.
- A typing burst: 20 requests 30 ms apart with the shipped debounce; the model
  requests it cost (the scripted model counts them) and the last request's latency
  against a single request's.
- A code action (`agy-lsp.action` "explain" via workspace/executeCommand, the client
  advertising window.workDoneProgress): from the command to the first `$/progress`
  report, minus the SDK's span to its first text delta (paired), against the same
  figure for an `agy/chat` turn's first chunk (the turns section's LSP figure).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from pygls.uris import from_fs_path

from agy_lsp.settings import InlineCompletion
from benchmarks.client import RpcClient
from benchmarks.common import Config, Metric, median, p95
from benchmarks.fronts import BENCH, Direct, Lsp, Probes, backend, env_for
from benchmarks.model_server import ModelProcess, script

ms = 1000.0
CODE = "def add(a, b):\n    \n\n\ndef explain_me(xs):\n    return sorted(set(xs))\n"
CURSOR = {"line": 1, "character": 4}
BURST, GAP = 20, 0.030  # requests, seconds apart (the keystroke spacing)
CAPS = {
    "workspace": {"applyEdit": True, "workspaceEdit": {"documentChanges": True}},
    "window": {"workDoneProgress": True, "showMessage": {}},
}


class Plain:
    """One agy-lsp (with probes) and a plain client: no agy capability."""

    client: RpcClient
    uri: str

    @classmethod
    async def open(cls, url: str, folder: str, debounce_ms: int) -> Plain:
        self = cls()
        self.probes = Probes()
        self.progress: list[tuple[float, dict[str, Any]]] = []
        self.client = await RpcClient.spawn(BENCH, env_for(probes=self.probes.path))
        self.client.handlers["$/progress"] = lambda p, now: self.progress.append((now, p))
        self.client.server_requests["workspace/applyEdit"] = lambda p: {"applied": True}
        path = os.path.join(folder, "m.py")
        await asyncio.to_thread(Path(path).write_text, CODE)
        self.uri = from_fs_path(path) or path
        await self.client.request(
            "initialize",
            {
                "processId": None,
                "rootUri": from_fs_path(folder),
                "capabilities": CAPS,
                "workspaceFolders": [{"uri": from_fs_path(folder), "name": "w"}],
                "initializationOptions": {"backend": backend(url), "inlineCompletion": {"enabled": True, "debounceMs": debounce_ms}},
            },
        )
        self.client.notify("initialized", {})
        doc = {"uri": self.uri, "languageId": "python", "version": 1, "text": CODE}
        self.client.notify("textDocument/didOpen", {"textDocument": doc})
        return self

    def debounce(self, debounce_ms: int) -> None:
        settings = {"agy": {"inlineCompletion": {"enabled": True, "debounceMs": debounce_ms}}}
        self.client.notify("workspace/didChangeConfiguration", {"settings": settings})

    def _inline_params(self) -> dict[str, Any]:
        return {"textDocument": {"uri": self.uri}, "position": CURSOR, "context": {"triggerKind": 2}}

    async def complete(self) -> tuple[float, str]:
        """One inline completion: (seconds, the ghost text)."""
        t0 = time.perf_counter()
        result, t_end = await self.client.timed_request("textDocument/inlineCompletion", self._inline_params())
        items = result.get("items", []) if isinstance(result, dict) else result or []
        return t_end - t0, items[0]["insertText"] if items else ""

    async def burst(self) -> tuple[float, str]:
        """BURST requests GAP apart; the last one's latency and answer."""
        pending: list[tuple[float, asyncio.Future[tuple[Any, float]]]] = []
        for i in range(BURST):
            if i:
                await asyncio.sleep(GAP)
            t0 = time.perf_counter()
            pending.append((t0, self.client.send_request("textDocument/inlineCompletion", self._inline_params())[1]))
        done = await asyncio.wait_for(asyncio.gather(*(f for _, f in pending)), 120)
        result, t_end = done[-1]
        items = result.get("items", []) if isinstance(result, dict) else result or []
        return t_end - pending[-1][0], items[0]["insertText"] if items else ""

    async def action(self) -> tuple[float, float]:
        """The "explain" code action run as a command: (seconds to the first $/progress
        report, seconds to its end)."""
        rng = {"start": {"line": 4, "character": 0}, "end": {"line": 5, "character": 0}}
        params = {"textDocument": {"uri": self.uri}, "range": rng, "context": {"diagnostics": []}}
        listed = await self.client.request("textDocument/codeAction", params)
        [command] = [a["command"] for a in listed if a.get("title") == "agy: explain this code"]
        self.progress.clear()
        t0 = time.perf_counter()
        await self.client.request("workspace/executeCommand", {"command": command["command"], "arguments": command.get("arguments")})
        async with asyncio.timeout(120):
            while not any(p["value"].get("kind") == "end" for _, p in self.progress):
                await asyncio.sleep(0.005)
        reports = [now for now, p in self.progress if p["value"].get("kind") == "report"]
        end = next(now for now, p in self.progress if p["value"].get("kind") == "end")
        return (reports[0] - t0 if reports else float("nan")), end - t0

    def span(self) -> tuple[float, float, float]:
        """The SDK's (send, first delta, end) of the turn just done."""
        spans = self.probes.take_spans()
        return spans[-1] if spans else (float("nan"),) * 3


async def bench_plain(cfg: Config) -> list[Metric]:
    reps = cfg.reps
    bursts = 1 if cfg.quick else 5
    reply_script = script(5, 1, turns=10_000)
    with ModelProcess({"plain": reply_script, "direct": reply_script, "chat": reply_script}) as model, tempfile.TemporaryDirectory() as tmp:
        plain = await Plain.open(model.urls["plain"], tmp, 0)
        direct = await Direct.open(model.urls["direct"])
        chat = await Lsp.open(model.urls["chat"], probes=True)
        try:
            inline, inline_over, direct_tot = [], [], []
            action_first, action_over, action_end, chat_ttfc, chat_over = [], [], [], [], []
            for i in range(cfg.warm + reps):  # interleaved, so drift hits every side alike
                lat, text = await plain.complete()
                sent, _, end = plain.span()
                assert text, "an inline completion came back empty"
                d = await direct.turn()
                first, whole = await plain.action()
                a_sent, a_first, _ = plain.span()
                c = await chat.turn()
                if i >= cfg.warm:
                    inline.append(lat * ms)
                    inline_over.append((lat - (end - sent)) * ms)
                    direct_tot.append(d.total * ms)
                    action_first.append(first * ms)
                    action_over.append((first - (a_first - a_sent)) * ms)
                    action_end.append(whole * ms)
                    chat_ttfc.append(c.ttfc * ms)
                    if c.overhead is not None:
                        chat_over.append(c.overhead * ms)
            debounce = InlineCompletion().debounce_ms
            plain.debounce(debounce)
            await asyncio.sleep(0.2)
            single = [(await plain.complete())[0] * ms for _ in range(reps)]
            last, costs, answered = [], [], 0
            for _ in range(bursts):
                before = model.requests("plain")
                lat, text = await plain.burst()
                costs.append(model.requests("plain") - before)
                last.append(lat * ms)
                answered += bool(text)
        finally:
            await plain.client.close()
            await direct.close()
            await chat.close()
            for probes in (plain.probes, chat.probes):
                if probes is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(probes.path)
    over = median(inline_over)
    burst_ratio = median(last) / median(single)
    act, chat_base = median(action_over), median(chat_over)
    return [
        Metric(
            10,
            "inline_completion_overhead_ms",
            over,
            "ms",
            baseline=median(direct_tot),
            baseline_name="direct SDK turn on the same reply (same run)",
            ratio=median(inline) / median(direct_tot),
            p95=p95(inline_over),
            target="<= 5 ms at p50",
            met=over <= 5,
            n=len(inline_over),
            note="textDocument/inlineCompletion (debounceMs 0) minus the SDK's span in that request (paired)",
            extra={
                "inline_p50_ms": median(inline),
                "inline_p95_ms": p95(inline),
                "direct_p50_ms": median(direct_tot),
                "unpaired_p50_diff_ms": median(inline) - median(direct_tot),
                "shipped_debounce_ms": debounce,
            },
        ),
        Metric(
            10,
            "inline_burst_model_requests",
            float(max(costs)),
            "requests",
            baseline=float(BURST),
            baseline_name=f"one per request ({BURST} requests {GAP * ms:.0f} ms apart)",
            target="<= 2",
            met=max(costs) <= 2,
            n=len(costs),
            note=f"the most model requests one burst cost, debounceMs {debounce}",
            extra={"per_burst": costs, "bursts_answered": answered},
        ),
        Metric(
            10,
            "inline_burst_last_ratio",
            burst_ratio,
            "x",
            baseline=median(single),
            baseline_name="a single inline completion (ms, same debounce)",
            ratio=burst_ratio,
            p95=p95(last) / p95(single),
            target="<= 1.2",
            met=burst_ratio <= 1.2 and answered == bursts,
            n=len(last),
            note="the burst's last request: sent -> answer, over a lone request's",
            extra={"last_p50_ms": median(last), "single_p50_ms": median(single)},
        ),
        Metric(
            10,
            "action_first_progress_overhead_ms",
            act,
            "ms",
            baseline=chat_base,
            baseline_name="agy/chat's first-chunk overhead, paired the same way (same run)",
            ratio=median(action_first) / median(chat_ttfc),
            p95=p95(action_over),
            target="<= 1 ms at p50 (the LSP chat's target)",
            met=act <= 1.0,
            n=len(action_over),
            note="workspace/executeCommand (explain) -> first $/progress report, minus the SDK's span to its first delta (paired)",
            extra={
                "first_report_p50_ms": median(action_first),
                "chat_ttfc_p50_ms": median(chat_ttfc),
                "action_turn_p50_ms": median(action_end),
            },
        ),
    ]
