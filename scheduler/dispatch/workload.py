"""The dispatch study's instances: jobs with deadlines, priorities, DAG dependencies and pre-drawn failures.

An instance is drawn whole from one `np.random.Generator` before any dispatcher runs, failures included
(whether attempt n of job j fails, and when), so every dispatcher meets exactly the same jobs, durations
and failures (common random numbers): their differences are the dispatch order's alone.
"""

from dataclasses import dataclass

import numpy as np

URGENCY_SHARES = (0.2, 0.5, 0.3)
"""critical, normal, flexible: the executor's three urgency codes (0, 1, 2)."""
DEADLINE_FACTORS = ((1.0, 2.0), (1.2, 3.0), (2.0, 5.0))
"""A workflow's relative deadline is its critical path times U(lo, hi) of its urgency, plus U(0, 2) mean runtimes."""


@dataclass(frozen=True)
class WorkloadConfig:
    workers: int = 4
    """Identical workers; a job runs on one, start to end (no preemption)."""
    workflows: int = 150
    """Workflows per instance; each is a DAG of 1..max_tasks jobs."""
    max_tasks: int = 5
    edge_p: float = 0.4
    """Each earlier job of a workflow is a parent of a later one with this probability (0: no dependencies)."""
    load: float = 0.95
    """Offered load: planned work of all attempts / (workers x the arrival span)."""
    size_sigma: float = 1.0
    """Planned runtimes are lognormal with this sigma, scaled to mean 1 (the time unit)."""
    noise_sigma: float = 0.2
    """A run lasts its planned runtime x lognormal(0, noise_sigma): plans are estimates."""
    flaky_share: float = 0.2
    """Share of flaky jobs: they fail an attempt with p_flaky, the others with p_fail."""
    p_fail: float = 0.02
    p_flaky: float = 0.3
    max_attempts: int = 4
    """After this many failed attempts a job is dead, and its dependants never run: all count as missed."""
    backoff: float = 0.5
    """A failed job is ready again after backoff x 2^(failures - 1) mean runtimes."""


@dataclass(frozen=True)
class Instance:
    arrival: np.ndarray  # (n,) its workflow's submission time
    work: np.ndarray  # (n,) planned runtime (what SJF and the features see)
    duration: np.ndarray  # (n,) actual runtime of an attempt
    fail_at: np.ndarray  # (n, max_attempts) share of the run after which attempt k fails; nan: it succeeds
    deadline: np.ndarray  # (n,) latest finish: the workflow's deadline minus the longest planned chain after the job
    priority: np.ndarray  # (n,) urgency code, 0 critical
    critical_path: np.ndarray  # (n,) planned work of the job and its longest chain of dependants
    parents: list[list[int]]
    children: list[list[int]]
    workers: int
    backoff: float

    @property
    def n(self) -> int:
        return len(self.work)


def draw_instance(config: WorkloadConfig, rng: np.random.Generator) -> Instance:
    """Jobs numbered in submission order (workflow by workflow, parents before children)."""
    sizes = rng.integers(1, config.max_tasks + 1, config.workflows)
    n = int(sizes.sum())
    work = rng.lognormal(0.0, config.size_sigma, n)
    work /= work.mean()
    duration = work * rng.lognormal(0.0, config.noise_sigma, n)
    flaky = rng.random(n) < config.flaky_share
    p = np.where(flaky, config.p_flaky, config.p_fail)
    fails = rng.random((n, config.max_attempts)) < p[:, None]
    fail_at = np.where(fails, rng.uniform(0.1, 1.0, (n, config.max_attempts)), np.nan)
    urgency = rng.choice(3, config.workflows, p=URGENCY_SHARES)
    parents: list[list[int]] = [[] for _ in range(n)]
    children: list[list[int]] = [[] for _ in range(n)]
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    for start, size in zip(first, sizes, strict=True):
        for j in range(start + 1, start + size):
            for i in range(start, j):
                if rng.random() < config.edge_p:
                    parents[j].append(i), children[i].append(j)
    after = np.zeros(n)  # longest planned chain strictly after each job
    for i in range(n - 1, -1, -1):  # children have larger numbers: reverse order is reverse topological
        after[i] = max((work[c] + after[c] for c in children[i]), default=0.0)
    critical_path = work + after
    wf_of = np.repeat(np.arange(config.workflows), sizes)
    wf_path = np.maximum.reduceat(critical_path, first)
    lo, hi = np.array(DEADLINE_FACTORS).T
    relative = wf_path * rng.uniform(lo[urgency], hi[urgency]) + rng.uniform(0, 2, config.workflows)
    # The arrival span that makes the offered load: all attempts' planned work over workers x span.
    ok = np.isnan(fail_at)
    first_ok = np.where(ok.any(1), ok.argmax(1), config.max_attempts)
    ran = np.where(np.arange(config.max_attempts) < first_ok[:, None], fail_at, 0.0).sum(1) + ok.any(1)
    attempts_work = float((work * ran).sum())
    span = attempts_work / (config.workers * config.load)
    wf_arrival = np.sort(rng.uniform(0, span, config.workflows))  # a Poisson process given its count
    arrival = wf_arrival[wf_of]
    deadline = (wf_arrival + relative)[wf_of] - after
    return Instance(arrival, work, duration, fail_at, deadline, urgency[wf_of], critical_path, parents, children, config.workers,
                    config.backoff)  # fmt: skip
