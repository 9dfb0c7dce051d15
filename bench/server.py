"""The benchmarks' server and the HTTP calls they make to it.

`serve()` is `bench.live.live_server()` with no settings at all: every benchmarked server runs on the
defaults. Responses are streamed and only their bytes counted, so the bench process never holds a large
response.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from bench.live import LiveServer, live_server


@contextmanager
def serve() -> Iterator[LiveServer]:
    """A freshly started server on default settings, ready; stopped on exit, whatever happened."""
    with live_server() as server:
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
