"""The scripted model: a tiny OpenAI-compatible HTTP server driven by a script.

It stands in for a real language model in tests, benchmarks and the offline demo.
The SDK's `localharness` talks to it exactly as it talks to Ollama or vLLM:
`POST /v1/chat/completions` with `stream: true`, reading SSE chunk deltas.

It runs in a daemon thread (stdlib `ThreadingHTTPServer`), so a hung reply or a
slow stream never blocks the caller's event loop. Each registered script gets its
own URL prefix `/s/<name>/v1`, so concurrent agents keep independent sequences.

It also speaks the Gemini API (`scripted_gemini.py`), where the script is chosen
by model name. That is the only dialect in which a reply's `thought` reaches the
agent as thinking: the harness drops every reasoning field of an OpenAI stream.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agy_lsp.backends import scripted_gemini
from agy_lsp.backends.script import Reply, Script, ToolCallSpec, parse_script

__all__ = ["Reply", "Script", "ScriptState", "ScriptedModel", "ToolCallSpec", "parse_script", "shared_model"]


REFUSED_KEY = "scripted-refused-key"  # a Gemini API key the scripted model refuses, as Google does a bad one


class ScriptState:
    """One script's cursor plus every request body it received (for assertions)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self.times: list[float] = []  # time.monotonic() of each request's arrival
        self._left = list(script.replies)
        self._lock = threading.Lock()

    def take(self, body: dict[str, Any]) -> Reply:
        """The first reply left that this request may have (see `Reply.match`)."""
        with self._lock:
            self.requests.append(body)
            self.times.append(time.monotonic())
            last: str | None = None
            for i, reply in enumerate(self._left):
                if reply.match is not None:
                    last = _last_message_text(body) if last is None else last
                    if not re.search(reply.match, last):
                        continue
                return self._left.pop(i)
        return Reply(text=self._fallback_text(body))

    def extend(self, replies: list[Reply]) -> None:
        """More replies after those still left (a test adding to a running script)."""
        with self._lock:
            self._left.extend(replies)

    def drop_left(self) -> None:
        """Forget the replies not yet taken (what a failed test left behind)."""
        with self._lock:
            self._left.clear()

    def _fallback_text(self, body: dict[str, Any]) -> str:
        if self.script.fallback != "echo":
            return self.script.fallback
        return "You said: " + _last_user_text(body.get("messages") or scripted_gemini.messages(body))


def _last_message_text(body: dict[str, Any]) -> str:
    """The last message of a request, in either dialect, as text."""
    messages = body.get("messages") or scripted_gemini.messages(body)
    if not messages:
        return ""
    content = messages[-1].get("content")
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


_USER_REQUEST = re.compile(r"<USER_REQUEST>\s*(.*?)\s*</USER_REQUEST>", re.DOTALL)


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    """The person's words in the last user message (the harness wraps them in
    <USER_REQUEST> with metadata around)."""
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            text = str(content or "")
            match = _USER_REQUEST.search(text)
            return (match.group(1) if match else text).strip()
    return ""


