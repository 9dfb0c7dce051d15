"""What the store keeps, and the interface every store implements.

The store holds rows and moves them; what a move means (which task is ready, what a failure leads to) is
the executor's (scheduler.execution). Every move is a compare-and-set on the task's state, checked
against the state machine (scheduler.core.states) and written with a transition row (time, attempt,
worker, reason), so two runners never both claim one task and no illegal move is ever stored.

Calls made inside `with store.transaction():` commit together or not at all (the memory store: together,
as seen by other threads); a call outside one is its own transaction.
"""

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from scheduler.core.states import TASK_FINAL

ORDER_COLUMNS = frozenset({"pk", "priority", "deadline_at", "expected_s"})
"""Columns a queue order may sort by (scheduler.execution.policies); missing values sort last."""
MOVABLE = frozenset({"attempts", "failures", "not_before", "error"})
"""Task fields a move may set besides the state."""


@dataclass
class WorkflowRecord:
    id: str  # a uuid4, the public id
    session: str  # the X-Session-ID it belongs to
    name: str
    state: str  # WorkflowState
    created_at: float  # executor clock
    finished_at: float | None = None
    idempotency_key: str | None = None
    doc: dict[str, Any] = field(default_factory=dict)  # deadline, seed, scenario, critical path, plan: read-only after submission
    seq: int = 0  # submission order, given by the store
    open_tasks: int = 0  # its tasks (not compensations) not yet in a final state, kept by the store's moves


@dataclass
class TaskRecord:
    workflow: str
    index: int  # position in the workflow (its tasks, then compensations)
    name: str  # the client's task id; compensations: "undo <id>"
    kind: str
    pool: str  # "fast" or "eco": the worker class its when-decision gave it
    state: str
    session: str
    spec: dict[str, Any] = field(default_factory=dict)  # params, retries, timeout_s, trigger, on_rollback, job, placement
    role: str = "task"  # or "compensation"
    compensates: int | None = None  # a compensation: the pk of the task it undoes
    job_id: int | None = None  # the session's job id the placement gave it (a compensation: its task's)
    attempts: int = 0  # attempts started, interrupted ones included: the next is attempts + 1
    failures: int = 0  # failed attempts since submission or the last retry by hand: what max_attempts counts
    not_before: float | None = None  # deferred or retrying: when it may be queued (executor clock)
    deadline_at: float | None = None  # latest finish on the executor clock, for edf
    priority: int = 1  # urgency code (0 critical first), for the priority order
    expected_s: float = 0.0  # planned runtime, for sjf
    error: str | None = None  # the last attempt's error
    updated_at: float = 0.0
    pk: int = 0  # given by the store


@dataclass
class AttemptRecord:
    task: int
    n: int  # 1, 2, ...: the task's attempt number
    worker: str  # e.g. "fast-1", "eco-0"
    runner: str  # the executor instance (scheduler.execution.runners)
    started_at: float
    ended_at: float | None = None
    outcome: str | None = None  # succeeded, failed, timed_out, interrupted, cancelled
    error: str | None = None
    runtime_s: float | None = None  # measured, wall seconds
    energy_kwh: float | None = None  # estimate from measured runtime
    co2_kg: float | None = None  # estimate from measured runtime
    cpu_energy_j: float | None = None  # measured by RAPL, where the machine has it
    result: dict[str, Any] | None = None


@dataclass(frozen=True)
class TransitionRecord:
    task: int
    at: float
    source: str | None  # None: the task was created
    target: str
    attempt: int
    worker: str | None
    reason: str
    seq: int = 0  # the store's order of all transitions: which of two moves at the same clock time came first


@dataclass(frozen=True)
class RunnerRecord:
    id: str
    host: str
    pid: int
    started: str  # the process's start time as the OS gives it (/proc/PID/stat): a reused pid differs
    heartbeat: float  # wall clock


