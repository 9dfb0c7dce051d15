"""The benchmarks' server and the HTTP calls they make to it.

`serve()` is `bench.live.live_server()` with the rate limits off (UNLIMITED): every benchmarked server runs
on the defaults otherwise. Responses are streamed and only their bytes counted, so the bench process never holds a large
response.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from bench.live import LiveServer, live_server

UNLIMITED = {"TASKPILOT_RATE_LIMIT_CLIENT": "", "TASKPILOT_RATE_LIMIT_SESSION": "", "TASKPILOT_RATE_LIMIT_NEW_SESSIONS": ""}
"""The rate limits are off: a benchmark is one client making requests as fast as it can, which they exist to refuse."""


@contextmanager
def serve() -> Iterator[LiveServer]:
    """A freshly started server on default settings but the rate limits, ready; stopped on exit, whatever happened."""
    with live_server(UNLIMITED) as server:
        yield server


def post_run(client: httpx.Client, body: bytes, detail: str, session_id: str) -> int:
    """POST /run?detail=... with `body` in a session of its own; returns the response size in bytes."""
    headers = {"X-Session-ID": session_id, "Content-Type": "application/json"}
    with client.stream("POST", "/run", params={"detail": detail}, content=body, headers=headers) as response:
        if response.status_code != 200:
            response.read()
            raise RuntimeError(f"POST /run?detail={detail} answered {response.status_code}: {response.text[:300]}")
        return sum(len(chunk) for chunk in response.iter_raw())


def reset(client: httpx.Client, session_id: str) -> None:
    """Drop a session's history so earlier runs do not fill the server's memory."""
    client.post("/reset", headers={"X-Session-ID": session_id}).raise_for_status()
