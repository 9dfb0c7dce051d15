"""The GPU-fraction study benchmark: 20,000 tasks x its 6 policies, one seed, in this process.

One measured run is `scheduler.studies.gpu_fraction.run_study` end to end at its defaults (load 1.0): the
tasks, the oracle, hybrid_ml's 399 forest trainings and predictions, the DQN's pre-training (60 episodes
of 500 tasks) and frozen run, greedy, random, round robin, then the figures, win/loss matrices and the
learning curve. scikit-learn is imported once, untimed, before the first repeat (the service loads it
only when the study runs).
"""

import time

from bench.report import Figure, Target
from bench.sizes import FULL, Plan

SEED = 1
TASKS = 20_000
TARGET_S = 60.0


def gpu_fraction(plan: Plan) -> list[Figure]:
    import sklearn.ensemble  # noqa: F401 (the import's one-off cost is not the study's)

    from scheduler.sim.gpu_workload import POLICY_NAMES, GpuFractionConfig
    from scheduler.studies.gpu_fraction import run_study

    config = GpuFractionConfig(tasks=TASKS, seed=SEED, seeds=1)
    what = f"run_study: {TASKS:,} tasks x {len(POLICY_NAMES)} policies, load {config.load}, seed {SEED}"
    wall = Figure("gpu_fraction.wall_s", "s", Target("<=", TARGET_S), what)
    per_policy = {
        name: Figure(f"gpu_fraction.{name}_s", "s", note=f"making and running the policy on {TASKS:,} tasks") for name in POLICY_NAMES
    }
    for _ in range(min(plan.repeats, 3)):
        started = time.perf_counter()
        document = run_study(config)
        wall.samples.append(time.perf_counter() - started)
        for row in document["table"]:
            per_policy[row["policy"]].samples.append(row["elapsed_s"])
    return [wall, *per_policy.values()]


if __name__ == "__main__":  # `python -m bench.case_gpu_fraction`: the full-size figure alone
    from bench.report import format_table

    print(format_table(gpu_fraction(FULL)))
