"""The `concurrency` benchmark: total jobs/s with 1, 2 and 4 clients at once against one fresh server.

Each client has its own connection and sessions and makes compact runs; the clock starts when every
client is connected and stops when the last one is done. Sessions are reset afterwards, untimed.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bench.live import LiveServer
from bench.report import Figure
from bench.server import post_run, reset, serve
from bench.sizes import Plan
from bench.workload import job_body

CLIENTS = (1, 2, 4)


def concurrency(plan: Plan) -> list[Figure]:
    """Total jobs/s with 1, 2 and 4 clients at once, each its own connection and sessions, compact runs."""
    n, body = plan.concurrency_jobs, job_body(plan.concurrency_jobs)
    note = f"client(s) x {plan.concurrency_runs} runs of {n} jobs"
    figures = {k: Figure(f"concurrency.jobs_per_s_{k}c", "jobs/s", note=f"{k} {note}") for k in CLIENTS}
    with serve() as server:
        with server.client() as client:
            post_run(client, body, "compact", "bench-warmup")
            reset(client, "bench-warmup")
        for run in range(plan.repeats):
            for k in CLIENTS:
                elapsed = _concurrent_runs(server, body, k, plan.concurrency_runs, f"bench-c{k}-r{run}")
                figures[k].samples.append(k * plan.concurrency_runs * n / elapsed)
    scaling = Figure(f"concurrency.scaling_{CLIENTS[-1]}c_vs_1c", "x", note="jobs/s ratio, per repeat")
    scaling.samples = [m / one for m, one in zip(figures[CLIENTS[-1]].samples, figures[1].samples)]
    return [*figures.values(), scaling]


def _concurrent_runs(server: LiveServer, body: bytes, k: int, runs: int, prefix: str) -> float:
    """Seconds from the common start until the last of k clients has made its runs."""
    start = threading.Barrier(k + 1, timeout=120)
    session_ids = [[f"{prefix}-t{t}-{i}" for i in range(runs)] for t in range(k)]

    def client_loop(ids: list[str]) -> None:
        with server.client() as client:
            try:
                client.get("/health").raise_for_status()  # connect before the clock starts
            except BaseException:
                start.abort()
                raise
            start.wait()
            for session_id in ids:
                post_run(client, body, "compact", session_id)

    with ThreadPoolExecutor(k) as pool:
        futures = [pool.submit(client_loop, ids) for ids in session_ids]
        try:
            start.wait()
        except threading.BrokenBarrierError:
            for f in futures:
                f.result()  # raises the client's own error
            raise
        started = time.perf_counter()
        for f in futures:
            f.result()
        elapsed = time.perf_counter() - started
    with server.client() as client:
        for ids in session_ids:
            for session_id in ids:
                reset(client, session_id)
    return elapsed
