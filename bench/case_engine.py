"""In-process benchmarks of the scheduling core: `engine` (Session.run) and `agent_loop` (the tier agent)."""

import asyncio
import dataclasses
import time

from bench.inprocess import default_settings, lifespan_world
from bench.report import Figure, Target
from bench.sizes import Plan
from bench.workload import job_body


def engine(plan: Plan) -> list[Figure]:
    """Session.run on parsed jobs in this process: no HTTP, no JSON."""
    from scheduler.core.jobs import parse_jobs
    from scheduler.service.sessions import Session, derive_seed

    settings = default_settings()
    world = asyncio.run(lifespan_world(settings))
    jobs = parse_jobs(job_body(plan.batch_jobs))
    figure = Figure("engine.decisions_per_s", "decisions/s", Target(">=", 250_000), f"Session.run, {plan.batch_jobs} jobs")
    kept_note = "numpy arrays a session keeps per scheduled job (the basis of TASKPILOT_MAX_TOTAL_JOBS)"
    kept = Figure("engine.bytes_per_job", "B/job", note=kept_note)
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
