"""bench.live, the one live-server helper of tests, bench and docs: it must start our own server, say why
one did not start, and leave no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench import live

FAST = {"TASKPILOT_PRETRAIN_EPISODES": "50", "TASKPILOT_LOG_LEVEL": "WARNING"}


class _Impostor(BaseHTTPRequestHandler):
    """Answers 200 on any GET, as another engineer's server on a port we thought was free would."""

    hits = 0

    def do_GET(self) -> None:  # noqa: N802 -- http.server's name
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def impostor() -> Iterator[int]:
    """A port already taken by someone else's HTTP server; yields the port."""
    _Impostor.hits = 0
    server = ThreadingHTTPServer((live.HOST, 0), _Impostor)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_settings_must_be_taskpilot_variables() -> None:
    with pytest.raises(ValueError, match="PRETRAIN_EPISODES"), live.live_server({"PRETRAIN_EPISODES": "50"}):
        pass


def test_a_server_that_cannot_start_fails_with_its_log() -> None:
    with pytest.raises(live.ServerFailed, match="pretrain_episodes"), live.live_server({**FAST, "TASKPILOT_PRETRAIN_EPISODES": "many"}):
        pass


def test_a_port_taken_in_the_meantime_is_not_mistaken_for_our_server(impostor: int, monkeypatch: pytest.MonkeyPatch) -> None:
    ports = iter([impostor])
    real_free_port = live._free_port
    monkeypatch.setattr(live, "_free_port", lambda: next(ports, None) or real_free_port())
    with live.live_server(FAST) as server:
        assert server.port != impostor
        assert _Impostor.hits > 0  # the impostor did answer /health, and was not taken for ours
        with server.client() as client:
            assert client.get("/health").json()["status"] == "ok"
    assert not Path(f"/proc/{server.pid}").exists() or _state(server.pid) == "Z"


def test_stopping_also_ends_what_the_server_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    proc = subprocess.Popen(["sh", "-c", f"sleep 600 & echo $! > {pid_file}; wait"], start_new_session=True)
    child = int(_wait_for(lambda: pid_file.exists() and pid_file.read_text().strip()))
    try:
        live._stop(proc)
        assert proc.returncode == -signal.SIGTERM
        _wait_for(lambda: _state(child) in (None, "Z"))  # killed; init reaps it when it gets to it
    finally:
        if _state(child) not in (None, "Z"):  # the helper failed: do not leave the sleep behind
            os.kill(child, signal.SIGKILL)


def _state(pid: int) -> str | None:
    """The process state letter from /proc/PID/stat (None when there is no such process)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def _wait_for(condition, timeout_s: float = 30.0):  # type: ignore[no-untyped-def]
    """Poll `condition` until it is truthy; return its value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {condition}")
