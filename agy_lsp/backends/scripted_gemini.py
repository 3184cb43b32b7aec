"""The scripted model's second dialect: the Gemini API's `generateContent` and
`streamGenerateContent?alt=sse`, as the harness's Gemini client sends them.

Why a second dialect: the harness reads only `content`, `tool_calls` and
`extra_content` from an OpenAI-compatible stream delta, so a scripted `thought`
(sent there as `reasoning_content` / `reasoning`, like vLLM and Ollama do) never
becomes thinking. In the Gemini dialect a thought is a part with `"thought": true`,
which the harness turns into `Step.thinking_delta`. The harness's Gemini client
honours `GOOGLE_GEMINI_BASE_URL`; a `gemini` backend whose model is a script's
name then talks to that script (`/v1beta/models/<name>:streamGenerateContent`).
"""

from __future__ import annotations

import re
from typing import Any

from agy_lsp.backends.script import Reply

_METHOD = re.compile(r"/models/([^/:?]+):(streamGenerateContent|generateContent)\b")


def route(path: str) -> tuple[str, bool] | None:
    """(model name, streaming) for a Gemini API path, else None."""
    match = _METHOD.search(path)
    return (match.group(1), match.group(2) == "streamGenerateContent") if match else None


def messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    """`contents` as OpenAI-style messages, for the echo fallback."""
    out: list[dict[str, Any]] = []
    for content in body.get("contents") or []:
        parts = content.get("parts") or []
        text = " ".join(str(p["text"]) for p in parts if isinstance(p, dict) and "text" in p and not p.get("thought"))
        out.append({"role": content.get("role", "user"), "content": text})
    return out


def _candidate(parts: list[dict[str, Any]], finish: str | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"index": 0, "content": {"role": "model", "parts": parts}}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate]}


def _call(call: Any) -> dict[str, Any]:
    function: dict[str, Any] = {"name": call.name, "args": call.arguments()}
    if call.id:
        function["id"] = call.id
    return {"functionCall": function}


def events(reply: Reply, thought_pieces: list[str], text_pieces: list[str]) -> list[dict[str, Any]]:
    """One stream event per thought and text delta, then one with the tool calls."""
    out = [_candidate([{"text": t, "thought": True}]) for t in thought_pieces]
    out += [_candidate([{"text": t}]) for t in text_pieces]
    if reply.tool_calls:
        out.append(_candidate([_call(c) for c in reply.tool_calls]))
    return out


def final(usage: dict[str, int], thoughts_tokens: int) -> dict[str, Any]:
    """The last stream event: the finish reason and the usage."""
    event = _candidate([{"text": ""}], "STOP")
    event["usageMetadata"] = _usage(usage, thoughts_tokens)
    return event


def completion(reply: Reply, usage: dict[str, int], thoughts_tokens: int) -> dict[str, Any]:
    """A whole (non-streamed) `generateContent` response."""
    parts: list[dict[str, Any]] = []
    if reply.thought:
        parts.append({"text": reply.thought, "thought": True})
    if reply.text:
        parts.append({"text": reply.text})
    parts += [_call(c) for c in reply.tool_calls]
    response = _candidate(parts or [{"text": ""}], "STOP")
    response["usageMetadata"] = _usage(usage, thoughts_tokens)
    return response


def _usage(usage: dict[str, int], thoughts_tokens: int) -> dict[str, int]:
    return {
        "promptTokenCount": usage["prompt_tokens"],
        "candidatesTokenCount": usage["completion_tokens"],
        "thoughtsTokenCount": thoughts_tokens,
        "totalTokenCount": usage["total_tokens"] + thoughts_tokens,
    }
