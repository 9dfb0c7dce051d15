"""The GPU-fraction study (issue 14, the Hybrid ML seed's cluster): policies that split each task between
the CPU and a GPU, compared on time, energy and cost against the oracle (docs/gpu-fraction.md).

`run_seed` draws one seed's tasks and runs every policy on them, the oracle first (its fractions are
hybrid_ml's labels); `run_study` runs several seeds and folds them into the document the report shows:
each policy's figures as means with 95 % confidence intervals, the oracle's efficiency (oracle / policy),
the win/loss matrices, hybrid_ml's learning curve and the oracle's fractions.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from scheduler.core.errors import EvaluationCancelled
from scheduler.core.stats import mean_ci
from scheduler.sim.gpu_cluster import FRACTIONS, Cluster, cost_usd, energy_j
from scheduler.sim.gpu_policies import GpuPolicy, make_policy
from scheduler.sim.gpu_workload import GpuFractionConfig, GpuTasks, draw_tasks

METRICS = ("time", "energy", "cost")
"""Per task: completion time (finish - arrival, s, waiting included), energy (J), cost (USD). Lower is better."""


@dataclass
class PolicyRun:
    """One policy on one seed's tasks: its choices and each task's figures."""

    fraction: np.ndarray
    gpu: np.ndarray
    finish_s: np.ndarray
    per_task: dict[str, np.ndarray]
    elapsed_s: float
    extra: dict = field(default_factory=dict)


CHUNK = 1_000
"""Tasks between two calls of a run's cancel()."""


def simulate(policy: GpuPolicy, tasks: GpuTasks, started: float | None = None, cancel: Callable[[], bool] | None = None) -> PolicyRun:
    """Task by task in arrival order: the policy decides on the cluster as it is, the cluster runs the task.
    `started`: when the policy's making began (the DQN's pre-training counts in its time); `cancel`, asked
    every CHUNK tasks, stops the run (EvaluationCancelled)."""
    started = time.perf_counter() if started is None else started
    n, cluster = len(tasks), Cluster()
    fraction, gpu, finish = np.empty(n), np.empty(n, dtype=np.int64), np.empty(n)
    a, t, s, x = (v.tolist() for v in (tasks.arrival_s, tasks.base_s, tasks.speedup, tasks.transfer_s))
    decide, observe, run = policy.decide, policy.observe, cluster.run
    for i in range(n):
        if cancel is not None and i % CHUNK == 0 and cancel():
            raise EvaluationCancelled(f"stopped at task {i:,} of {n:,} ({getattr(policy, 'name', 'policy')})")
        f, g = decide(i, cluster)
        done = run(a[i], t[i], s[i], x[i], f, g)
        fraction[i], gpu[i], finish[i] = f, g, done
        observe(i, done - a[i])
    per_task = {"time": finish - tasks.arrival_s, "energy": energy_j(tasks, fraction), "cost": cost_usd(tasks, fraction)}
    extra = {"trainings": len(policy.trainings)} if hasattr(policy, "trainings") else {}
    if hasattr(policy, "waits"):
        extra["waits"] = policy.waits
    return PolicyRun(fraction, gpu, finish, per_task, time.perf_counter() - started, extra)


def seed_streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent streams of one root seed: the tasks and each policy that draws, so adding a policy never
    changes another's draws."""
    names = ("tasks", "random", "hybrid_ml", "dqn", "hybrid_ml_queues")  # a new stream goes last: the others stay
    return {name: np.random.default_rng(child) for name, child in zip(names, np.random.SeedSequence(seed).spawn(len(names)))}


