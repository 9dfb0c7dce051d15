"""MemoryStore: the Store in Python dicts, for tests and throw-away runs (nothing survives the process).

One re-entrant lock makes every call, and every `transaction()`, atomic to other threads. A failure inside a
transaction is not undone: the executor checks before it changes, and a move that does not apply returns
False without changing anything.
"""

import copy
import dataclasses
import itertools
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from scheduler.core.states import check_task_transition, check_workflow_transition
from scheduler.store.base import (
    MOVABLE,
    ORDER_COLUMNS,
    AttemptRecord,
    RunnerRecord,
    TaskRecord,
    TransitionRecord,
    WorkflowRecord,
    open_change,
)

_DUE_STATES = ("deferred", "retrying")


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._workflows: dict[str, WorkflowRecord] = {}
        self._keys: dict[tuple[str, str], str] = {}
        self._tasks: dict[int, TaskRecord] = {}
        self._by_workflow: dict[str, list[int]] = defaultdict(list)
        self._children: dict[int, list[int]] = defaultdict(list)
        self._parents: dict[int, list[int]] = defaultdict(list)
        self._attempts: dict[tuple[int, int], AttemptRecord] = {}
        self._transitions: dict[int, list[TransitionRecord]] = defaultdict(list)
        self._runners: dict[str, RunnerRecord] = {}
        self._pks = itertools.count(1)
        self._seqs = itertools.count(1)
        self._steps = itertools.count(1)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            yield

    def close(self) -> None:
        pass

    # --- workflows -----------------------------------------------------------------------------------

    def add_workflow(
        self, workflow: WorkflowRecord, tasks: list[TaskRecord], parents: list[list[int]], at: float
    ) -> tuple[WorkflowRecord, bool]:
        with self._lock:
            key = (workflow.session, workflow.idempotency_key) if workflow.idempotency_key is not None else None
            if key in self._keys:
                return self._copy(self._workflows[self._keys[key]]), False  # type: ignore[index]
            stored = dataclasses.replace(workflow, seq=next(self._seqs), open_tasks=sum(t.role == "task" for t in tasks))
            self._workflows[stored.id] = stored
            if key is not None:
                self._keys[key] = stored.id
            self._insert(stored.id, tasks, parents, at, "submitted", positional=True)
            return self._copy(stored), True

    def workflow(self, workflow_id: str) -> WorkflowRecord | None:
        with self._lock:
            found = self._workflows.get(workflow_id)
            return None if found is None else self._copy(found)

    def workflow_by_key(self, session: str, key: str) -> WorkflowRecord | None:
        with self._lock:
            found = self._keys.get((session, key))
            return None if found is None else self._copy(self._workflows[found])

    def workflows(self, session: str, offset: int, limit: int) -> tuple[int, list[WorkflowRecord]]:
        with self._lock:
            mine = sorted((w for w in self._workflows.values() if w.session == session), key=lambda w: -w.seq)
            return len(mine), [self._copy(w) for w in mine[offset : offset + limit]]

    def move_workflow(self, workflow_id: str, source: str, target: str, at: float) -> bool:
        check_workflow_transition(source, target)
        with self._lock:
            found = self._workflows.get(workflow_id)
            if found is None or found.state != source:
                return False
            found.state = target
            found.finished_at = None if target == "running" else at
            return True

    # --- tasks ---------------------------------------------------------------------------------------

    def add_tasks(self, workflow: str, tasks: list[TaskRecord], parents: list[list[int]], at: float, reason: str) -> list[TaskRecord]:
        with self._lock:
            return self._insert(workflow, tasks, parents, at, reason)

    def _insert(
        self, workflow: str, tasks: list[TaskRecord], parents: list[list[int]], at: float, reason: str, positional: bool = False
    ) -> list[TaskRecord]:
        """Store `tasks`; `parents[i]` are task i's parents, as positions in `tasks` (positional) or as pks."""
        for task in tasks:
            check_task_transition(None, task.state)
        stored = [
            dataclasses.replace(task, pk=next(self._pks), workflow=workflow, updated_at=at, spec=copy.deepcopy(task.spec)) for task in tasks
        ]
        for record, row in zip(stored, parents):
            for parent in row:
                self._link(stored[parent].pk if positional else parent, record.pk)
        for record in stored:
            self._tasks[record.pk] = record
            self._by_workflow[workflow].append(record.pk)
            self._transitions[record.pk].append(TransitionRecord(record.pk, at, None, record.state, 0, None, reason, next(self._steps)))
        return [self._copy(t) for t in stored]

    def _link(self, parent: int, child: int) -> None:
        self._children[parent].append(child)
        self._parents[child].append(parent)

    def task(self, pk: int) -> TaskRecord | None:
        with self._lock:
            found = self._tasks.get(pk)
            return None if found is None else self._copy(found)

    def tasks(self, workflow: str) -> list[TaskRecord]:
        with self._lock:
            return [self._copy(self._tasks[pk]) for pk in self._by_workflow.get(workflow, [])]

    def tasks_by_job(self, session: str, job_id: int) -> list[TaskRecord]:
        with self._lock:
            found = [t for t in self._tasks.values() if t.session == session and t.job_id == job_id]
            return [self._copy(t) for t in sorted(found, key=lambda t: -t.pk)]

    def edges(self, workflow: str) -> list[tuple[int, int]]:
        with self._lock:
            return [(p, c) for c in self._by_workflow.get(workflow, []) for p in self._parents.get(c, [])]

    def children(self, pk: int) -> list[TaskRecord]:
        with self._lock:
            return [self._copy(self._tasks[c]) for c in self._children.get(pk, [])]

    def parents(self, pk: int) -> list[TaskRecord]:
        with self._lock:
            return [self._copy(self._tasks[p]) for p in self._parents.get(pk, [])]

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
        check_task_transition(source, target)
        if set(fields) - MOVABLE:
            raise ValueError(f"a move may not set {sorted(set(fields) - MOVABLE)}")
        with self._lock:
            task = self._tasks.get(pk)
            if task is None or task.state != source:
                return False
            task.state, task.updated_at = target, at
            self._workflows[task.workflow].open_tasks += open_change(task.role, source, target)
            for name, value in fields.items():
                setattr(task, name, value)
            n = task.attempts if attempt is None else attempt
            self._transitions[pk].append(TransitionRecord(pk, at, source, target, n, worker, reason, next(self._steps)))
            return True

    def ready(self, pool: str, order: tuple[str, ...], limit: int) -> list[TaskRecord]:
        if set(order) - ORDER_COLUMNS:
            raise ValueError(f"unknown order columns {sorted(set(order) - ORDER_COLUMNS)}")
        with self._lock:
            queued = [t for t in self._tasks.values() if t.state == "queued" and t.pool == pool]
            queued.sort(key=lambda t: tuple((getattr(t, c) is None, getattr(t, c) or 0) for c in order) + ((False, t.pk),))
            return [self._copy(t) for t in queued[:limit]]

    def due(self, now: float, limit: int) -> list[TaskRecord]:
        with self._lock:
            found = [t for t in self._tasks.values() if t.state in _DUE_STATES and t.not_before is not None and t.not_before <= now]
            found.sort(key=lambda t: (t.not_before, t.pk))
            return [self._copy(t) for t in found[:limit]]

    def next_due(self) -> float | None:
        with self._lock:
            times = [t.not_before for t in self._tasks.values() if t.state in _DUE_STATES and t.not_before is not None]
            return min(times) if times else None

    def in_state(self, state: str) -> list[TaskRecord]:
        with self._lock:
            return [self._copy(t) for t in self._tasks.values() if t.state == state]

    def states(self, pks: list[int]) -> dict[int, str]:
        with self._lock:
            return {pk: self._tasks[pk].state for pk in pks if pk in self._tasks}

    def dead(self, session: str, offset: int, limit: int) -> tuple[int, list[TaskRecord]]:
        with self._lock:
            found = sorted((t for t in self._tasks.values() if t.session == session and t.state == "dead"), key=lambda t: -t.pk)
            return len(found), [self._copy(t) for t in found[offset : offset + limit]]

    # --- attempts, transitions, runners ----------------------------------------------------------------

    def start_attempt(self, attempt: AttemptRecord) -> None:
        with self._lock:
            self._attempts[(attempt.task, attempt.n)] = dataclasses.replace(attempt)

    def end_attempt(self, task: int, n: int, **fields: Any) -> None:
        with self._lock:
            found = self._attempts.get((task, n))
            if found is not None:
                for name, value in fields.items():
                    setattr(found, name, value)

    def attempt(self, task: int, n: int) -> AttemptRecord | None:
        with self._lock:
            found = self._attempts.get((task, n))
            return None if found is None else dataclasses.replace(found)

    def attempts(self, workflow: str) -> list[AttemptRecord]:
        with self._lock:
            pks = set(self._by_workflow.get(workflow, []))
            return [dataclasses.replace(a) for key, a in sorted(self._attempts.items()) if key[0] in pks]

    def transitions(self, workflow: str) -> list[TransitionRecord]:
        with self._lock:
            return [t for pk in self._by_workflow.get(workflow, []) for t in self._transitions.get(pk, [])]

    def add_runner(self, runner: RunnerRecord) -> None:
        with self._lock:
            self._runners[runner.id] = runner

    def runners(self) -> list[RunnerRecord]:
        with self._lock:
            return list(self._runners.values())

    def heartbeat(self, runner: str, at: float) -> None:
        with self._lock:
            if runner in self._runners:
                self._runners[runner] = dataclasses.replace(self._runners[runner], heartbeat=at)

    def drop_runner(self, runner: str) -> None:
        with self._lock:
            self._runners.pop(runner, None)

    @staticmethod
    def _copy(record: Any) -> Any:
        """Callers get copies: a record they change is not the store's until they move it."""
        return dataclasses.replace(record)
