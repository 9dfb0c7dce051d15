"""The planner benchmark: 3,000 long jobs over a year of 30-minute carbon data, in this process.

One measured run is `scheduler.timeshift.requests.plan_request` end to end on parsed inputs: the shipped Spain series
(dataset_rl/grid/ES.csv, direct intensity, 2023) resampled from 60 to 30 minutes, and 3,000 jobs drawn
from `np.random.default_rng(SEED)`: submissions uniform over the year, durations 2-12 h, deadlines
12-48 h after submission, half of them interruptible, 100-1000 W. It plans run_now, perfect, noisy x 10
seed streams and persistence, and builds the output document (every job's runs as ISO times). Reading
the CSV happens once, untimed.
"""

import time

import numpy as np

from bench.report import Figure, Target
from bench.sizes import FULL, Plan

SEED = 20_240_601
TARGET_S = 10.0
JOBS = 3_000
SEEDS = 10
FORECASTS = ("perfect", "noisy", "persistence")


def plan_case(plan: Plan) -> list[Figure]:
    from scheduler.timeshift.requests import plan_request

    series, jobs = _inputs()
    runs = 1 + SEEDS + 1  # perfect, noisy streams, persistence
    wall = Figure(
        "plan.wall_s",
        "s",
        Target("<=", TARGET_S),
        f"plan_request: {JOBS:,} jobs, a year of 30-min data, perfect + noisy x {SEEDS} + persistence",
    )
    rate = Figure(
        "plan.job_plans_per_s",
        "job plans/s",
        note=f"jobs x {runs} forecast runs / wall time",
    )
    for _ in range(plan.repeats):
        started = time.perf_counter()
        result = plan_request(series, jobs, FORECASTS, step_min=30, seeds=SEEDS, seed=SEED)
        elapsed = time.perf_counter() - started
        if result["strategies"]["perfect"]["deadline_misses"]:
            raise RuntimeError("the planner missed a deadline")
        wall.samples.append(elapsed)
        rate.samples.append(JOBS * runs / elapsed)
    return [wall, rate]


def _inputs() -> tuple:
    """The 2023 hourly series (resampled to 30 min inside plan_request) and the job table."""
    from dataclasses import replace

    from scheduler.data.carbon_csv import read_series_csv
    from scheduler.data.grid import GRID_DIR
    from scheduler.settings import ROOT
    from scheduler.timeshift.inputs import JobTable

    full = read_series_csv(ROOT / "dataset_rl" / GRID_DIR / "ES.csv", column="direct_g_per_kwh")
    first = int(full.slot_of(np.datetime64("2023-01-01T00:00")))
    series = replace(
        full,
        start=np.datetime64("2023-01-01T00:00", "m"),
        values=full.values[first : first + 8760],
    )
    rng = np.random.default_rng(SEED)
    year_min = 8760 * 60 - 48 * 60  # every deadline inside the year
    submit = np.datetime64("2023-01-01T00:00", "s") + (rng.uniform(0, year_min, JOBS) * 60).astype(np.int64)
    jobs = JobTable(
        job_id=[f"job-{i}" for i in range(JOBS)],
        submit=np.sort(submit),
        duration_min=rng.uniform(120, 720, JOBS),
        deadline_min=rng.uniform(720, 2880, JOBS),
        interruptible=rng.random(JOBS) < 0.5,
        power_w=rng.uniform(100, 1000, JOBS),
        where=[{"index": i} for i in range(JOBS)],
    )
    return series, jobs


if __name__ == "__main__":  # `python -m bench.case_plan`: the full-size figure alone
    from bench.report import format_table

    print(format_table(plan_case(FULL)))
