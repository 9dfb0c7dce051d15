"""The SQLite file's own machinery: a version-1 file is migrated in place and keeps its rows, a newer file is
refused, the checkpointer moves the WAL into the database file and stops with the store, and a transaction that
fails to commit leaves the store usable."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from scheduler.store.base import TaskRecord, WorkflowRecord
from scheduler.store.sqlite import SqliteStore
from scheduler.store.sqlite_schema import SCHEMA, SCHEMA_VERSION
from tests.scheduler.execution.helpers import wait_until

V1_INDEXES = SCHEMA.replace(
    "CREATE INDEX tasks_running ON tasks(pk) WHERE state = 'running';\nCREATE INDEX tasks_dead ON tasks(session, pk) WHERE state = 'dead';",
    "CREATE INDEX tasks_state ON tasks(state);",
)


def _indexes(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'tasks_%'")}
    finally:
        db.close()


def _add(store: SqliteStore, wid: str, state: str = "queued") -> None:
    task = TaskRecord("", 0, "t0", "sleep", "fast", state, "s", spec={"params": {"seconds": 0}})
    store.add_workflow(WorkflowRecord(wid, "s", "demo", "running", 1.0), [task], [[]], 1.0)


def test_a_version_1_file_is_migrated_in_place_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    assert "tasks_state" in V1_INDEXES  # the replacement above found its text: this really is version 1's index set
    db = sqlite3.connect(path)
    for statement in V1_INDEXES.split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("PRAGMA user_version=1")
    db.execute(
        "INSERT INTO workflows (id, session, name, state, created_at, doc, open_tasks) VALUES ('w1', 's', 'old', 'running', 1.0, '{}', 1)"
    )
    db.execute(
        "INSERT INTO tasks (workflow, idx, name, kind, pool, state, session, spec, role, attempts, failures, priority, expected_s, "
        "updated_at) VALUES ('w1', 0, 't0', 'sleep', 'fast', 'running', 's', '{}', 'task', 1, 0, 1, 0.0, 1.0)"
    )
    db.commit()
    db.close()
    store = SqliteStore(path)
    try:
        assert [t.name for t in store.in_state("running")] == ["t0"]
        assert store.workflow("w1") is not None
    finally:
        store.close()
    indexes = _indexes(path)
    assert "tasks_state" not in indexes and {"tasks_running", "tasks_dead"} <= indexes
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    check.close()


def test_a_file_from_a_newer_taskpilot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(RuntimeError, match=f"schema version {SCHEMA_VERSION + 1}"):
        SqliteStore(path)


def test_the_checkpointer_moves_the_wal_into_the_file_and_stops_with_the_store(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    store = SqliteStore(path)
    checkpointer = store._checkpointer
    assert checkpointer is not None and checkpointer.is_alive()
    token = "a-workflow-only-the-wal-holds"
    try:
        _add(store, token)
        # Read as bytes, not through SQLite: any connection could checkpoint by itself.
        wait_until(lambda: token.encode() in path.read_bytes(), "the committed row copied from the WAL into the database file")
    finally:
        store.close()
    assert not checkpointer.is_alive()


def test_the_store_is_usable_after_a_commit_that_failed(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "f.db")
    other = sqlite3.connect(tmp_path / "f.db", isolation_level=None, timeout=0.0)
    try:
        with store.transaction():
            _add(store, "w1")
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock: this store's next BEGIN waits, then fails
        store._db.execute("PRAGMA busy_timeout=0")
        with pytest.raises(sqlite3.OperationalError), store.transaction():
            _add(store, "w2")
        other.execute("ROLLBACK")
        _add(store, "w3")
        assert store.workflow("w1") is not None and store.workflow("w2") is None and store.workflow("w3") is not None
    finally:
        other.close()
        store.close()
