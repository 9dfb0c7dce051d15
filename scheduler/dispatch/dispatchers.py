"""The dispatchers compared: FIFO, priority, EDF, SJF (sort keys) and the learned one (rl/dispatcher.py).

Every heuristic breaks ties by submission order (the job's number), as the executor's orders break them
by the task's pk, so FIFO is the last key of each.
"""

from dataclasses import dataclass, field

import numpy as np

from rl.dispatcher import Decisions, Dispatcher, job_features
from scheduler.dispatch.simulator import Queue

HEURISTICS = ("fifo", "priority", "edf", "sjf")
BASELINES = ("fifo", "priority", "sjf")
"""The dispatchers the goal is measured against (EDF is the reference where it is optimal)."""


@dataclass(frozen=True)
class SortDispatcher:
    name: str

    def pick(self, queue: Queue) -> int:
        r = queue.ready
        if self.name == "fifo":
            return int(np.argmin(r))
        key = {"priority": queue.instance.priority, "edf": queue.instance.deadline, "sjf": queue.instance.work}[self.name][r]
        return int(np.lexsort((r, key))[0])  # lexsort sorts by the last key first: the job number breaks ties


def queue_features(queue: Queue) -> np.ndarray:
    """The learned dispatcher's view of the ready queue, (queue_len, n_features)."""
    r, inst, now = queue.ready, queue.instance, queue.now
    return job_features(inst.deadline[r] - now, inst.work[r], inst.critical_path[r], now - queue.ready_since[r], inst.priority[r],
                        queue.failures[r], inst.workers)  # fmt: skip


@dataclass
class LearnedDispatcher:
    """Greedy (argmax) without rng; with rng it samples and records every decision for REINFORCE."""

    policy: Dispatcher
    rng: np.random.Generator | None = None
    decisions: Decisions = field(default_factory=Decisions)
    name: str = "rl"

    def pick(self, queue: Queue) -> int:
        if len(queue.ready) == 1:  # no choice, nothing to learn
            return 0
        x = queue_features(queue)
        chosen, _ = self.policy.act(x, self.rng)
        if self.rng is not None:
            self.decisions.add(x, chosen, queue.now)
        return chosen


def heuristic(name: str) -> SortDispatcher:
    if name not in HEURISTICS:
        raise ValueError(f"unknown dispatcher {name!r}; known: {', '.join(HEURISTICS)}, rl")
    return SortDispatcher(name)
