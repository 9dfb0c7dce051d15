"""The benchmarks, one function each: plan in, figures out.

HTTP benchmarks start their own server (see `server.serve`), so each one measures a fresh process and
`--only NAME` gives the same figures as a full run. Every measured run uses a session id of its own, so
queues never carry over; its history is dropped afterwards (untimed) so memory does not pile up. A
warm-up run, untimed, comes first wherever the figure is a throughput.
"""

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import httpx
import orjson

from bench.report import Figure, Target
from bench.server import Server, post_run, reset, serve
from bench.workload import job_body

if TYPE_CHECKING:
    from scheduler.placement.engine import World
    from scheduler.settings import Settings


@dataclass(frozen=True)
class Plan:
    """How much each benchmark does; FULL is what results.json reports, QUICK is a smoke run."""

    repeats: int
    """Runs per fast figure (engine, run_full, run_compact, concurrency)."""
    big_repeats: int
    """Fresh servers per detail level for the peak-RSS figures."""
    batch_jobs: int
    """Jobs per run for the engine and run_* figures."""
    big_batch_jobs: int
    """Jobs in the one run whose peak RSS is measured."""
    starts: int
    """Fresh server starts for the start-up figures."""
    concurrency_jobs: int
    """Jobs per compact run in the concurrency figures."""
    concurrency_runs: int
    """Runs each client makes per repeat in the concurrency figures."""

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


FULL = Plan(repeats=5, big_repeats=2, batch_jobs=10_000, big_batch_jobs=100_000, starts=5, concurrency_jobs=2_000, concurrency_runs=10)
QUICK = Plan(repeats=1, big_repeats=1, batch_jobs=2_000, big_batch_jobs=20_000, starts=1, concurrency_jobs=2_000, concurrency_runs=3)
CLIENTS = (1, 2, 4)


def engine(plan: Plan) -> list[Figure]:
    """Session.run on parsed jobs in this process: no HTTP, no JSON."""
    from scheduler.core.jobs import parse_jobs
    from scheduler.service.sessions import Session, derive_seed
    from scheduler.settings import Settings

    # Defaults, whatever TASKPILOT_* says (the same settings as the benchmarked servers get).
    settings = Settings(_env_prefix="TASKPILOT_BENCH_IGNORED_", groq_api_key=None, log_level="WARNING")
    world = asyncio.run(_load_world(settings))
    jobs = parse_jobs(job_body(plan.batch_jobs))
    figure = Figure("engine.decisions_per_s", "decisions/s", Target(">=", 250_000), f"Session.run, {plan.batch_jobs} jobs")
    kept = Figure("engine.bytes_per_job", "B/job", note="numpy arrays a session keeps per scheduled job (the basis of TASKPILOT_MAX_TOTAL_JOBS)")
    for run in range(plan.repeats + 1):
        session_id = f"bench-engine-{run}"
        session = Session(session_id, derive_seed(settings.seed, session_id), world, created=0.0, last_used=0.0)
        started = time.perf_counter()
        record = session.run(jobs)
        elapsed = time.perf_counter() - started
        if run > 0:  # run 0 warms up
            figure.samples.append(plan.batch_jobs / elapsed)
            kept.samples.append(_array_bytes(record) / len(record))
    # A grid session also keeps each job's when and how (scheduler.timeshift.policy.Timing).
    grid = Figure("engine.grid_bytes_per_job", "B/job", note="the same in a grid session (adds the when-policy's per-job record)")
    session = Session("bench-engine-grid", 1, world, created=0.0, last_used=0.0, scenario="grid")
    record = session.run(jobs)
    grid.samples.append(_array_bytes(record) / len(record))
    return [figure, kept, grid]


def _array_bytes(obj: object) -> int:
    """Bytes of the numpy arrays held by a (nested) dataclass; a record's `scenario` is shared by every
    session of the process, not kept per job, so it is not counted."""
    import dataclasses

    import numpy as np

    total = 0
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        if f.name == "scenario":
            continue
        value = getattr(obj, f.name)
        total += value.nbytes if isinstance(value, np.ndarray) else _array_bytes(value) if dataclasses.is_dataclass(value) else 0
    return total


def agent_loop(plan: Plan) -> list[Figure]:
    """The tier agent's act-and-learn loop alone, on random inputs: the C kernel and the plain Python
    loop it replaces (the two give identical results; tests/rl/test_agent.py)."""
    import numpy as np

    from rl import kernel
    from rl.agent import TierAgent, run_sequence_py

    steps = plan.batch_jobs * 10
    rng = np.random.default_rng(7)
    static, quality, draws = rng.random((steps, 4)), rng.random((steps, 3)), rng.random((steps, 2))
    figures = []
    runners = [("python", run_sequence_py)] + ([("kernel", kernel.run_sequence)] if kernel.available() else [])
    for name, run in runners:
        figure = Figure(f"agent_loop.{name}_steps_per_s", "steps/s", note=f"{steps} steps, pool of 3")
        for _ in range(plan.repeats):
            started = time.perf_counter()
            run(TierAgent.fresh(3), [0, 0, 0], static, quality, draws, 0.2)
            figure.samples.append(steps / (time.perf_counter() - started))
        figures.append(figure)
    return figures


async def _load_world(settings: "Settings") -> "World":
    """The World exactly as the server builds it: create_app's lifespan, run once and closed."""
    from api import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        return app.state.world


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
    response = client.post("/run", params={"detail": detail}, content=body, headers={"X-Session-ID": "bench-warmup", "Content-Type": "application/json"})
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
            time.sleep(0.5)
            ready.samples.append(server.startup_s)
            idle.samples.append(server.status_mb("VmRSS"))
    return [ready, idle]


def concurrency(plan: Plan) -> list[Figure]:
    """Total jobs/s with 1, 2 and 4 clients at once, each its own connection and sessions, compact runs."""
    n, body = plan.concurrency_jobs, job_body(plan.concurrency_jobs)
    figures = {k: Figure(f"concurrency.jobs_per_s_{k}c", "jobs/s", note=f"{k} client(s) x {plan.concurrency_runs} runs of {n} jobs") for k in CLIENTS}
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


def _concurrent_runs(server: Server, body: bytes, k: int, runs: int, prefix: str) -> float:
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


def simulate(plan: Plan) -> list[Figure]:
    from bench.case_simulate import simulate as run

    return run(plan)


def plan_jobs(plan: Plan) -> list[Figure]:
    from bench.case_plan import plan_case as run

    return run(plan)


def dashboard(plan: Plan) -> list[Figure]:
    # Needs Playwright and Chromium: imported only when asked for.
    from bench.case_dashboard import dashboard as run

    return run(plan)


BENCHMARKS = {
    "engine": engine, "agent_loop": agent_loop, "run_full": run_full, "run_compact": run_compact, "peak_rss": peak_rss,
    "startup": startup, "concurrency": concurrency, "simulate": simulate, "plan": plan_jobs,
    "dashboard": dashboard,
}  # fmt: skip