def run_seed(
    config: GpuFractionConfig, seed: int, progress: Callable[[str], None] | None = None, cancel: Callable[[], bool] | None = None
) -> tuple[GpuTasks, dict[str, PolicyRun]]:
    """One seed: its tasks and every requested policy's run (the oracle always runs, first); `progress(name)`
    as each policy starts."""
    streams = seed_streams(seed)
    tasks = draw_tasks(config.tasks, config.load, streams["tasks"])
    names = ["oracle", *[p for p in config.policies if p != "oracle"]]
    runs: dict[str, PolicyRun] = {}
    for name in names:
        if progress is not None:
            progress(name)
        started = time.perf_counter()
        oracle = runs.get("oracle")
        labels, waits = (None, None) if oracle is None else (oracle.fraction, oracle.extra["waits"])
        policy = make_policy(name, tasks, streams.get(name), config.load, labels, config.dqn_episodes, waits)
        runs[name] = simulate(policy, tasks, started, cancel)
    return tasks, runs


def seed_figures(tasks: GpuTasks, runs: dict[str, PolicyRun], warmup: int) -> dict[str, dict[str, float]]:
    """Each policy's figures on one seed. Totals are over every task; the efficiencies (oracle / policy, so
    1.0 is the oracle's and higher is better) are over the tasks after the first `warmup`, and so are the
    fraction's mean gap to the oracle's on the same task and its R² against it (hybrid_ml's fit to its labels:
    its fraction is its forest's prediction, made before the label was known)."""
    after = slice(min(warmup, len(tasks) - 1), None)
    oracle = {m: float(runs["oracle"].per_task[m][after].sum()) for m in METRICS}
    labels = runs["oracle"].fraction
    figures = {}
    for name, run in runs.items():
        f = run.fraction
        figures[name] = {
            "time_mean_s": float(run.per_task["time"].mean()),
            "time_after_s": float(run.per_task["time"][after].mean()),
            "makespan_s": float(run.finish_s.max() - tasks.arrival_s[0]),
            "energy_kj": float(run.per_task["energy"].sum() / 1e3),
            "cost_usd": float(run.per_task["cost"].sum()),
            **{f"efficiency_{m}": oracle[m] / float(run.per_task[m][after].sum()) for m in METRICS},
            "fraction_mean": float(f.mean()),
            "split_share": float(((f > 0.0) & (f < 1.0)).mean()),
            "fraction_gap": float(np.abs(f - labels)[after].mean()),
            "fraction_r2": 1.0 - float(((f - labels)[after] ** 2).sum() / max(float(labels[after].var()) * len(labels[after]), 1e-12)),
            "elapsed_s": run.elapsed_s,
        }
    return figures


def win_loss(runs: dict[str, PolicyRun], warmup: int) -> dict[str, list[list[float]]]:
    """Row beats column. Per metric: the share of tasks after the warm-up on which the row policy's value is
    lower than the column's (by more than a relative 1e-9; the rest of 1 - share[i][j] - share[j][i] are ties).
    "metrics_won": on how many of the three metrics (totals after the warm-up) the row is lower."""
    names = list(runs)
    out: dict[str, list[list[float]]] = {}
    for m in METRICS:
        values = np.stack([runs[n].per_task[m][warmup:] for n in names])
        tol = 1e-9 * np.maximum(np.abs(values[:, None, :]), np.abs(values[None, :, :]))
        out[m] = ((values[:, None, :] < values[None, :, :] - tol).mean(axis=2)).tolist()
    totals = np.array([[runs[n].per_task[m][warmup:].sum() for m in METRICS] for n in names])
    out["metrics_won"] = (totals[:, None, :] < totals[None, :, :]).sum(axis=2).tolist()
    return out


def learning_curve(runs: dict[str, PolicyRun], windows: int) -> dict:
    """Each policy's efficiency on time (oracle / policy) in consecutive windows of tasks: hybrid_ml's learning."""
    n = len(runs["oracle"].finish_s)
    edges = np.linspace(0, n, windows + 1).astype(int)
    oracle = runs["oracle"].per_task["time"]
    curve = {
        name: [float(oracle[a:b].sum() / run.per_task["time"][a:b].sum()) for a, b in zip(edges[:-1], edges[1:])]
        for name, run in runs.items()
    }
    return {"ends": edges[1:].tolist(), "efficiency_time": curve}


