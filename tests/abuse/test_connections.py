"""Connections, against a live server started as the documented commands start it (bench.live: SERVE_FLAGS):
a request head or body that trickles is cut off, a head too large is refused, more connections than
--limit-concurrency get 503, and a client that drops mid-body leaves no traceback in the log. Raw sockets on
127.0.0.1; every wait is for the server to do something, with a socket timeout only as a hang guard."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from bench.live import LiveServer, live_server
from tests.web.gates import GATE_TIMEOUT_S

from .conftest import wait_until

QUICK = {"TASKPILOT_HEADER_TIMEOUT_S": "0.5", "TASKPILOT_BODY_TIMEOUT_S": "0.5", "TASKPILOT_PRETRAIN_EPISODES": "10"}


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server({**QUICK, "TASKPILOT_LOG_LEVEL": "DEBUG", "TASKPILOT_DATABASE": ":memory:"}) as s:
        yield s


def connect(server: LiveServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.settimeout(GATE_TIMEOUT_S)  # a hang guard: every read below waits for the server to act
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_a_connection_that_sends_nothing_or_trickles_its_head_is_closed(server: LiveServer) -> None:
    with connect(server) as idle, connect(server) as trickle:
        trickle.sendall(b"GET /health HTTP/1.1\r\nHo")
        assert read_all(idle) == b""
        assert read_all(trickle) == b""


def test_a_head_too_large_gets_431(server: LiveServer) -> None:
    """200 MB of headers were buffered whole."""
    with connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 70_000 + b"\r\n\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 431 ")


def test_a_body_that_stops_coming_gets_408(server: LiveServer) -> None:
    with connect(server) as sock:
        sock.sendall(b"POST /run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{")
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408 ") and b"TASKPILOT_BODY_TIMEOUT_S" in answer


JSON = (b"application/json", b"[" * 200)
DROPS = {
    "/run": JSON,
    "/submit_batch": JSON,
    "/submit": JSON,
    "/plan": JSON,
    "/simulate": JSON,
    "/upload": (
        b"multipart/form-data; boundary=xyz",
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="jobs.csv"\r\nContent-Type: text/csv\r\n\r\npriority,cpu,memory\n',
    ),
}
"""Each path's content type and the start of a body that never ends."""


def test_clients_that_drop_mid_body_leave_no_traceback(server: LiveServer) -> None:
    """One drop each on /run, /plan, /simulate and /submit logged a traceback each."""
    sid = "abuse-drops"
    for path, (kind, start) in DROPS.items():
        with connect(server) as sock:
            head = b"POST %s HTTP/1.1\r\nHost: x\r\nX-Session-ID: %s\r\nContent-Type: %s\r\nContent-Length: 100000\r\n\r\n"
            sock.sendall(head % (path.encode(), sid.encode(), kind) + start)
    wait_until(lambda: server.log().count("the client went while sending its body") >= len(DROPS), "every drop to be seen")
    log = server.log()
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log[-3000:]


def test_more_connections_than_the_limit_get_503() -> None:
    with live_server({"TASKPILOT_HEADER_TIMEOUT_S": "600", "TASKPILOT_PRETRAIN_EPISODES": "10", "TASKPILOT_DATABASE": ":memory:"}) as s:
        idle = [connect(s) for _ in range(100)]
        try:
            with s.client() as client:
                assert client.get("/health").status_code == 503
        finally:
            for sock in idle:
                sock.close()
        with s.client() as client:
            wait_until(lambda: client.get("/health").status_code == 200, "the server to take requests again")
