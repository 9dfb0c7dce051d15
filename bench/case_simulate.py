"""The simulator benchmark: every policy on 100,000 jobs, grid scenario, in this process.

One measured run is `scheduler.studies.placement.run_evaluation` end to end: the Hybrid ML seed's Poisson workload
(seed SEED, offered load 0.7 on the busiest pool), the per-job, per-server physics, the seven
policies' event loops, the metrics, the win/loss matrix and the hindsight lower bound. Loading the data
and pre-training the agents (as the server does at start-up) happen once, untimed.
"""

import time

from bench.inprocess import default_settings
from bench.report import Figure, Target
from bench.sizes import FULL, Plan

SEED = 20_240_601
TARGET_S = 60.0


def simulate(plan: Plan) -> list[Figure]:
    from scheduler.sim.config import EvaluationConfig
    from scheduler.sim.policies import POLICIES
    from scheduler.studies.placement import run_evaluation

    jobs = plan.big_batch_jobs
    world, grid, regions = _load()
    config = EvaluationConfig(workload="poisson", scenario="grid", policies=POLICIES, jobs=jobs, seed=SEED)
    what = f"run_evaluation: {jobs:,} jobs x {len(POLICIES)} policies, grid scenario, Poisson workload"
    wall = Figure("simulate.wall_s", "s", Target("<=", TARGET_S), what)
    rate = Figure("simulate.job_runs_per_s", "job runs/s", note="jobs x policies / time in the event loops alone")
    per_policy = {name: Figure(f"simulate.{name}_s", "s", note=f"event loop and accounting, {jobs:,} jobs") for name in POLICIES}
    for _ in range(plan.repeats):
        started = time.perf_counter()
        result = run_evaluation(world, grid, config, regions=regions)
        wall.samples.append(time.perf_counter() - started)
        rate.samples.append(jobs * len(POLICIES) / sum(result.elapsed_s.values()))
        for name, seconds in result.elapsed_s.items():
            per_policy[name].samples.append(seconds)
    return [wall, rate, *per_policy.values()]


def _load() -> tuple:
    """World (fleet, signals, agents pre-trained as the server's lifespan does), grid and regions."""
    from scheduler.placement.world import build_world
    from scheduler.studies.placement import grid_inputs

    world = build_world(default_settings())
    return (world, *grid_inputs(world, "grid"))


if __name__ == "__main__":  # `python -m bench.case_simulate`: the full-size figure alone
    from bench.report import format_table

    print(format_table(simulate(FULL)))
