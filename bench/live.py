"""The one way to run a real TaskPilot server, for tests, benchmarks and docs/screenshots.py: `live_server()`
in its own process, or `threaded_server(app)` on a thread of the caller's (for tests that put gates in the
app's state).

It starts `python -m uvicorn api:app` with this interpreter, in the project folder, on 127.0.0.1 and a
free port, waits until /health answers 200 from that very process, and always stops the process and
anything it started, whatever happened in between. Settings reach the server only through TASKPILOT_*
environment variables: the caller's own TASKPILOT_* and the Groq key are removed first, so what a caller
passes is all that differs from the defaults and nothing ever calls the real LLM. Clients made here
ignore proxy variables (trust_env=False), so nothing talks to any host but 127.0.0.1.

Only tests, bench and docs import this module; the product packages never do.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
START_TIMEOUT_S = 120.0
"""Start-up is about a second; the bound is generous because ~7 people share two cores."""
STOP_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 600.0
PREFIX = "TASKPILOT_"
DROPPED_ENV = ("GROQ_API_KEY",)
BIND_ATTEMPTS = 3
"""A free port is found by binding port 0 and letting go; someone may take it before uvicorn binds it."""
SERVE_FLAGS = (
    "--http", "web.connections:BoundedHttpToolsProtocol", "--limit-concurrency", "100", "--timeout-keep-alive", "5",
    "--timeout-graceful-shutdown", "8",
)  # fmt: skip
"""The connection bounds of the documented start commands (the Makefile's SERVE, the Dockerfile's CMD,
render.yaml's startCommand: tests/test_packaging.py checks they all say this), so a live server is served
as a deployed one is: request heads bounded in time and size, 100 connections and requests at once, idle
keep-alive connections closed after 5 s, 8 s for requests in progress after SIGTERM."""


@dataclass(frozen=True)
class LiveServer:
    pid: int
    base_url: str
    port: int
    startup_s: float
    """From spawning the process to its first 200 on /health."""
    log_path: Path
    """uvicorn's stdout and stderr, for as long as the `live_server` block lasts."""

    def log(self) -> str:
        return self.log_path.read_bytes().decode(errors="replace")

    def exited(self) -> bool:
        """Whether the server process has ended (it stays unreaped until the `live_server` block ends)."""
        return _exited(self.pid)

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client on this server that ignores proxy variables."""
        return httpx.Client(base_url=self.base_url, trust_env=False, **{"timeout": REQUEST_TIMEOUT_S, **kwargs})

    def status_mb(self, field: str) -> float:
        """A memory line of /proc/PID/status (VmRSS, VmHWM, ...) in MB (10^6 bytes)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024 / 1e6
        raise KeyError(f"no {field} in /proc/{self.pid}/status")


class ServerFailed(RuntimeError):
    """The server exited or never answered /health; the message ends with its log."""


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without TASKPILOT_* and the Groq key, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX) and k not in DROPPED_ENV}
    env.update(extra or {})
    return env


