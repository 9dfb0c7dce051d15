"""A TaskPilot server in a subprocess on 127.0.0.1, and the HTTP calls the benchmarks make to it.

`serve()` starts `python -m uvicorn api:app` with this interpreter in the project folder and always stops
it. The server gets default settings: TASKPILOT_* and the Groq key are removed from its environment, so
nothing talks to any host but 127.0.0.1. Clients ignore proxy variables (trust_env=False) for the same
reason, and stream responses, counting bytes, so the bench process never holds a large response.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 600.0
_DROPPED_ENV = ("GROQ_API_KEY",)


@dataclass(frozen=True)
class Server:
    pid: int
    base_url: str
    startup_s: float
    """From spawning the process to the first 200 on /health."""

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, trust_env=False, timeout=REQUEST_TIMEOUT_S)

    def status_mb(self, field: str) -> float:
        """A memory line of /proc/PID/status (VmRSS, VmHWM, ...) in MB (10^6 bytes)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024 / 1e6
        raise KeyError(f"no {field} in /proc/{self.pid}/status")


@contextmanager
def serve() -> Iterator[Server]:
    """A freshly started server, ready (200 on /health); stopped on exit, whatever happened."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKPILOT_") and k not in _DROPPED_ENV}
    command = [sys.executable, "-m", "uvicorn", "api:app", "--host", HOST, "--port", str(port), "--log-level", "warning"]
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            base_url = f"http://{HOST}:{port}"
            _wait_healthy(proc, base_url, log)
            yield Server(proc.pid, base_url, time.perf_counter() - started)
        finally:
            _stop(proc)


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait_healthy(proc: subprocess.Popen, base_url: str, log: IO[bytes]) -> None:
    deadline = time.perf_counter() + START_TIMEOUT_S
    with httpx.Client(base_url=base_url, trust_env=False, timeout=1.0) as client:
        while time.perf_counter() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with code {proc.returncode} before /health answered:\n{_tail(log)}")
            try:
                if client.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.005)
    raise RuntimeError(f"server gave no 200 on /health within {START_TIMEOUT_S:g} s:\n{_tail(log)}")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _tail(log: IO[bytes], n_bytes: int = 2000) -> str:
    log.seek(0)
    return log.read()[-n_bytes:].decode(errors="replace")
