"""The `health` benchmark: GET /health's latency, and the server's memory, while each other resource is saturated.

One fresh live server started as the documented commands start it (bench.live: SERVE_FLAGS), with the rate
and per-client limits lifted so that the load is not refused, and its LLM pointed at a local server that
accepts and never answers. Each stage starts its load, lets it take hold, then a prober in a process of its
own (so that the load's client threads do not delay it) sends PROBES GET /health, one at a time on one
keep-alive connection, one every PACE_S, and reports each latency, request written to last byte read; the
server's VmRSS is sampled every SAMPLE_S meanwhile. Stages:

1. `idle`;
2. `plans`: the plan workers (TASKPILOT_PLAN_WORKERS, default 1) computing plans just under
   TASKPILOT_MAX_PLAN_WORK, and the waiting line full, submitted again as each answers;
3. `llm`: every LLM slot (TASKPILOT_LLM_CONCURRENCY) waiting on a refinement that never comes;
4. `run`: 100,000-job compact /runs one after the other (each session reset after its run);
5. `all`: 2, 3 and 4 at once.

Figures per stage: `health.p99_ms_<stage>` (target: at most 50 ms), `health.p50_ms_<stage>`, and
`health.rss_mb_<stage>`, the server's peak VmRSS while the stage ran.
"""

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bench.live import LiveServer, live_server
from bench.report import Figure, Target
from bench.sizes import FULL, Plan
from bench.workload import job_body
from scheduler.settings import Settings

PROBES = {True: 1000, False: 200}  # full run, quick run
SAMPLE_S = 0.2
PACE_S = 0.02
"""A probe starts every PACE_S (or when the last one answered, if later): the probes spread over 20 s (4 s in a
quick run), as a health checker's would, so a stall that comes once a second is seen, where back-to-back
probes finished within a fraction of a second and could miss it."""
TARGET_MS = 50.0
LLM_SLOTS = Settings().llm_concurrency
# The plan pool as deployed (scheduler/settings.py's defaults): its workers busy and its waiting line full.
PLAN_WORKERS, PLAN_WAITING = Settings().plan_workers, Settings().max_plan_waiting
SETTINGS = {
    "TASKPILOT_RATE_LIMIT_CLIENT": "",
    "TASKPILOT_RATE_LIMIT_SESSION": "",
    "TASKPILOT_RATE_LIMIT_NEW_SESSIONS": "",
    "TASKPILOT_MAX_CLIENT_PLANS": "100",
    # The benchmark is one client address: the LLM stage's session and the 100,000-job runs together are
    # over the default per-client job quota, which would refuse the runs (413) and leave no run load.
    "TASKPILOT_MAX_CLIENT_JOBS": "1000000",
    "TASKPILOT_GROQ_API_KEY": "bench-key",
    "TASKPILOT_LLM_TIMEOUT_S": "600",
    "TASKPILOT_DATABASE": ":memory:",
    "TASKPILOT_LOG_LEVEL": "DEBUG",  # the plan workers say when they start (web/work.py)
}
# A plan just under the default TASKPILOT_MAX_PLAN_WORK (25 M): 2,400 jobs x 744 slots x 12 runs = 21.4 M.
PLAN = {
    "zone": "ES",
    "start": "2023-01-01T00:00Z",
    "end": "2023-02-01T00:00Z",
    "jobs": [
        {"job_id": f"j{i}", "submit_time": "2023-01-01T00:00Z", "duration_min": 120, "deadline": "2023-01-31T23:00Z"} for i in range(2_400)
    ],
    "forecasts": ["perfect", "noisy", "persistence"],
    "seeds": 10,
}
PROBER = r"""
import json, socket, sys, time
port, n, pace = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
sock = socket.create_connection(("127.0.0.1", port)); sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
out, start = [], time.perf_counter()
for i in range(n):
    time.sleep(max(0.0, start + i * pace - time.perf_counter()))
    t = time.perf_counter(); sock.sendall(b"GET /health HTTP/1.1\r\nHost: bench\r\n\r\n"); data = b""
    while not (b"\r\n\r\n" in data and data.endswith(b"}")):
        data += sock.recv(65536)
    out.append((time.perf_counter() - t) * 1e3)
    if not data.startswith(b"HTTP/1.1 200"): raise SystemExit(data[:200])
print(json.dumps(out))
"""


def health(plan: Plan) -> list[Figure]:
    probes = PROBES[plan == FULL]
    figures: list[Figure] = []
    with _SilentLLM() as llm, live_server({**SETTINGS, "TASKPILOT_LLM_BASE_URL": f"http://127.0.0.1:{llm.port}"}) as server:
        for stage in ("idle", "plans", "llm", "run", "all"):
            names = ["plans", "llm", "run"] if stage == "all" else [stage] if stage != "idle" else []
            load = _Load(server, llm)
            with _sampled(server) as peak:
                for name in names:
                    getattr(load, name)()
                latencies = sorted(_probe(server, probes))
                load.stop()
            figures += _figures(stage, latencies, peak[0], probes)
    return figures


