"""Benchmarks over HTTP against a freshly started server: `run_full`, `run_compact`, `peak_rss`, `startup`.

Each one starts its own server (bench.server.serve), so it measures a fresh process and `--only NAME`
gives the same figures as a full run. Every measured run uses a session id of its own, so queues never
carry over; its history is dropped afterwards (untimed) so memory does not pile up. A warm-up run,
untimed, comes first wherever the figure is a throughput.
"""

import time

import httpx
import orjson

from bench.report import Figure, Target
from bench.server import post_run, reset, serve
from bench.sizes import Plan
from bench.workload import job_body


def run_full(plan: Plan) -> list[Figure]:
    return _run_figures(plan, "full", target_jobs_per_s=30_000)


def run_compact(plan: Plan) -> list[Figure]:
    return _run_figures(plan, "compact", target_jobs_per_s=150_000)


def _run_figures(plan: Plan, detail: str, target_jobs_per_s: float) -> list[Figure]:
    """POST /run?detail=... end to end: request sent, jobs parsed and scheduled, response fully read."""
    n, body, name = plan.batch_jobs, job_body(plan.batch_jobs), f"run_{detail}"
    rate = Figure(f"{name}.jobs_per_s", "jobs/s", Target(">=", target_jobs_per_s), f"{n} jobs, request to last response byte")
    size = Figure(f"{name}.response_mb", "MB", note=f"{n} jobs")
    per_job = Figure(f"{name}.kb_per_job", "KB/job")
    with serve() as server, server.client() as client:
        _check_response(client, body, detail, n)
        for run in range(plan.repeats):
            session_id = f"bench-{name}-{run}"
            started = time.perf_counter()
            n_bytes = post_run(client, body, detail, session_id)
            elapsed = time.perf_counter() - started
            reset(client, session_id)
            rate.samples.append(n / elapsed)
            size.samples.append(n_bytes / 1e6)
            per_job.samples.append(n_bytes / 1e3 / n)
    return [rate, size, per_job]


def _check_response(client: httpx.Client, body: bytes, detail: str, n: int) -> None:
    """The warm-up run, read whole and parsed once: the server must answer with every job."""
    headers = {"X-Session-ID": "bench-warmup", "Content-Type": "application/json"}
    response = client.post("/run", params={"detail": detail}, content=body, headers=headers)
    response.raise_for_status()
    got = len(orjson.loads(response.content)["scheduled_jobs"])
    if got != n:
        raise RuntimeError(f"POST /run?detail={detail} returned {got} scheduled jobs for {n} sent")
    reset(client, "bench-warmup")


def peak_rss(plan: Plan) -> list[Figure]:
    """VmHWM of a freshly started server after one big run, per detail level; the client streams it."""
    n, body = plan.big_batch_jobs, job_body(plan.big_batch_jobs)
    figures: list[Figure] = []
    before = Figure("peak_rss.before_run_mb", "MB", note="VmHWM of each of these fresh servers before its run")
    for detail, limit_mb in (("full", 800), ("compact", 300)):
        peak = Figure(f"peak_rss.{detail}_mb", "MB", Target("<=", limit_mb), f"server VmHWM after one {n}-job run")
        wall = Figure(f"peak_rss.{detail}_wall_s", "s", note=f"{n} jobs, request to last response byte")
        for run in range(plan.big_repeats):
            with serve() as server, server.client() as client:
                before.samples.append(server.status_mb("VmHWM"))
                started = time.perf_counter()
                post_run(client, body, detail, f"bench-peak-{run}")
                wall.samples.append(time.perf_counter() - started)
                peak.samples.append(server.status_mb("VmHWM"))
        figures += [peak, wall]
    return [*figures, before]


def startup(plan: Plan) -> list[Figure]:
    """Spawn to first 200 on /health, and VmRSS once the fresh server has been idle for a moment."""
    ready = Figure("startup.ready_s", "s", Target("<=", 1.0), "spawn to first 200 on /health")
    idle = Figure("startup.idle_rss_mb", "MB", Target("<=", 120), "VmRSS 0.5 s after the first 200")
    for _ in range(plan.starts):
        with serve() as server:
            time.sleep(0.5)  # the figure's definition: RSS of a server idle for half a second
            ready.samples.append(server.startup_s)
            idle.samples.append(server.status_mb("VmRSS"))
    return [ready, idle]
