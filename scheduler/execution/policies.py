"""Queue order: which ready task a free worker takes next, one interface for every policy.

A policy names the columns the store sorts the ready queue by (scheduler.store.base.ORDER_COLUMNS), and may
look at a window of the first candidates to choose among them: the learned dispatcher (`rl`, docs/dispatch.md)
is a QueueOrder whose `choose` asks a model (learned_order.py), with a window wider than the free slots.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scheduler.execution.learned_order import SHIPPED_WEIGHTS, LearnedChoice
from scheduler.store.base import Store, TaskRecord


@dataclass(frozen=True)
class QueueOrder:
    name: str
    columns: tuple[str, ...]
    description: str
    window: int = 1
    """Candidates fetched per free slot for `choose` to pick from."""

    def choose(self, candidates: list[TaskRecord], free: int) -> list[TaskRecord]:
        """The tasks to start now, at most `free`, from candidates in the store's order."""
        return candidates[:free]


ORDERS: dict[str, QueueOrder] = {
    "fifo": QueueOrder("fifo", ("pk",), "submission order"),
    "priority": QueueOrder("priority", ("priority", "pk"), "critical urgency first, then normal, then flexible; submission order within"),
    "edf": QueueOrder("edf", ("deadline_at", "pk"), "earliest deadline first; tasks without one last"),
    "sjf": QueueOrder("sjf", ("expected_s", "pk"), "shortest planned runtime first"),
}

RL_WINDOW = 16
"""rl looks at the 16 oldest ready tasks per free worker: wide enough to pass over a long task for a short or
urgent one, and the oldest are always among the candidates, so none waits unseen."""


@dataclass(frozen=True)
class LearnedOrder(QueueOrder):
    brain: LearnedChoice | None = None

    def choose(self, candidates: list[TaskRecord], free: int) -> list[TaskRecord]:
        return candidates[:free] if self.brain is None else self.brain.choose(candidates, free)


def queue_order(name: str, weights: Path | None = None, now: Callable[[], float] | None = None, store: Store | None = None,
                learn: bool = False) -> QueueOrder:  # fmt: skip
    """The order a setting names: one of ORDERS, or rl with its weights file (None: the shipped one), learning from
    the store's outcomes unless frozen."""
    if name != "rl":
        return ORDERS[name]
    if now is None:
        raise ValueError("the rl queue order needs the executor's clock")
    brain = LearnedChoice.load(weights or SHIPPED_WEIGHTS, now, store, learn)
    return LearnedOrder("rl", ("pk",), "the learned dispatcher's pick among the oldest ready tasks", RL_WINDOW, brain)
