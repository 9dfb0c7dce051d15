"""Queue order: which ready task a free worker takes next, one interface for every policy.

A policy names the columns the store sorts the ready queue by (scheduler.store.base.ORDER_COLUMNS), and may
look at a window of the first candidates to choose among them: the learned dispatcher (its own issue) is a
QueueOrder whose `choose` asks a model, with a window wider than the free slots.
"""

from dataclasses import dataclass

from scheduler.store.base import TaskRecord


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