class Store(Protocol):
    """Workflows, tasks, edges, attempts, transitions and runners. Implementations: MemoryStore, SqliteStore."""

    def transaction(self) -> AbstractContextManager[None]: ...

    def close(self) -> None: ...

    # workflows
    def add_workflow(
        self, workflow: WorkflowRecord, tasks: list[TaskRecord], parents: list[list[int]], at: float
    ) -> tuple[WorkflowRecord, bool]:
        """Store a workflow and its tasks (parents: task positions), with a transition for each task's first
        state. When the session already holds a workflow with the same idempotency key, nothing is stored and
        that one comes back with False."""
        ...

    def workflow(self, workflow_id: str) -> WorkflowRecord | None: ...

    def workflow_by_key(self, session: str, key: str) -> WorkflowRecord | None:
        """The session's workflow submitted with this idempotency key."""
        ...

    def workflows(self, session: str, offset: int, limit: int) -> tuple[int, list[WorkflowRecord]]:
        """The session's workflows, newest first, and their count."""
        ...

    def move_workflow(self, workflow_id: str, source: str, target: str, at: float) -> bool: ...

    # tasks
    def add_tasks(self, workflow: str, tasks: list[TaskRecord], parents: list[list[int]], at: float, reason: str) -> list[TaskRecord]:
        """More tasks in a workflow (a rollback's compensations); parents are pks of stored tasks."""
        ...

    def task(self, pk: int) -> TaskRecord | None: ...

    def tasks(self, workflow: str) -> list[TaskRecord]: ...

    def tasks_by_job(self, session: str, job_id: int) -> list[TaskRecord]:
        """The session's tasks with that job id, newest first: a task, then its compensation (which carries its
        job id); a session's job ids start again after a reset, so older workflows may have one too."""
        ...

    def edges(self, workflow: str) -> list[tuple[int, int]]:
        """(parent pk, child pk) of every dependency in the workflow."""
        ...

    def children(self, pk: int) -> list[TaskRecord]: ...

    def parents(self, pk: int) -> list[TaskRecord]: ...

    def move(
        self,
        pk: int,
        source: str,
        target: str,
        at: float,
        reason: str,
        attempt: int | None = None,
        worker: str | None = None,
        **fields: Any,
    ) -> bool:
        """Move the task from `source` to `target` if it is in `source` (False otherwise), setting `fields`
        (MOVABLE), and record the transition; a task (not a compensation) entering or leaving a final state
        changes its workflow's open_tasks. IllegalTransition for a move the state machine forbids."""
        ...

    def ready(self, pool: str, order: tuple[str, ...], limit: int) -> list[TaskRecord]:
        """Up to `limit` queued tasks of the pool, sorted by the ORDER_COLUMNS in `order`."""
        ...

    def due(self, now: float, limit: int) -> list[TaskRecord]:
        """Deferred and retrying tasks whose not_before has come, earliest first."""
        ...

    def next_due(self) -> float | None:
        """The earliest not_before of a deferred or retrying task."""
        ...

    def in_state(self, state: str) -> list[TaskRecord]: ...

    def states(self, pks: list[int]) -> dict[int, str]:
        """The state of each task named (unknown pks are left out)."""
        ...

    def dead(self, session: str, offset: int, limit: int) -> tuple[int, list[TaskRecord]]:
        """The session's dead tasks (the dead-letter list), newest first, and their count."""
        ...

    # attempts and transitions
    def start_attempt(self, attempt: AttemptRecord) -> None: ...

    def end_attempt(self, task: int, n: int, **fields: Any) -> None: ...

    def attempt(self, task: int, n: int) -> AttemptRecord | None: ...

    def attempts(self, workflow: str) -> list[AttemptRecord]: ...

    def transitions(self, workflow: str) -> list[TransitionRecord]: ...

    # runners (scheduler.execution.runners)
    def add_runner(self, runner: RunnerRecord) -> None: ...

    def runners(self) -> list[RunnerRecord]: ...

    def heartbeat(self, runner: str, at: float) -> None: ...

    def drop_runner(self, runner: str) -> None: ...


def open_change(role: str, source: str | None, target: str) -> int:
    """How a move changes its workflow's open_tasks: -1 into a final state, +1 out of one (tasks only; a new
    task is counted when its workflow is stored)."""
    if role != "task" or source is None:
        return 0
    return int(source in TASK_FINAL) - int(target in TASK_FINAL)