GOAL_HYBRID = 0.95
"""Issue 14: hybrid_ml at >= 95 % of the oracle's efficiency on time after its first 1,000 tasks."""
NOTES = (
    "Efficiency is oracle / policy on the tasks after the warm-up: 1.0 is the oracle's figure, higher is better; "
    "a policy can pass 1.0 on energy or cost, which the oracle does not minimise.",
    "The oracle minimises each task's finish time as it arrives, given the queues: it is the labeller and the reference, "
    "not a bound on the mean completion time (a choice that is best for one task can delay the next ones).",
    "hybrid_ml sees only the task's five features; the oracle's fraction also depends on the queues, "
    "so part of the label is noise to the forest (docs/gpu-fraction.md).",
    "dqn is pre-trained on tasks of its own (its stream of the seed), then evaluated frozen on the study's tasks.",
    "Makespan is mostly the arrival span (Poisson arrivals over the whole run): it separates policies only by their last tasks.",
)


def goals(table: list[dict]) -> dict:
    """The issue's two goals, judged on the means over the seeds."""
    row = {r["policy"]: r for r in table}
    out: dict = {"hybrid_target": GOAL_HYBRID}
    if "hybrid_ml" in row:
        out["hybrid_efficiency_time"] = row["hybrid_ml"]["efficiency_time"]
        out["hybrid_met"] = row["hybrid_ml"]["efficiency_time"] >= GOAL_HYBRID
    if "dqn" in row and "greedy" in row:
        out["dqn_beats_greedy"] = row["dqn"]["time_after_s"] < row["greedy"]["time_after_s"]
    return out


def run_study(
    config: GpuFractionConfig, progress: Callable[[int, int, str], None] | None = None, cancel: Callable[[], bool] | None = None
) -> dict:
    """Every seed's runs folded into the study's document (see the module's docstring). `progress(done, total,
    policy)` counts task runs (tasks x seeds x policies) as each policy starts; `cancel` stops the study."""
    started = time.perf_counter()
    seeds = [config.seed + k for k in range(config.seeds)]
    per_seed, matrices, first = [], [], None
    total, done = config.tasks * config.seeds * len(config.policies), [0]

    def report(name: str) -> None:
        if progress is not None:
            progress(done[0], total, name)
        done[0] += config.tasks

    for seed in seeds:
        tasks, runs = run_seed(config, seed, report, cancel)
        per_seed.append({"seed": seed, "policies": seed_figures(tasks, runs, config.warmup)})
        matrices.append(win_loss(runs, config.warmup))
        if first is None:
            first = (tasks, runs)
    names = list(per_seed[0]["policies"])
    table = []
    for name in names:
        row: dict = {"policy": name}
        for key in per_seed[0]["policies"][name]:
            row[key], row[f"{key}_ci"] = mean_ci([s["policies"][name][key] for s in per_seed], single=0.0)  # JSON has no NaN
        table.append(row)
    tasks, runs = first
    hybrid = runs.get("hybrid_ml")
    return {
        "study": "gpu-fraction",
        "config": config.model_dump(mode="json"),
        "seeds": seeds,
        "policies": names,
        "table": table,
        "per_seed": per_seed,
        "win_loss": {key: np.mean([m[key] for m in matrices], axis=0).tolist() for key in matrices[0]},
        "curve": learning_curve(runs, 20),
        "oracle_fractions": {
            "fractions": FRACTIONS.tolist(),
            "share": (np.bincount(np.rint(runs["oracle"].fraction * 20).astype(int), minlength=21) / len(tasks)).tolist(),
        },
        "hybrid_trainings": None if hybrid is None else hybrid.extra["trainings"],
        "goals": goals(table),
        "notes": list(NOTES),
        "elapsed_s": time.perf_counter() - started,
    }
