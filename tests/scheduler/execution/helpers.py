"""Helpers of the execution tests: an executor on a store with a manual clock, workflows submitted without the
service (every task placed on one server, in the pool asked for), and waiting for a condition."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from scheduler.execution.admit import Placement, build_records
from scheduler.execution.clock import ManualClock
from scheduler.execution.executor import Executor, ExecutorConfig
from scheduler.execution.spec import parse_workflow
from scheduler.store.base import Store
from scheduler.store.memory import MemoryStore
from tests.web import gates

HANG_S = 60.0
"""Only turns a hang into a failure: every wait below is for a condition, and returns as soon as it holds."""
TEST_KINDS = "tests.scheduler.execution.kinds_for_tests"


def wait_until(condition: Callable[[], Any], what: str = "condition") -> Any:
    return gates.wait_until(condition, what, HANG_S, poll_s=0.002)


@contextmanager
def running(store: Store | None = None, clock: ManualClock | None = None, **config: Any) -> Iterator[Executor]:
    config = {"pools": {"fast": 2, "eco": 1}, "task_module": TEST_KINDS, "grace_s": 0.0, **config}
    executor = Executor(store or MemoryStore(), clock or ManualClock(), ExecutorConfig(**config))
    executor.start()
    try:
        yield executor
    finally:
        executor.stop()


def submit(executor: Executor, body: dict[str, Any], pools: dict[str, str] | None = None, delays_h: dict[str, float] | None = None,
           seed: int = 7, session: str = "s", scale: float = 1.0) -> str:  # fmt: skip
    spec = parse_workflow(body, 10_000, 16_384)
    places = [Placement(i + 1, "Server 1", (pools or {}).get(t.id, "fast"), (delays_h or {}).get(t.id, 0.0), 100.0)
              for i, t in enumerate(spec.tasks)]  # fmt: skip
    workflow, tasks, parents = build_records(spec, places, session, executor.clock.now(), scale, seed)
    stored, _ = executor.submit(workflow, tasks, parents)
    return stored.id


def states(store: Store, workflow: str) -> dict[str, str]:
    return {t.name: t.state for t in store.tasks(workflow)}


def finished(store: Store, workflow: str) -> bool:
    found = store.workflow(workflow)
    return (
        found is not None
        and found.state != "running"
        and all(t.state in ("succeeded", "dead", "cancelled", "upstream_failed", "rolled_back") for t in store.tasks(workflow))
    )


def reasons(store: Store, workflow: str, task: str) -> list[tuple[str | None, str, str]]:
    pks = {t.pk for t in store.tasks(workflow) if t.name == task}
    return [(t.source, t.target, t.reason) for t in store.transitions(workflow) if t.task in pks]
