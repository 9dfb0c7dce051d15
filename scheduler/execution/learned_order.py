"""The `rl` queue order's brain: the trained dispatcher (rl/dispatcher.py) choosing among real ready tasks.

A task is described as the simulator describes a job (rl.dispatcher.job_features): time to its deadline
(deadline_at on the executor's clock), its planned runtime (expected_s), time since it was queued
(updated_at), its urgency code and its failed attempts. Its remaining critical path is taken as its own
planned runtime: a ready task's dependants are not in the record, and looking them up for every candidate
of every claim would cost a query each (the simulator knows them; see docs/dispatch.md).

Learning on (TASKPILOT_DISPATCHER_LEARN): the choice is sampled from the policy, so it explores, and the
learner is told of every deadline it watched pass unmet (each candidate with a deadline is watched until
then and its end, and read back from the store); every ripe batch of decisions is a REINFORCE step
(rl.dispatcher.OnlineLearner). Learning off, or frozen: the argmax, and nothing is recorded. The weights
learned live in the process; the file is only read.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rl.dispatcher import Dispatcher, OnlineLearner, job_features
from scheduler.core.states import TASK_FINAL
from scheduler.store.base import Store, TaskRecord

SHIPPED_WEIGHTS = Path(__file__).resolve().parents[1] / "dispatch" / "weights" / "dispatcher.npz"
"""`python -m scheduler dispatch train --seed 1` (docs/dispatch.md); a file, so reading it imports nothing."""
TAU_RUNTIMES = 5.0
"""The return's discount time, in mean planned runtimes of the tasks seen (the training's tau)."""
SEED = 0
"""Seed of the exploring choices: a process that sees the same tasks at the same times makes the same choices."""


@dataclass(eq=False)
class LearnedChoice:
    policy: Dispatcher
    now: Callable[[], float]  # the executor's clock
    store: Store | None = None  # where a watched task's outcome is read; None: frozen
    learner: OnlineLearner | None = None
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(SEED))
    watch: dict[int, float] = field(default_factory=dict)  # task pk -> deadline_at, until its deadline has passed
    mean_runtime_s: float = 0.0

    @classmethod
    def load(cls, weights: Path, now: Callable[[], float], store: Store | None, learn: bool, batch: int = 32) -> "LearnedChoice":
        policy = Dispatcher.load(weights)
        learner = OnlineLearner(policy, tau_s=1.0, batch=batch) if learn and store is not None else None
        return cls(policy, now, store if learner else None, learner)

    def choose(self, candidates: list[TaskRecord], free: int) -> list[TaskRecord]:
        if not candidates or free <= 0:
            return []
        now = self.now()
        if self.learner is not None:
            self.observe(candidates)
            self._judge(now)
            self.learner.learn(now)
        x = task_features(candidates, now, free)  # (n_candidates, n_features)
        left, picked = list(range(len(candidates))), []
        for _ in range(min(free, len(candidates))):
            # the queue feature counts the tasks still to choose from, as in the simulator after each start
            rows = x[left] if len(left) == len(x) else task_features([candidates[i] for i in left], now, free)
            chosen, _ = self.policy.act(rows, self.rng if self.learner else None)
            if self.learner is not None:
                self.learner.record(rows, chosen, now)
            picked.append(left.pop(chosen))
        return [candidates[i] for i in picked]

    def _judge(self, now: float) -> None:
        """Tell the learner of every watched deadline that has passed without its task's success, once the task
        has ended (until then it may be a candidate again, and would be watched again)."""
        assert self.store is not None and self.learner is not None
        for pk, deadline in [(pk, d) for pk, d in self.watch.items() if d <= now]:
            task = self.store.task(pk)
            if task is not None and task.state not in TASK_FINAL:
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
            self.learner.tau_s = TAU_RUNTIMES * max(self.mean_runtime_s, 1e-3)


def task_features(tasks: list[TaskRecord], now: float, workers: int) -> np.ndarray:
    deadline = np.array([np.inf if t.deadline_at is None else t.deadline_at for t in tasks])
    work = np.array([t.expected_s for t in tasks])
    return job_features(deadline - now, work, work, now - np.array([t.updated_at for t in tasks]), np.array([t.priority for t in tasks]),
                        np.array([t.failures for t in tasks]), workers)  # fmt: skip
