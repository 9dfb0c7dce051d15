"""Nothing is lost: a real executor process is killed with SIGKILL mid-run and another starts on the same SQLite
file. Every accepted workflow is there; the running task runs again with its attempt counted; the task that had
succeeded never runs again; the deferred and retrying tasks keep their times. Then SIGTERM stops the second one
gracefully: its running task finishes, the queued one stays queued. Every wait is for a condition."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from scheduler.store.sqlite import SqliteStore
from tests.scheduler.execution.helpers import wait_until
from tests.scheduler.execution.processes import group_members, runner


def test_a_killed_executor_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    with runner(db, tmp_path, "submit") as first:
        assert first.stdout is not None and first.stdout.readline() == "ready\n"
        store = SqliteStore(db)
        try:
            _crash_and_restart(store, db, tmp_path, first)
        finally:
            store.close()


def _crash_and_restart(store: SqliteStore, db: Path, tmp_path: Path, first: object) -> None:
    [wf] = [w.id for w in store.workflows("s", 0, 10)[1]]

    def by_name() -> dict[str, object]:
        return {t.name: t for t in store.tasks(wf)}

    wait_until(lambda: (t := by_name())["gate"].state == "running" and t["retrying"].state == "retrying" and t["deferred"].state ==
               "deferred", "the gate running, one task retrying, one deferred")  # fmt: skip
    before = by_name()
    os.killpg(first.pid, signal.SIGKILL)  # type: ignore[attr-defined]  # the executor, its fork server and its workers
    first.wait()  # type: ignore[attr-defined]
    assert store.tasks(wf)[1].state == "running"  # as the killed process left it

    with runner(db, tmp_path) as second:
        assert second.stdout is not None and second.stdout.readline() == "ready\n"
        gate = wait_until(lambda: (t := by_name()["gate"]).state == "running" and t.attempts == 2 and t, "the gate running again")
        interrupted = store.attempt(gate.pk, 1)  # type: ignore[attr-defined]
        assert interrupted is not None and interrupted.outcome == "interrupted" and "is gone" in (interrupted.error or "")
        after = by_name()
        assert after["deferred"].state == "deferred" and after["deferred"].not_before == before["deferred"].not_before  # type: ignore[attr-defined]
        assert after["retrying"].state == "retrying" and after["retrying"].not_before == before["retrying"].not_before  # type: ignore[attr-defined]
        assert (tmp_path / "done.log").read_text() == "done 1\n"  # succeeded before the crash: never run again
        assert by_name()["later"].state == "pending"

        os.kill(second.pid, signal.SIGTERM)  # graceful: the running gate may finish, nothing new starts
        line = second.stdout.readline()
        assert line == "stopping\n", f"the runner ended without stopping: exit {second.wait()}"
        (tmp_path / "open").touch()
        assert second.wait(timeout=120) == 0
    done = by_name()
    assert done["gate"].state == "succeeded" and done["later"].state == "queued"  # type: ignore[attr-defined]
    assert not (tmp_path / "later.log").exists() and store.runners() == []


def test_an_interrupted_test_leaves_no_process_behind(tmp_path: Path) -> None:
    """A KeyboardInterrupt while a runner, its fork server and a worker run: the whole group is gone after."""
    db = tmp_path / "interrupted.db"
    members: set[int] = set()
    with pytest.raises(KeyboardInterrupt), runner(db, tmp_path, "submit") as process:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        store = SqliteStore(db)
        try:
            [wf] = [w.id for w in store.workflows("s", 0, 10)[1]]
            wait_until(lambda: {t.name: t.state for t in store.tasks(wf)}["gate"] == "running", "the gate running in a worker")
        finally:
            store.close()
        members = wait_until(lambda: len(found := group_members(process.pid)) >= 3 and found,
                             "the runner, its fork server and a worker in its group")  # fmt: skip
        raise KeyboardInterrupt  # what Ctrl-C does to a test in the middle of it
    assert members and not any(_alive(pid) for pid in members)


def _alive(pid: int) -> bool:
    """Running, not a zombie (a zombie has exited; its parent has not reaped it yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
