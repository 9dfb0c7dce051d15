"""The dispatch study: every dispatcher on the same seeded instances, means with 95 % confidence intervals.

Instances are drawn from SeedSequence(seed).spawn(seeds), so `seed` and `seeds` name the whole table; the
training seeds of the weights are a different stream (scheduler.dispatch.train). The goal is read off the
paired comparison: per instance, 1 - miss(rl) / miss(best of FIFO, priority, SJF), and throughput(rl) /
throughput(that baseline), each with its interval. The EDF check runs on single-worker instances that
EDF finishes without a miss (feasible ones), where non-preemptive EDF is optimal among work-conserving
dispatchers (Jeffay, Stanat and Martel, RTSS 1991).
"""

from dataclasses import dataclass

import numpy as np

from rl.dispatcher import Dispatcher
from scheduler.core.stats import mean_ci
from scheduler.dispatch.dispatchers import BASELINES, HEURISTICS, LearnedDispatcher, heuristic
from scheduler.dispatch.simulator import Metrics, measure, simulate
from scheduler.dispatch.train import MAIN, SINGLE
from scheduler.dispatch.workload import WorkloadConfig, draw_instance

SAMPLING = "rl, sampling"
"""The learned dispatcher as it behaves while learning online (TASKPILOT_DISPATCHER_FROZEN=false): each choice
drawn from softmax(scores) instead of the argmax; what exploring costs."""


@dataclass(frozen=True)
class StudyResult:
    seed: int
    seeds: int
    workload: WorkloadConfig
    per_seed: dict[str, list[Metrics]]  # dispatcher -> one Metrics per instance
    best_baseline: str
    reduction: tuple[float, float]  # paired 1 - miss(rl) / miss(best baseline): mean, CI half-width
    throughput_ratio: tuple[float, float]
    edf_check: dict[str, float]  # feasible single-worker instances: how many, rl's misses there


def run_study(policy: Dispatcher, seed: int, seeds: int, workload: WorkloadConfig = MAIN, edf_instances: int = 20) -> StudyResult:
    streams = np.random.SeedSequence(seed).spawn(seeds + 1)
    per_seed: dict[str, list[Metrics]] = {name: [] for name in (*HEURISTICS, "rl", SAMPLING)}
    for ss in streams[:seeds]:
        instance = draw_instance(workload, np.random.default_rng(ss))
        for name in HEURISTICS:
            per_seed[name].append(measure(instance, simulate(instance, heuristic(name))))
        per_seed["rl"].append(measure(instance, simulate(instance, LearnedDispatcher(policy))))
        sampling = LearnedDispatcher(policy, np.random.default_rng(ss.spawn(1)[0]))
        per_seed[SAMPLING].append(measure(instance, simulate(instance, sampling)))
    miss = {name: np.array([m.miss_rate for m in ms]) for name, ms in per_seed.items()}
    best = min(BASELINES, key=lambda name: float(miss[name].mean()))
    reduction = mean_ci(1 - miss["rl"] / np.maximum(miss[best], 1e-12))
    thr = {name: np.array([m.throughput for m in ms]) for name, ms in per_seed.items()}
    ratio = mean_ci(thr["rl"] / thr[best])
    return StudyResult(seed, seeds, workload, per_seed, best, reduction, ratio,
                       edf_check(policy, np.random.default_rng(streams[seeds]), edf_instances))  # fmt: skip


def edf_check(policy: Dispatcher, rng: np.random.Generator, instances: int) -> dict[str, float]:
    """On `instances` feasible single-worker instances (EDF misses none): the learned dispatcher's missed jobs."""
    found, rl_missed, jobs, drawn = 0, 0, 0, 0
    while found < instances and drawn < 20 * instances:
        drawn += 1
        instance = draw_instance(SINGLE, rng)
        if measure(instance, simulate(instance, heuristic("edf"))).miss_rate > 0:
            continue
        found += 1
        jobs += instance.n
        rl_missed += round(measure(instance, simulate(instance, LearnedDispatcher(policy))).miss_rate * instance.n)
    return {"instances": found, "drawn": drawn, "jobs": jobs, "rl_missed_jobs": rl_missed}


def summary(result: StudyResult) -> list[dict[str, object]]:
    """One row per dispatcher: each metric's mean and CI half-width over the seeds."""
    rows = []
    for name, ms in result.per_seed.items():
        row: dict[str, object] = {"dispatcher": name}
        for metric in ms[0].as_dict():
            row[metric] = mean_ci(np.array([getattr(m, metric) for m in ms]))
        rows.append(row)
    return rows


def format_table(result: StudyResult) -> str:
    head = "| dispatcher | miss rate % | mean completion | throughput (jobs/unit) | wait p99 | wait max |\n|---|--:|--:|--:|--:|--:|"
    lines = [head]
    for row in summary(result):
        cells = [f"{m * (100 if k == 'miss_rate' else 1):.{1 if k == 'miss_rate' else 2}f} ± "
                 f"{c * (100 if k == 'miss_rate' else 1):.{1 if k == 'miss_rate' else 2}f}"
                 for k, (m, c) in ((k, row[k]) for k in ("miss_rate", "mean_completion", "throughput", "wait_p99", "wait_max"))]  # type: ignore[misc]  # fmt: skip
        lines.append(f"| {row['dispatcher']} | " + " | ".join(cells) + " |")
    r, c = result.reduction
    t, tc = result.throughput_ratio
    e = result.edf_check
    lines += [
        "",
        f"rl vs the best of {', '.join(BASELINES)} ({result.best_baseline}): miss rate {100 * r:.1f} ± {100 * c:.1f} % lower, "
        f"throughput ratio {t:.3f} ± {tc:.3f} (paired over {result.seeds} instances, seed {result.seed}).",
        f"EDF-optimal case: {e['instances']:.0f} feasible single-worker instances ({e['jobs']:.0f} jobs; EDF misses none), "
        f"rl misses {e['rl_missed_jobs']:.0f} jobs.",
    ]
    return "\n".join(lines)
