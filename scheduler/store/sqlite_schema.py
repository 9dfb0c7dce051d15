"""The SQLite store's file format: its tables, its indexes, the step from each older version, and how rows
become records.

Indexes are what every write pays for (each index a row touches is another page in the WAL), so a state is
indexed only where a query looks for it: the ready queue (queued, by pool), the due tasks (deferred and
retrying, by time), the running tasks (recovery after a crash) and the dead ones (the dead-letter list). Version 1
indexed every task's state; version 2 keeps those partial indexes instead, and a version-1 file is migrated
in place when it is opened.
"""

import sqlite3
from typing import Any

import orjson

from scheduler.store.base import AttemptRecord, TaskRecord, WorkflowRecord

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE workflows (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, session TEXT NOT NULL, name TEXT NOT NULL,
    state TEXT NOT NULL, created_at REAL NOT NULL, finished_at REAL, idem_key TEXT, doc TEXT NOT NULL, open_tasks INTEGER NOT NULL);
CREATE UNIQUE INDEX workflows_key ON workflows(session, idem_key) WHERE idem_key IS NOT NULL;
CREATE INDEX workflows_session ON workflows(session, seq);
CREATE TABLE tasks (pk INTEGER PRIMARY KEY, workflow TEXT NOT NULL, idx INTEGER NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
    pool TEXT NOT NULL, state TEXT NOT NULL, session TEXT NOT NULL, spec TEXT NOT NULL, role TEXT NOT NULL, compensates INTEGER,
    job_id INTEGER, attempts INTEGER NOT NULL, failures INTEGER NOT NULL, not_before REAL, deadline_at REAL, priority INTEGER NOT NULL,
    expected_s REAL NOT NULL, error TEXT, updated_at REAL NOT NULL);
CREATE INDEX tasks_workflow ON tasks(workflow, pk);
CREATE INDEX tasks_queued ON tasks(pool, pk) WHERE state = 'queued';
CREATE INDEX tasks_due ON tasks(not_before) WHERE state IN ('deferred', 'retrying');
CREATE INDEX tasks_running ON tasks(pk) WHERE state = 'running';
CREATE INDEX tasks_dead ON tasks(session, pk) WHERE state = 'dead';
CREATE INDEX tasks_job ON tasks(session, job_id);
CREATE TABLE edges (parent INTEGER NOT NULL, child INTEGER NOT NULL, PRIMARY KEY (parent, child)) WITHOUT ROWID;
CREATE INDEX edges_child ON edges(child, parent);
CREATE TABLE attempts (task INTEGER NOT NULL, n INTEGER NOT NULL, worker TEXT NOT NULL, runner TEXT NOT NULL, started_at REAL NOT NULL,
    ended_at REAL, outcome TEXT, error TEXT, runtime_s REAL, energy_kwh REAL, co2_kg REAL, cpu_energy_j REAL, result TEXT,
    PRIMARY KEY (task, n)) WITHOUT ROWID;
CREATE TABLE transitions (id INTEGER PRIMARY KEY, task INTEGER NOT NULL, at REAL NOT NULL, source TEXT, target TEXT NOT NULL,
    attempt INTEGER NOT NULL, worker TEXT, reason TEXT NOT NULL);
CREATE INDEX transitions_task ON transitions(task, id);
CREATE TABLE runners (id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, started TEXT NOT NULL, heartbeat REAL NOT NULL);
"""
MIGRATIONS = {
    1: (
        "DROP INDEX tasks_state",
        "CREATE INDEX tasks_running ON tasks(pk) WHERE state = 'running'",
        "CREATE INDEX tasks_dead ON tasks(session, pk) WHERE state = 'dead'",
    ),
}
"""Version -> the statements that take a file of that version to the next."""

WF_COLS = "id, session, name, state, created_at, finished_at, idem_key, doc, seq, open_tasks"
TASK_COLS = (
    "workflow, idx, name, kind, pool, state, session, spec, role, compensates, job_id, attempts, failures, not_before, deadline_at, "
    "priority, expected_s, error, updated_at, pk"
)
ATTEMPT_COLS = "task, n, worker, runner, started_at, ended_at, outcome, error, runtime_s, energy_kwh, co2_kg, cpu_energy_j, result"
NULLABLE_ORDER = frozenset({"deadline_at"})
"""The queue-order columns (scheduler.store.base.ORDER_COLUMNS) that may be NULL."""
ATTEMPT_FIELDS = frozenset(ATTEMPT_COLS.split(", ")) - {"task", "n"}


def prepare(db: sqlite3.Connection, path: str) -> None:
    """Create the tables in a new file, or bring an older one to SCHEMA_VERSION (call inside a transaction)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == 0:
        statements: tuple[str, ...] = tuple(s for s in SCHEMA.split(";") if s.strip())
    elif version > SCHEMA_VERSION or any(v not in MIGRATIONS for v in range(version, SCHEMA_VERSION)):
        raise RuntimeError(f"{path}: schema version {version}, this TaskPilot reads {SCHEMA_VERSION}")
    else:
        statements = tuple(s for v in range(version, SCHEMA_VERSION) for s in MIGRATIONS[v])
    for statement in statements:  # one by one: executescript would commit the open transaction
        db.execute(statement)
    if version != SCHEMA_VERSION:
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def workflow_of(row: tuple[Any, ...]) -> WorkflowRecord:
    return WorkflowRecord(*row[:7], doc=orjson.loads(row[7]), seq=row[8], open_tasks=row[9])


def task_of(row: tuple[Any, ...]) -> TaskRecord:
    return TaskRecord(*row[:7], orjson.loads(row[7]), *row[8:])


def attempt_of(row: tuple[Any, ...]) -> AttemptRecord:
    return AttemptRecord(*row[:12], None if row[12] is None else orjson.loads(row[12]))
