"""SqliteStore: the Store in one SQLite file (the standard library's sqlite3, no ORM), or ':memory:'.

WAL mode, so readers (GET /workflows, `python -m scheduler status`, another process) never wait for the
writer, and synchronous=NORMAL: a commit is in the WAL before the call returns, which a killed process (kill
-9) cannot undo; a power cut may lose the last commits (use FULL for that, at an fsync per commit). One
connection per store, shared by the executor and the request threads behind a re-entrant lock; a
transaction is BEGIN IMMEDIATE .. COMMIT, so another process writing the same file waits (busy_timeout)
rather than failing.
"""

import sqlite3
import threading
from pathlib import Path
from typing import Any

import orjson

from scheduler.core.states import TaskState, check_task_transition, check_workflow_transition
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
from scheduler.store.sqlite_connection import Checkpointer, Transaction
from scheduler.store.sqlite_schema import (
    ATTEMPT_COLS,
    ATTEMPT_FIELDS,
    NULLABLE_ORDER,
    TASK_COLS,
    WF_COLS,
    attempt_of,
    prepare,
    task_of,
    workflow_of,
)

PAGE_SIZE = 2048


class SqliteStore:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30.0)
        self._lock = threading.RLock()
        self._transaction = Transaction(self._db, self._lock)
        # Each commit writes every page it touched into the WAL; a submission touches about nine (the workflow,
        # the task, the transition and their indexes), most of them to add one small row. Pages of 2 KiB halve
        # what a commit writes; 10,000 submissions ran 15-25 % faster than with 4 KiB (docs/speed.md). It only
        # takes effect in a new file (before the WAL header is written); an existing file keeps its page size.
        self._db.execute(f"PRAGMA page_size={PAGE_SIZE}")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=OFF")
        with self.transaction():
            prepare(self._db, self.path)
        self._checkpointer: Checkpointer | None = None
        if self.path != ":memory:":
            self._db.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's job, off the committing thread
            self._checkpointer = Checkpointer(self.path)
            self._checkpointer.start()

    def transaction(self) -> Transaction:
        return self._transaction

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.halt.set()
            self._checkpointer.join()
        with self._lock:
            self._db.close()  # the last connection to close checkpoints the whole WAL

    # --- workflows -----------------------------------------------------------------------------------

    def add_workflow(
        self, workflow: WorkflowRecord, tasks: list[TaskRecord], parents: list[list[int]], at: float
    ) -> tuple[WorkflowRecord, bool]:
        with self.transaction():
            if workflow.idempotency_key is not None:
                rows = self._all(
                    f"SELECT {WF_COLS} FROM workflows WHERE session=? AND idem_key=?", (workflow.session, workflow.idempotency_key)
                )
                if rows:
                    return workflow_of(rows[0]), False
            w, n_open = workflow, sum(t.role == "task" for t in tasks)
            cursor = self._db.execute(
                f"INSERT INTO workflows ({WF_COLS.replace(', seq', '')}) VALUES ({', '.join('?' * 9)})",
                (w.id, w.session, w.name, w.state, w.created_at, w.finished_at, w.idempotency_key, orjson.dumps(w.doc), n_open),
            )
            stored = WorkflowRecord(
                w.id, w.session, w.name, w.state, w.created_at, w.finished_at, w.idempotency_key, w.doc, cursor.lastrowid, n_open
            )
            self._insert(w.id, tasks, parents, at, "submitted", positional=True)
        return stored, True

    def workflow(self, workflow_id: str) -> WorkflowRecord | None:
        rows = self._all(f"SELECT {WF_COLS} FROM workflows WHERE id=?", (workflow_id,))
        return workflow_of(rows[0]) if rows else None

    def workflow_by_key(self, session: str, key: str) -> WorkflowRecord | None:
        rows = self._all(f"SELECT {WF_COLS} FROM workflows WHERE session=? AND idem_key=?", (session, key))
        return workflow_of(rows[0]) if rows else None

    def workflows(self, session: str, offset: int, limit: int) -> tuple[int, list[WorkflowRecord]]:
        with self._lock:
            total = self._all("SELECT count(*) FROM workflows WHERE session=?", (session,))[0][0]
            rows = self._all(
                f"SELECT {WF_COLS} FROM workflows WHERE session=? ORDER BY seq DESC LIMIT ? OFFSET ?", (session, limit, offset)
            )
        return total, [workflow_of(r) for r in rows]

    def move_workflow(self, workflow_id: str, source: str, target: str, at: float) -> bool:
        check_workflow_transition(source, target)
        finished = None if target == "running" else at
        with self._lock:
            cursor = self._db.execute(
                "UPDATE workflows SET state=?, finished_at=? WHERE id=? AND state=?", (target, finished, workflow_id, source)
            )
        return cursor.rowcount == 1

    # --- tasks ---------------------------------------------------------------------------------------

    def add_tasks(self, workflow: str, tasks: list[TaskRecord], parents: list[list[int]], at: float, reason: str) -> list[TaskRecord]:
        with self.transaction():
            return self._insert(workflow, tasks, parents, at, reason)

    def _insert(
        self, workflow: str, tasks: list[TaskRecord], parents: list[list[int]], at: float, reason: str, positional: bool = False
    ) -> list[TaskRecord]:
        for task in tasks:
            check_task_transition(None, task.state)
        stored = []
        for t in tasks:
            cursor = self._db.execute(
                f"INSERT INTO tasks ({TASK_COLS.removesuffix(', pk')}) VALUES ({', '.join('?' * 19)})",
                (workflow, t.index, t.name, t.kind, t.pool, t.state, t.session, orjson.dumps(t.spec), t.role, t.compensates, t.job_id,
                 t.attempts, t.failures, t.not_before, t.deadline_at, t.priority, t.expected_s, t.error, at),
            )  # fmt: skip
            stored.append(TaskRecord(**{**t.__dict__, "workflow": workflow, "updated_at": at, "pk": cursor.lastrowid}))
        links = [(stored[p].pk if positional else p, child.pk) for child, row in zip(stored, parents) for p in row]
        self._db.executemany("INSERT OR IGNORE INTO edges (parent, child) VALUES (?, ?)", links)
        self._db.executemany(
            "INSERT INTO transitions (task, at, source, target, attempt, worker, reason) VALUES (?, ?, NULL, ?, 0, NULL, ?)",
            [(t.pk, at, t.state, reason) for t in stored],
        )
        return stored

    def task(self, pk: int) -> TaskRecord | None:
        rows = self._all(f"SELECT {TASK_COLS} FROM tasks WHERE pk=?", (pk,))
        return task_of(rows[0]) if rows else None

    def tasks(self, workflow: str) -> list[TaskRecord]:
        return [task_of(r) for r in self._all(f"SELECT {TASK_COLS} FROM tasks WHERE workflow=? ORDER BY pk", (workflow,))]

    def tasks_by_job(self, session: str, job_id: int) -> list[TaskRecord]:
        rows = self._all(f"SELECT {TASK_COLS} FROM tasks WHERE session=? AND job_id=? ORDER BY pk DESC", (session, job_id))
        return [task_of(r) for r in rows]

    def edges(self, workflow: str) -> list[tuple[int, int]]:
        sql = "SELECT e.parent, e.child FROM edges e JOIN tasks t ON t.pk = e.child WHERE t.workflow=? ORDER BY e.child, e.parent"
        return [(p, c) for p, c in self._all(sql, (workflow,))]

    def children(self, pk: int) -> list[TaskRecord]:
        rows = self._all(f"SELECT {TASK_COLS} FROM tasks WHERE pk IN (SELECT child FROM edges WHERE parent=?) ORDER BY pk", (pk,))
        return [task_of(r) for r in rows]

    def parents(self, pk: int) -> list[TaskRecord]:
        rows = self._all(f"SELECT {TASK_COLS} FROM tasks WHERE pk IN (SELECT parent FROM edges WHERE child=?) ORDER BY pk", (pk,))
        return [task_of(r) for r in rows]

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
        sets = "".join(f", {name}=?" for name in fields)
        with self.transaction():
            found = self._db.execute(
                f"UPDATE tasks SET state=?, updated_at=?{sets} WHERE pk=? AND state=? RETURNING attempts, role, workflow",
                (target, at, *fields.values(), pk, source),
            ).fetchall()
            if not found:
                return False
            [(n, role, workflow)] = found
            if change := open_change(role, source, target):
                self._db.execute("UPDATE workflows SET open_tasks = open_tasks + ? WHERE id=?", (change, workflow))
            self._db.execute(
                "INSERT INTO transitions (task, at, source, target, attempt, worker, reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (pk, at, source, target, n if attempt is None else attempt, worker, reason),
            )
        return True

    def ready(self, pool: str, order: tuple[str, ...], limit: int) -> list[TaskRecord]:
        if set(order) - ORDER_COLUMNS:
            raise ValueError(f"unknown order columns {sorted(set(order) - ORDER_COLUMNS)}")
        # Only a nullable column needs its NULLs sorted last; a plain `ORDER BY pk` (fifo) walks the tasks_queued
        # index instead of sorting every queued task on each claim.
        terms = [f"{c} IS NULL, {c}" if c in NULLABLE_ORDER else c for c in order]
        by = ", ".join(terms + ([] if "pk" in order else ["pk"]))
        rows = self._all(f"SELECT {TASK_COLS} FROM tasks WHERE state='queued' AND pool=? ORDER BY {by} LIMIT ?", (pool, limit))
        return [task_of(r) for r in rows]

    def due(self, now: float, limit: int) -> list[TaskRecord]:
        sql = f"SELECT {TASK_COLS} FROM tasks WHERE state IN ('deferred', 'retrying') AND not_before <= ? ORDER BY not_before, pk LIMIT ?"
        return [task_of(r) for r in self._all(sql, (now, limit))]

    def next_due(self) -> float | None:
        return self._all("SELECT min(not_before) FROM tasks WHERE state IN ('deferred', 'retrying')")[0][0]

    def in_state(self, state: str) -> list[TaskRecord]:
        state = TaskState(state).value  # a literal in the query, so the partial index of its state (if any) is used
        return [task_of(r) for r in self._all(f"SELECT {TASK_COLS} FROM tasks WHERE state='{state}' ORDER BY pk")]

    def states(self, pks: list[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        for start in range(0, len(pks), 500):  # SQLite's variable limit
            chunk = pks[start : start + 500]
            found.update(self._all(f"SELECT pk, state FROM tasks WHERE pk IN ({', '.join('?' * len(chunk))})", tuple(chunk)))
        return found

    def dead(self, session: str, offset: int, limit: int) -> tuple[int, list[TaskRecord]]:
        with self._lock:
            total = self._all("SELECT count(*) FROM tasks WHERE session=? AND state='dead'", (session,))[0][0]
            sql = f"SELECT {TASK_COLS} FROM tasks WHERE session=? AND state='dead' ORDER BY pk DESC LIMIT ? OFFSET ?"
            rows = self._all(sql, (session, limit, offset))
        return total, [task_of(r) for r in rows]

    # --- attempts, transitions, runners ----------------------------------------------------------------

    def start_attempt(self, attempt: AttemptRecord) -> None:
        a = attempt
        result = None if a.result is None else orjson.dumps(a.result)
        values = (a.task, a.n, a.worker, a.runner, a.started_at, a.ended_at, a.outcome, a.error, a.runtime_s, a.energy_kwh, a.co2_kg,
                  a.cpu_energy_j, result)  # fmt: skip
        with self.transaction():
            self._db.execute(f"INSERT OR REPLACE INTO attempts ({ATTEMPT_COLS}) VALUES ({', '.join('?' * 13)})", values)

    def end_attempt(self, task: int, n: int, **fields: Any) -> None:
        if set(fields) - ATTEMPT_FIELDS:
            raise ValueError(f"an attempt has no {sorted(set(fields) - ATTEMPT_FIELDS)}")
        if "result" in fields and fields["result"] is not None:
            fields["result"] = orjson.dumps(fields["result"])
        sets = ", ".join(f"{name}=?" for name in fields)
        with self.transaction():
            self._db.execute(f"UPDATE attempts SET {sets} WHERE task=? AND n=?", (*fields.values(), task, n))

    def attempt(self, task: int, n: int) -> AttemptRecord | None:
        rows = self._all(f"SELECT {ATTEMPT_COLS} FROM attempts WHERE task=? AND n=?", (task, n))
        return attempt_of(rows[0]) if rows else None

    def attempts(self, workflow: str) -> list[AttemptRecord]:
        sql = f"SELECT {ATTEMPT_COLS} FROM attempts WHERE task IN (SELECT pk FROM tasks WHERE workflow=?) ORDER BY task, n"
        return [attempt_of(r) for r in self._all(sql, (workflow,))]

    def transitions(self, workflow: str) -> list[TransitionRecord]:
        sql = (
            "SELECT task, at, source, target, attempt, worker, reason, id FROM transitions "
            "WHERE task IN (SELECT pk FROM tasks WHERE workflow=?) ORDER BY task, id"
        )
        return [TransitionRecord(*r) for r in self._all(sql, (workflow,))]

    def add_runner(self, runner: RunnerRecord) -> None:
        with self.transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO runners VALUES (?, ?, ?, ?, ?)",
                (runner.id, runner.host, runner.pid, runner.started, runner.heartbeat),
            )

    def runners(self) -> list[RunnerRecord]:
        return [RunnerRecord(*r) for r in self._all("SELECT id, host, pid, started, heartbeat FROM runners")]

    def heartbeat(self, runner: str, at: float) -> None:
        with self.transaction():
            self._db.execute("UPDATE runners SET heartbeat=? WHERE id=?", (at, runner))

    def drop_runner(self, runner: str) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM runners WHERE id=?", (runner,))