@contextmanager
def live_server(settings: Mapping[str, str] | None = None, log_level: str = "warning") -> Iterator[LiveServer]:
    """A freshly started server, ready (200 on /health from this process); stopped on exit, whatever happened.

    `settings` are TASKPILOT_* variables (strings, as in a shell); anything else is refused, so a typo
    cannot silently leave a setting at its default.
    """
    wrong = [k for k in settings or {} if not k.startswith(PREFIX)]
    if wrong:
        raise ValueError(f"live_server settings must be {PREFIX}* variables, got {wrong}")
    env = clean_env(settings)
    with tempfile.TemporaryDirectory(prefix="taskpilot-live-") as tmp:
        log_path = Path(tmp) / "uvicorn.log"
        for attempt in range(1, BIND_ATTEMPTS + 1):
            port = _free_port()
            command = [
                sys.executable,
                "-m",
                "uvicorn",
                "api:app",
                "--host",
                HOST,
                "--port",
                str(port),
                *SERVE_FLAGS,
                "--log-level",
                log_level,
            ]
            with log_path.open("wb") as log:  # the child writes through its own copy; ours closes at once
                started = time.perf_counter()
                # A session of its own, so stopping it reaches every process it may have started.
                proc = subprocess.Popen(
                    command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
                )
            try:
                ready = _wait_ready(proc, port, log_path)
                if ready is None:  # the port was taken between _free_port and uvicorn's bind
                    if attempt < BIND_ATTEMPTS:
                        continue
                    raise ServerFailed(f"no free port after {BIND_ATTEMPTS} attempts:\n{_tail(log_path)}")
                yield LiveServer(proc.pid, f"http://{HOST}:{port}", port, ready - started, log_path)
                return
            finally:
                _stop(proc)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait_ready(proc: subprocess.Popen, port: int, log_path: Path) -> float | None:
    """perf_counter() at the first 200 on /health from `proc`; None when uvicorn could not bind the port."""
    deadline = time.perf_counter() + START_TIMEOUT_S
    with httpx.Client(base_url=f"http://{HOST}:{port}", trust_env=False, timeout=2.0) as client:
        while time.perf_counter() < deadline:
            if _exited(proc.pid):
                if "address already in use" in _tail(log_path).lower():
                    return None
                raise ServerFailed(f"server exited before /health answered:\n{_tail(log_path)}")
            try:
                ok = client.get("/health").status_code == 200
            except httpx.TransportError:
                ok = False
            now = time.perf_counter()
            # Whoever took the port in the race above answers too; only our own listener counts.
            if ok and _listens(proc.pid, port):
                return now
            time.sleep(0.005)  # the interval between polls, not a wait for the server
    raise ServerFailed(f"server gave no 200 on /health within {START_TIMEOUT_S:g} s:\n{_tail(log_path)}")


def _exited(pid: int) -> bool:
    """Whether the child has exited, without reaping it: an unreaped leader keeps its process group ours
    (the group id cannot be reused), so _stop may still signal the group safely."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def _listens(pid: int, port: int) -> bool:
    """Whether process `pid` holds the socket listening on HOST:port (Linux /proc; True where there is none)."""
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return True
    local = f"{socket.htonl(0x7F000001):08X}:{port:04X}"  # /proc/net/tcp writes the address in host byte order
    inodes = {f"socket:[{cols[9]}]" for cols in (line.split() for line in lines) if cols[1] == local and cols[3] == "0A"}
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd_dir / fd) in inodes for fd in os.listdir(fd_dir))
    except OSError:  # an fd closed while we looked: ask again on the next poll
        return False


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's process group, SIGKILL to whatever is left of it, then reap the server."""
    _signal_group(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while not _exited(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    _signal_group(proc.pid, signal.SIGKILL)  # children, or a server that ignored SIGTERM
    proc.wait()


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group has gone already
        os.killpg(pgid, sig)


def _tail(log_path: Path, n_bytes: int = 4000) -> str:
    try:
        return log_path.read_bytes()[-n_bytes:].decode(errors="replace")
    except OSError:
        return ""


@contextmanager
def threaded_server(app: Any, timeout_s: float = START_TIMEOUT_S, **config: Any) -> Iterator[str]:
    """A real uvicorn serving `app` on a thread of this process, on a socket bound here first (no window
    for another process to take the port); yields its base URL and always stops it. `config`: more
    uvicorn.Config options (say timeout_graceful_shutdown)."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", **config))
    sock = socket.socket()
    sock.bind((HOST, 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout_s
        while not server.started:  # a condition, polled; the deadline only turns a hang into a failure
            if not thread.is_alive():
                raise ServerFailed("the in-process uvicorn stopped before it started (see the log above)")
            if time.monotonic() > deadline:
                raise ServerFailed(f"the in-process uvicorn did not start within {timeout_s:g} s")
            time.sleep(0.01)
        yield f"http://{HOST}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout_s)
        sock.close()
