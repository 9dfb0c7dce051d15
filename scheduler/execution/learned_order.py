"""The `rl` queue order's brain: the trained dispatcher (rl/dispatcher.py) choosing among real ready tasks.

A task is described as the simulator describes a job (rl.dispatcher.job_features): time to its deadline
(deadline_at on the executor's clock), its planned runtime (expected_s), time since it was queued
(updated_at), its urgency code, its failed attempts, and its remaining critical path (its own planned
runtime and its longest chain of dependants'), computed once per workflow from the store's tasks and edges
and kept for the last PATHS_KEPT workflows.

Learning on (TASKPILOT_DISPATCHER_FROZEN false): the choice is sampled from the policy, so it explores, and the
learner is told of every deadline it watched pass unmet (each candidate with a deadline is watched until
then and its end, and read back from the store); every ripe batch of decisions is a REINFORCE step
(rl.dispatcher.OnlineLearner). Learning off, or frozen: the argmax, and nothing is recorded. The weights
learned live in the process; the file is only read.
"""

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rl.dispatcher import DISCOUNT_TIME, Dispatcher, OnlineLearner, job_features
from scheduler.core.states import TASK_FINAL
from scheduler.store.base import Store, TaskRecord

SHIPPED_WEIGHTS = Path(__file__).resolve().parents[1] / "dispatch" / "weights" / "dispatcher.npz"
"""`python -m scheduler dispatch train --seed 1` (docs/dispatch.md); a file, so reading it imports nothing."""
JUDGED_PER_PASS = 64
"""Overdue watched tasks whose state one pass reads from the store (_judge)."""
PATHS_KEPT = 256
"""Workflows whose critical paths are kept: a claim reads a workflow's tasks and edges only when it is new."""
SEED = 0
"""Seed of the exploring choices: a process that sees the same tasks at the same times makes the same choices."""


@dataclass(eq=False)
class LearnedChoice:
    policy: Dispatcher
    now: Callable[[], float]  # the executor's clock
    store: Store | None = None  # where workflows (critical paths) and watched outcomes are read
    learner: OnlineLearner | None = None
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(SEED))
    watch: dict[int, float] = field(default_factory=dict)  # task pk -> deadline_at, until its deadline has passed
    mean_runtime_s: float = 0.0
    paths: OrderedDict[str, dict[int, float]] = field(default_factory=OrderedDict)  # workflow -> task pk -> critical path s

    @classmethod
    def load(cls, weights: Path, now: Callable[[], float], store: Store | None, learn: bool, batch: int = 32) -> "LearnedChoice":
        policy = Dispatcher.load(weights)
        learner = OnlineLearner(policy, tau_s=1.0, batch=batch) if learn and store is not None else None
        return cls(policy, now, store, learner)

    def choose(self, candidates: list[TaskRecord], free: int) -> list[TaskRecord]:
        if not candidates or free <= 0:
            return []
        now = self.now()
        if self.learner is not None:
            self.observe(candidates)
            self._judge(now)
            self.learner.learn(now)
        paths = self.critical_paths(candidates)  # (n_candidates,)
        x = task_features(candidates, paths, now, free)  # (n_candidates, n_features)
        left, picked = list(range(len(candidates))), []
        for _ in range(min(free, len(candidates))):
            # the queue feature counts the tasks still to choose from, as in the simulator after each start
            rows = x[left] if len(left) == len(x) else task_features([candidates[i] for i in left], paths[left], now, free)
            chosen, _ = self.policy.act(rows, self.rng if self.learner else None)
            if self.learner is not None:
                self.learner.record(rows, chosen, now)
            picked.append(left.pop(chosen))
        return [candidates[i] for i in picked]

    def critical_paths(self, tasks: list[TaskRecord]) -> np.ndarray:
        """Each task's planned runtime plus its longest chain of dependants' (its own runtime without a store)."""
        out = np.array([t.expected_s for t in tasks])
        if self.store is None:
            return out
        for i, t in enumerate(tasks):
            known = self.paths.get(t.workflow)
            if known is None or t.pk not in known:  # new, or grown since (a rollback's compensations)
                known = self.paths[t.workflow] = _workflow_paths(self.store, t.workflow)
                if len(self.paths) > PATHS_KEPT:
                    self.paths.popitem(last=False)
            self.paths.move_to_end(t.workflow)
            out[i] = known.get(t.pk, t.expected_s)
        return out

    def _judge(self, now: float) -> None:
        """Tell the learner of every watched deadline that has passed without its task's success, once the task
        has ended (until then it may be a candidate again, and would be watched again)."""
        assert self.store is not None and self.learner is not None
        # At most JUDGED_PER_PASS reads of the store per pass: on a late queue every watched task is overdue,
        # and reading each of them on every pass made a pass's cost grow with the queue. One still running
        # goes to the back of the line, so the others are read first next time.
        overdue = [(pk, d) for pk, d in self.watch.items() if d <= now][:JUDGED_PER_PASS]
        for pk, deadline in overdue:
            task = self.store.task(pk)
            if task is not None and task.state not in TASK_FINAL:
                self.watch[pk] = self.watch.pop(pk)
                continue
            del self.watch[pk]
            if task is None or task.state == "cancelled":
                continue
            if not (task.state == "succeeded" and task.updated_at <= deadline):
                self.learner.missed(deadline)

    def observe(self, candidates: list[TaskRecord]) -> None:
        """Watch the candidates' deadlines, and follow their runtimes (the return's time scale)."""
        for t in candidates:
            if t.deadline_at is not None:
                self.watch.setdefault(t.pk, t.deadline_at)
        mean = float(np.mean([t.expected_s for t in candidates]))
        self.mean_runtime_s = mean if not self.mean_runtime_s else 0.9 * self.mean_runtime_s + 0.1 * mean
        if self.learner is not None:
            self.learner.tau_s = DISCOUNT_TIME * max(self.mean_runtime_s, 1e-3)


def _workflow_paths(store: Store, workflow: str) -> dict[int, float]:
    """Task pk -> its planned runtime plus the longest planned chain of its dependants (a DAG: no cycle)."""
    work = {t.pk: t.expected_s for t in store.tasks(workflow)}
    children: dict[int, list[int]] = {pk: [] for pk in work}
    for parent, child in store.edges(workflow):
        children.setdefault(parent, []).append(child)
    paths: dict[int, float] = {}
    for root in work:  # iterative post-order: a workflow may hold thousands of tasks in one chain
        stack = [(root, False)]
        while stack:
            pk, expanded = stack.pop()
            if pk in paths:
                continue
            if expanded:
                paths[pk] = work.get(pk, 0.0) + max((paths[c] for c in children.get(pk, [])), default=0.0)
                continue
            stack.append((pk, True))
            stack.extend((c, False) for c in children.get(pk, []) if c not in paths)
    return paths


def task_features(tasks: list[TaskRecord], critical_paths: np.ndarray, now: float, workers: int) -> np.ndarray:
    deadline = np.array([np.inf if t.deadline_at is None else t.deadline_at for t in tasks])
    work = np.array([t.expected_s for t in tasks])
    waiting = now - np.array([t.updated_at for t in tasks])
    priority, failures = np.array([t.priority for t in tasks]), np.array([t.failures for t in tasks])
    return job_features(deadline - now, work, critical_paths, waiting, priority, failures, workers)