def _figures(stage: str, latencies: list[float], rss_mb: float, probes: int) -> list[Figure]:
    p99 = Figure(f"health.p99_ms_{stage}", "ms", Target("<=", TARGET_MS), f"p99 of {probes} GET /health, {stage}")
    p50 = Figure(f"health.p50_ms_{stage}", "ms", note=f"median of {probes} GET /health, {stage}")
    rss = Figure(f"health.rss_mb_{stage}", "MB", note=f"server peak VmRSS during the {stage} stage")
    p99.samples.append(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))])
    p50.samples.append(latencies[len(latencies) // 2])
    rss.samples.append(rss_mb)
    return [p99, p50, rss]


def _probe(server: LiveServer, n: int) -> list[float]:
    command = [sys.executable, "-c", PROBER, str(server.port), str(n), str(PACE_S)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode:
        raise RuntimeError(f"the /health prober failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


@contextmanager
def _sampled(server: LiveServer) -> Iterator[list[float]]:
    peak, stop = [0.0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], server.status_mb("VmRSS"))
            stop.wait(SAMPLE_S)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()


def _wait(condition: Callable[[], bool], what: str, timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"health benchmark: {what} did not happen within {timeout_s:g} s")
        time.sleep(0.05)


class _Load:
    """One stage's load. Plans and LLM calls go out on raw sockets, so that stopping the stage can hang up on
    them (the server then stops the plans; the silent LLM lets its callers go)."""

    def __init__(self, server: LiveServer, llm: "_SilentLLM"):
        self.server, self.provider = server, llm
        self.stopping = threading.Event()
        self.sockets: list[socket.socket] = []
        self.threads: list[threading.Thread] = []
        self.errors: list[Exception] = []

    def plans(self) -> None:
        body = json.dumps(PLAN).encode()
        head = (
            b"POST /plan HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % len(body)
        )
        self._repeat(head + body, PLAN_WORKERS + PLAN_WAITING)
        log = self.server.log
        _wait(lambda: f"plan started on a worker ({PLAN_WORKERS} running)" in log(), "every plan worker busy")

    def llm(self) -> None:
        with self.server.client() as client:
            sid = client.post("/run", json=[{"priority": "green", "cpu": 10, "memory": 10}]).headers["X-Session-ID"]
        request = (
            b"GET /jobs/1/explanation?llm=true HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nX-Session-ID: %s\r\n\r\n" % sid.encode()
        )
        self._repeat(request, LLM_SLOTS)
        _wait(lambda: self.provider.calls() >= 1, "an LLM call")  # the others wait behind it (single flight per key)

    def run(self) -> None:
        body, sid = job_body(100_000), "bench-health-run"
        started = threading.Event()

        def runs() -> None:
            with self.server.client() as client:
                while not self.stopping.is_set():
                    started.set()
                    headers = {"content-type": "application/json", "X-Session-ID": sid}
                    client.post("/run?detail=compact", content=body, headers=headers).raise_for_status()
                    client.post("/reset", headers={"X-Session-ID": sid})

        self._thread(runs)
        started.wait()

    def stop(self) -> None:
        self.stopping.set()
        for sock in list(self.sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.provider.release()
        for thread in self.threads:
            thread.join(600)
        self.provider.release()
        if self.errors:
            raise RuntimeError(f"health benchmark: a load thread failed: {self.errors[0]!r}") from self.errors[0]

    def _repeat(self, request: bytes, count: int) -> None:
        """`count` connections, each sending `request` again whenever it is answered, until the stage stops."""

        def ask() -> None:
            while not self.stopping.is_set():
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.server.port)) as sock:
                    self.sockets.append(sock)
                    sock.sendall(request)
                    while sock.recv(65536):  # one answer, then the server closes (no keep-alive is asked for)
                        if self.stopping.is_set():
                            break

        for _ in range(count):
            self._thread(ask)

    def _thread(self, target: Callable[[], None]) -> None:
        """Run target on a thread; stop() raises what it raised (a load that died measures nothing)."""

        def guarded() -> None:
            try:
                target()
            except Exception as exc:  # noqa: BLE001 - handed to stop(), which raises it
                self.errors.append(exc)

        thread = threading.Thread(target=guarded, daemon=True)
        thread.start()
        self.threads.append(thread)


class _SilentLLM:
    """A server on 127.0.0.1 that accepts connections and reads, and never answers until released."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(256)
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.accepted = 0
        self.lock = threading.Lock()

    def __enter__(self) -> "_SilentLLM":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()
        self.release()

    def calls(self) -> int:
        with self.lock:
            return self.accepted

    def release(self) -> None:
        with self.lock:
            held, self.held = self.held, []
        for conn in held:
            conn.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.held.append(conn)
                self.accepted += 1
