"""A tiny Groq-compatible chat-completions server on 127.0.0.1, so tests drive the real groq SDK offline.

The SDK, given base_url="http://127.0.0.1:PORT", POSTs JSON to /openai/v1/chat/completions and parses
the body as a `ChatCompletion` without validating it. `mode` picks the answer:
"ok" (a realistic chat.completion), "slow" (never answers before the stand-in stops), "error500" (Groq-style
error body), "malformed" (200, application/json, not JSON), "no-choices" (200, JSON without choices),
"empty" (200, a choice whose content is ""). `reply` is the "ok" answer's text, or a function of the prompt
(the request's user message) that returns it.
"""

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

CHAT_PATH = "/openai/v1/chat/completions"
MODES = ("ok", "slow", "error500", "malformed", "no-choices", "empty")


class GroqStandIn:
    """The server and what it saw; use as a context manager. Attributes may be changed between requests."""

    def __init__(self, mode: str = "ok", reply: str | Callable[[str], str] = "Stand-in explanation."):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, actual value: {mode!r}")
        self.mode = mode
        self.reply = reply
        # An "ok" answer waits for this gate while it is set to an Event the test holds, so concurrent callers
        # overlap for as long as the test wants; "slow" never answers before the stand-in stops.
        self.gate: threading.Event | None = None
        self.requests = 0
        self.last_body: dict[str, Any] | None = None
        self.last_headers: dict[str, str] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll interval makes shutdown (one poll) quick between tests.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="groq-standin", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "GroqStandIn":
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stopping.set()  # releases "slow" handlers at once
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def completion(model: str, content: str, n: int) -> dict[str, Any]:
    """A chat.completion body shaped like Groq's."""
    return {
        "id": f"chatcmpl-standin-{n}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "logprobs": None, "finish_reason": "stop"}],
        "usage": {
            "queue_time": 0.001,
            "prompt_tokens": 120,
            "prompt_time": 0.002,
            "completion_tokens": 40,
            "completion_time": 0.03,
            "total_tokens": 160,
            "total_time": 0.032,
        },
        "system_fingerprint": "fp_standin",
        "x_groq": {"id": f"req_standin_{n}"},
    }


def _handler_for(standin: GroqStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path != CHAT_PATH:
                self._send(404, _error("Unknown request URL", "invalid_request_error"))
                return
            with standin.lock:
                standin.requests += 1
                n = standin.requests
                body = standin.last_body = json.loads(raw)
                standin.last_headers = {k.lower(): v for k, v in self.headers.items()}
                mode, reply = standin.mode, standin.reply
            model = str(standin.last_body.get("model", ""))
            if mode == "slow":
                standin.stopping.wait()  # answered only when the test ends: any earlier return is the client's timeout
            elif mode == "ok" and standin.gate is not None:
                gate = standin.gate
                while not (gate.wait(0.05) or standin.stopping.is_set()):
                    pass
            if mode in ("ok", "slow"):
                text = reply(body["messages"][0]["content"]) if callable(reply) else reply
                self._send(200, json.dumps(completion(model, text, n)))
            elif mode == "error500":
                self._send(500, _error("Internal Server Error", "internal_server_error"))
            elif mode == "malformed":
                self._send(200, "<html>not json")
            elif mode == "no-choices":
                self._send(200, json.dumps({"id": f"chatcmpl-standin-{n}", "object": "chat.completion", "model": model}))
            else:  # "empty"
                self._send(200, json.dumps(completion(model, "", n)))

        def _send(self, status: int, body: str) -> None:
            data = body.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (timeout test); nothing left to tell it

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


def _error(message: str, kind: str) -> str:
    return json.dumps({"error": {"message": message, "type": kind}})
