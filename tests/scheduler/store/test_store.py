"""Both stores keep the same things the same way: workflows with their tasks and edges, idempotency keys,
compare-and-set moves checked against the state machine and written with their transition, the ready queue
in each order, due times, the dead-letter list, attempts and runners. SQLite's own: WAL, a reopened file
holds everything, a failed transaction leaves nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from scheduler.core.errors import IllegalTransition
from scheduler.store.base import AttemptRecord, RunnerRecord, Store, TaskRecord, WorkflowRecord
from scheduler.store.factory import open_store
from scheduler.store.memory import MemoryStore
from scheduler.store.sqlite import SqliteStore


@pytest.fixture(params=["memory", "sqlite-memory", "sqlite-file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = {
        "memory": MemoryStore,
        "sqlite-memory": lambda: SqliteStore(":memory:"),
        "sqlite-file": lambda: SqliteStore(tmp_path / "t.db"),
    }[request.param]()
    yield made
    made.close()


def wf(wid: str = "w1", session: str = "s", key: str | None = None) -> WorkflowRecord:
    return WorkflowRecord(wid, session, "demo", "running", 10.0, idempotency_key=key, doc={"seed": 3})


def task(i: int, state: str = "pending", pool: str = "fast", session: str = "s", **kw: object) -> TaskRecord:
    return TaskRecord("", i, f"t{i}", "sleep", pool, state, session, spec={"params": {"seconds": i}}, job_id=i + 1, **kw)  # type: ignore[arg-type]


def add(store: Store, wid: str = "w1", n: int = 3, **kw: object) -> list[TaskRecord]:
    store.add_workflow(wf(wid, **kw), [task(0, "queued")] + [task(i) for i in range(1, n)], [[]] + [[i - 1] for i in range(1, n)], 10.0)  # type: ignore[arg-type]
    return store.tasks(wid)


def test_a_workflow_is_stored_with_its_tasks_edges_and_first_transitions(store: Store) -> None:
    tasks = add(store)
    assert [t.name for t in tasks] == ["t0", "t1", "t2"] and [t.state for t in tasks] == ["queued", "pending", "pending"]
    assert tasks[1].spec == {"params": {"seconds": 1}} and tasks[0].workflow == "w1"
    a, b, c = (t.pk for t in tasks)
    assert store.edges("w1") == [(a, b), (b, c)]
    assert [t.pk for t in store.children(a)] == [b] and [t.pk for t in store.parents(c)] == [b]
    first = store.transitions("w1")
    assert [(t.task, t.source, t.target, t.reason) for t in first] == [(a, None, "queued", "submitted"), (b, None, "pending", "submitted"),
                                                                      (c, None, "pending", "submitted")]  # fmt: skip
    stored = store.workflow("w1")
    assert stored is not None and stored.doc == {"seed": 3} and stored.seq >= 1 and store.workflow("nope") is None


def test_an_idempotency_key_gives_back_the_first_workflow_and_stores_nothing(store: Store) -> None:
    store.add_workflow(wf("w1", key="k"), [task(0, "queued")], [[]], 1.0)
    again, created = store.add_workflow(wf("w2", key="k"), [task(0, "queued"), task(1)], [[], [0]], 2.0)
    assert not created and again.id == "w1" and store.workflow("w2") is None and store.tasks("w2") == []
    assert store.workflow_by_key("s", "k").id == "w1" and store.workflow_by_key("s", "x") is None  # type: ignore[union-attr]
    other, created = store.add_workflow(wf("w3", session="other", key="k"), [task(0, "queued")], [[]], 3.0)
    assert created and other.id == "w3"  # keys belong to a session


def test_a_move_is_a_compare_and_set_checked_against_the_state_machine(store: Store) -> None:
    t0 = add(store)[0]
    assert store.move(t0.pk, "queued", "running", 11.0, "claimed", attempt=1, worker="fast-0", attempts=1)
    assert not store.move(t0.pk, "queued", "running", 12.0, "claimed again")  # someone else moved it: nothing happens
    with pytest.raises(IllegalTransition):
        store.move(t0.pk, "running", "pending", 12.0, "no")
    with pytest.raises(ValueError, match="may not set"):
        store.move(t0.pk, "running", "succeeded", 12.0, "x", state="dead")
    assert store.move(t0.pk, "running", "retrying", 13.0, "boom", worker="fast-0", failures=1, not_before=20.0, error="E: boom")
    got = store.task(t0.pk)
    assert got is not None and (got.state, got.attempts, got.failures, got.not_before, got.error, got.updated_at) == (
        "retrying", 1, 1, 20.0, "E: boom", 13.0)  # fmt: skip
    last = [t for t in store.transitions("w1") if t.task == t0.pk][-2:]
    assert [(t.source, t.target, t.attempt, t.worker, t.reason, t.at) for t in last] == [
        ("queued", "running", 1, "fast-0", "claimed", 11.0), ("running", "retrying", 1, "fast-0", "boom", 13.0)]  # fmt: skip


def test_the_ready_queue_in_every_order(store: Store) -> None:
    made = [task(i, "queued", priority=p, deadline_at=d, expected_s=e)
            for i, (p, d, e) in enumerate([(2, None, 5.0), (0, 30.0, 9.0), (1, 10.0, 1.0), (0, None, 3.0)])]  # fmt: skip
    made.append(task(4, "queued", pool="eco"))
    store.add_workflow(wf(), made, [[]] * 5, 0.0)
    names = lambda order, limit=10: [t.name for t in store.ready("fast", order, limit)]  # noqa: E731
    assert names(("pk",)) == ["t0", "t1", "t2", "t3"] and names(("pk",), 2) == ["t0", "t1"]
    assert names(("priority", "pk")) == ["t1", "t3", "t2", "t0"]
    assert names(("deadline_at", "pk")) == ["t2", "t1", "t0", "t3"]  # no deadline goes last
    assert names(("expected_s", "pk")) == ["t2", "t3", "t0", "t1"]
    assert [t.name for t in store.ready("eco", ("pk",), 10)] == ["t4"]
    with pytest.raises(ValueError, match="unknown order"):
        store.ready("fast", ("state",), 1)


def test_due_tasks_and_the_next_due_time(store: Store) -> None:
    store.add_workflow(
        wf(), [task(0, "deferred", not_before=30.0), task(1, "deferred", not_before=20.0), task(2, "queued")], [[], [], []], 0.0
    )
    assert store.next_due() == 20.0
    assert [t.name for t in store.due(25.0, 10)] == ["t1"] and [t.name for t in store.due(99.0, 10)] == ["t1", "t0"]
    assert [t.name for t in store.in_state("queued")] == ["t2"]


def test_the_dead_letter_list_is_per_session_newest_first(store: Store) -> None:
    for n, session in enumerate(["s", "s", "other"]):
        store.add_workflow(wf(f"w{n}", session=session), [task(0, "queued", session=session)], [[]], 0.0)
    for t in store.in_state("queued"):
        store.move(t.pk, "queued", "running", 1.0, "run")
        store.move(t.pk, "running", "dead", 2.0, "out of attempts")
    total, page = store.dead("s", 0, 1)
    assert total == 2 and [t.workflow for t in page] == ["w1"]
    assert [t.workflow for t in store.dead("s", 1, 5)[1]] == ["w0"] and store.dead("nobody", 0, 5) == (0, [])
    assert [t.workflow for t in store.tasks_by_job("s", 1)] == ["w1", "w0"] and store.tasks_by_job("s", 99) == []


def test_attempts_and_runners(store: Store) -> None:
    t0 = add(store)[0]
    store.start_attempt(AttemptRecord(t0.pk, 1, "fast-0", "r1", 11.0))
    store.end_attempt(t0.pk, 1, ended_at=12.5, outcome="succeeded", runtime_s=1.5, energy_kwh=0.001, result={"rows": 3})
    [a] = store.attempts("w1")
    got = (a.worker, a.runner, a.started_at, a.ended_at, a.outcome, a.runtime_s, a.result)
    assert got == ("fast-0", "r1", 11.0, 12.5, "succeeded", 1.5, {"rows": 3})
    store.add_runner(RunnerRecord("r1", "host", 123, "999", 1.0))
    store.heartbeat("r1", 5.0)
    assert store.runners() == [RunnerRecord("r1", "host", 123, "999", 5.0)]
    store.drop_runner("r1")
    assert store.runners() == []


def test_compensations_are_added_to_a_stored_workflow(store: Store) -> None:
    a, b, _ = add(store)
    undo = [task(3, "pending", role="compensation", compensates=b.pk), task(4, "pending", role="compensation", compensates=a.pk)]
    [first] = store.add_tasks("w1", undo[:1], [[]], 20.0, "rollback")
    [third] = store.add_tasks("w1", undo[1:], [[first.pk]], 20.0, "rollback")
    assert third.compensates == a.pk and (first.pk, third.pk) in store.edges("w1")


def test_sqlite_is_wal_and_a_reopened_file_holds_everything(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "t.db"
    first = SqliteStore(path)
    add(first, key="k")
    first.close()
    again = SqliteStore(path)
    assert [t.name for t in again.tasks("w1")] == ["t0", "t1", "t2"] and again.workflow("w1").idempotency_key == "k"  # type: ignore[union-attr]
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_failed_sqlite_transaction_leaves_nothing() -> None:
    store = SqliteStore(":memory:")
    t0 = add(store)[0]
    with pytest.raises(RuntimeError), store.transaction():
        store.move(t0.pk, "queued", "running", 1.0, "claim")
        raise RuntimeError("crash between two writes")
    assert store.task(t0.pk).state == "queued" and len(store.transitions("w1")) == 3  # type: ignore[union-attr]


def test_open_store_picks_by_name(tmp_path: Path) -> None:
    assert isinstance(open_store("memory", ""), MemoryStore)
    assert isinstance(open_store("sqlite", str(tmp_path / "x.db")), SqliteStore)
    with pytest.raises(ValueError, match="known: memory, sqlite"):
        open_store("redis", "")


def test_open_tasks_follow_moves_into_and_out_of_final_states(store: Store) -> None:
    t0, t1, _ = add(store)
    assert store.workflow("w1").open_tasks == 3  # type: ignore[union-attr]
    store.move(t0.pk, "queued", "running", 1.0, "run", attempts=1)
    store.move(t0.pk, "running", "dead", 2.0, "boom")
    store.move(t1.pk, "pending", "upstream_failed", 2.0, "parent dead")
    assert store.workflow("w1").open_tasks == 1  # type: ignore[union-attr]
    store.move(t1.pk, "upstream_failed", "pending", 3.0, "parent retried")
    store.move(t0.pk, "dead", "queued", 3.0, "retried by hand")
    assert store.workflow("w1").open_tasks == 3  # type: ignore[union-attr]
    [undo] = store.add_tasks("w1", [task(5, "queued", role="compensation", compensates=t0.pk)], [[]], 4.0, "rollback")
    store.move(undo.pk, "queued", "cancelled", 5.0, "x")  # compensations are not counted
    assert store.workflow("w1").open_tasks == 3  # type: ignore[union-attr]
    assert store.states([t0.pk, t1.pk, undo.pk, 999]) == {t0.pk: "queued", t1.pk: "pending", undo.pk: "cancelled"}
    store.start_attempt(AttemptRecord(t0.pk, 1, "fast-0", "r", 1.0))
    assert store.attempt(t0.pk, 1).worker == "fast-0" and store.attempt(t0.pk, 2) is None  # type: ignore[union-attr]


def test_a_database_that_cannot_be_opened_names_its_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(RuntimeError, match=r"cannot open the workflow database .*file/x.db \(TASKPILOT_DATABASE\)"):
        open_store("sqlite", str(blocker / "x.db"))