def _split(text: str, pieces: int) -> list[str]:
    if not text:
        return []
    if pieces <= 0:
        return re.findall(r"\S+\s*|\s+", text)
    size = max(1, -(-len(text) // pieces))
    return [text[i : i + size] for i in range(0, len(text), size)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server  # pyright: ignore[reportIncompatibleVariableOverride]

    def log_message(self, format: str, *args: Any) -> None:
        pass  # never write to stderr/stdout from the model

    def do_GET(self) -> None:
        if self.headers.get("x-goog-api-key") == REFUSED_KEY:  # as the Gemini API answers a bad key
            self._send_json(
                400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT"}}
            )
        elif self.path.partition("?")[0].rstrip("/").endswith("/models"):
            self._send_json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
        else:
            self._send_json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        state = self.server.state_for(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        gemini = scripted_gemini.route(self.path)
        if state is None or not (gemini or self.path.endswith("/chat/completions")):
            self._send_json(404, {"error": {"message": f"no script at {self.path}"}})
            return
        body: dict[str, Any] = json.loads(raw or b"{}")
        reply = state.take(body)
        if reply.hang:
            self.server.hang_until_closed(self)
            return
        if reply.delay_ms:
            time.sleep(reply.delay_ms / 1000)
        if reply.status != 200:
            headers: dict[str, str] = {}
            error: dict[str, Any] = {"message": reply.error_body or f"scripted error {reply.status}", "code": reply.status}
            if reply.retry_after is not None:
                # The header for OpenAI-style clients, RetryInfo in the body as Gemini sends it.
                headers["Retry-After"] = _fmt_retry(reply.retry_after)
                error["status"] = "RESOURCE_EXHAUSTED" if reply.status == 429 else "UNAVAILABLE"
                error["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{reply.retry_after}s"}]
            self._send_json(reply.status, {"error": error}, headers)
            return
        thought_tokens = len(reply.thought) // 4 + 1 if reply.thought else 0
        if gemini and gemini[1]:
            thoughts, texts = _split(reply.thought, 0), _split(reply.text, reply.chunks)
            tail = [scripted_gemini.final(_usage(reply, body), thought_tokens)]
            self._stream(reply, scripted_gemini.events(reply, thoughts, texts), tail, done=False)
        elif gemini:
            self._send_json(200, scripted_gemini.completion(reply, _usage(reply, body), thought_tokens))
        elif body.get("stream"):
            self._stream(reply, [_chunk(body.get("model", "scripted"), d, None) for d in _deltas(reply)], _tail(reply, body))
        else:
            self._send_json(200, _completion(reply, body))

    def _stream(self, reply: Reply, events: list[dict[str, Any]], tail: list[dict[str, Any]], *, done: bool = True) -> None:
        """SSE: `events` (each one counts for `cutAfter` and `chunkDelayMs`), then `tail`."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for sent, event in enumerate(events):
                if reply.cut_after is not None and sent >= reply.cut_after:
                    self.close_connection = True
                    self.wfile.flush()
                    return  # no terminating chunk: the client sees a cut stream
                self._event(event)
                if reply.chunk_delay_ms:
                    time.sleep(reply.chunk_delay_ms / 1000)
            for event in tail:
                self._event(event)
            if done:
                self._write_chunk(b"data: [DONE]\n\n")
            self._write_chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _event(self, payload: dict[str, Any]) -> None:
        self._write_chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


def _fmt_retry(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def _deltas(reply: Reply) -> list[dict[str, Any]]:
    """OpenAI stream deltas. A thought goes out as `reasoning_content` and `reasoning`,
    as reasoning servers send it; the harness ignores both (see scripted_gemini.py)."""
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += [{"reasoning_content": t, "reasoning": t} for t in _split(reply.thought, 0)]
    deltas += [{"content": t} for t in _split(reply.text, reply.chunks)]
    deltas += [{"tool_calls": [_tool_call_delta(i, call)]} for i, call in enumerate(reply.tool_calls)]
    return deltas


def _tail(reply: Reply, body: dict[str, Any]) -> list[dict[str, Any]]:
    model = body.get("model", "scripted")
    return [_chunk(model, {}, "tool_calls" if reply.tool_calls else "stop"), _usage_chunk(model, reply, body)]


def _tool_call_delta(index: int, call: ToolCallSpec) -> dict[str, Any]:
    return {
        "index": index,
        "id": call.id or f"call_{index}_{call.name}",
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments_json()},
    }


def _chunk(model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _usage(reply: Reply, body: dict[str, Any]) -> dict[str, int]:
    messages = body.get("messages") or scripted_gemini.messages(body)
    prompt = reply.prompt_tokens or sum(len(str(m.get("content") or "")) // 4 + 1 for m in messages)
    completion = reply.completion_tokens or len(reply.text) // 4 + 1
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _usage_chunk(model: str, reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [],
        "usage": _usage(reply, body),
    }


def _completion(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.tool_calls:
        message["tool_calls"] = [_tool_call_delta(i, c) for i, c in enumerate(reply.tool_calls)]
        for call in message["tool_calls"]:
            call.pop("index")
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "scripted"),
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if reply.tool_calls else "stop"}],
        "usage": _usage(reply, body),
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.scripts: dict[str, ScriptState] = {}
        self.closing = threading.Event()

    def state_for(self, path: str) -> ScriptState | None:
        """By prefix (`/s/<name>/`), else by Gemini model name, else the default script."""
        match = re.match(r"^/s/([^/]+)/", path)
        if match:
            return self.scripts.get(match.group(1))
        gemini = scripted_gemini.route(path)
        if gemini and gemini[0] in self.scripts:
            return self.scripts[gemini[0]]
        return self.scripts.get("default")

    def hang_until_closed(self, handler: _Handler) -> None:
        # Hold the request open until the client gives up or the server stops.
        handler.connection.settimeout(0.2)
        while not self.closing.is_set():
            try:
                if handler.connection.recv(1) == b"":
                    break
            except TimeoutError:
                continue
            except OSError:
                break
        handler.close_connection = True


class ScriptedModel:
    """An OpenAI-compatible model server on 127.0.0.1 with an ephemeral port."""

    def __init__(self) -> None:
        self._server = _Server()
        self._thread = threading.Thread(target=self._server.serve_forever, name="scripted-model", daemon=True)
        self._thread.start()
        self._count = 0
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def gemini_base_url(self) -> str:
        """For `GOOGLE_GEMINI_BASE_URL`: a `gemini` backend whose model is a registered
        script's name then talks to that script in the Gemini dialect."""
        return f"http://127.0.0.1:{self.port}"

    def register(self, script: Script, name: str | None = None) -> tuple[str, ScriptState]:
        """Adds a script; returns its base URL (ending in /v1) and its state."""
        with self._lock:
            self._count += 1
            name = name or f"s{self._count}"
        state = ScriptState(script)
        self._server.scripts[name] = state
        prefix = "" if name == "default" else f"/s/{name}"
        return f"http://127.0.0.1:{self.port}{prefix}/v1", state

    def close(self) -> None:
        self._server.closing.set()
        self._server.shutdown()
        self._server.server_close()


_shared: ScriptedModel | None = None
_shared_lock = threading.Lock()


def shared_model() -> ScriptedModel:
    """The process-wide scripted model server, started on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ScriptedModel()
        return _shared


def main(argv: list[str] | None = None) -> None:
    """`python -m agy_lsp.backends.scripted [script.json]`: serve until killed.

    Prints the base URL as the only line on stdout, so a parent process can read it.
    """
    import sys

    args = sys.argv[1:] if argv is None else argv
    script = parse_script(open(args[0]).read()) if args else Script()
    model = ScriptedModel()
    base_url, _ = model.register(script, name="default")
    print(base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        model.close()


if __name__ == "__main__":
    main()
