"""The simulator benchmark: every policy on 100,000 jobs, grid scenario, in this process.

One measured run is `scheduler.studies.placement.run_evaluation` end to end: the Hybrid ML seed's Poisson workload
(seed SEED, offered load 0.7 on the busiest pool), the per-job, per-server physics, the event loops of the
seven policies the figures were first measured with (SEVEN; `all` is nine now: greenest_free and dqn came
later, and the constrained reference's eleven runs are left out), the metrics and the win/loss matrix.
Loading the data and pre-training the agents (as the server does at start-up) happen once, untimed.
"""

import time

from bench.inprocess import default_settings
from bench.report import Figure, Target
from bench.sizes import FULL, Plan

SEED = 20_240_601
SEVEN = ("tier_agents", "round_robin", "random", "greedy", "least_loaded", "lowest_carbon", "oracle")
TARGET_S = 60.0


def simulate(plan: Plan) -> list[Figure]:
    from scheduler.sim.config import EvaluationConfig
    from scheduler.studies.placement import run_evaluation

    jobs = plan.big_batch_jobs
    world, grid, regions = _load()
    config = EvaluationConfig(workload="poisson", scenario="grid", policies=SEVEN, jobs=jobs, seed=SEED, reference=False)
    what = f"run_evaluation: {jobs:,} jobs x {len(SEVEN)} policies, grid scenario, Poisson workload"
    wall = Figure("simulate.wall_s", "s", Target("<=", TARGET_S), what)
    rate = Figure("simulate.job_runs_per_s", "job runs/s", note="jobs x policies / time in the event loops alone")
    per_policy = {name: Figure(f"simulate.{name}_s", "s", note=f"event loop and accounting, {jobs:,} jobs") for name in SEVEN}
    for _ in range(plan.repeats):
        started = time.perf_counter()
        result = run_evaluation(world, grid, config, regions=regions)
        wall.samples.append(time.perf_counter() - started)
        rate.samples.append(jobs * len(SEVEN) / sum(result.elapsed_s.values()))
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
