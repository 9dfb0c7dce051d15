"""Nothing is lost: a real executor process is killed with SIGKILL mid-run and another starts on the same SQLite
file. Every accepted workflow is there; the running task runs again with its attempt counted; the task that had
succeeded never runs again; the deferred and retrying tasks keep their times. Then SIGTERM stops the second one
gracefully: its running task finishes, the queued one stays queued. Every wait is for a condition."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from scheduler.store.sqlite import SqliteStore
from tests.scheduler.execution.helpers import wait_until

ROOT = Path(__file__).resolve().parents[3]


def start(db: Path, folder: Path, *mode: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKPILOT_")}
    command = [sys.executable, "-m", "tests.scheduler.execution.crash_runner", str(db), str(folder), *mode]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True)


def test_a_killed_executor_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    first = start(db, tmp_path, "submit")
    try:
        assert first.stdout is not None and first.stdout.readline() == "ready\n"
        store = SqliteStore(db)
        [wf] = [w.id for w in store.workflows("s", 0, 10)[1]]

        def by_name() -> dict[str, object]:
            return {t.name: t for t in store.tasks(wf)}

        wait_until(lambda: (t := by_name())["gate"].state == "running" and t["retrying"].state == "retrying" and t["deferred"].state ==
                   "deferred", "the gate running, one task retrying, one deferred")  # fmt: skip
        before = by_name()
        os.killpg(first.pid, signal.SIGKILL)  # the executor, its fork server and its workers: nothing says goodbye
        first.wait()
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert store.tasks(wf)[1].state == "running"  # as the killed process left it

    second = start(db, tmp_path)
    try:
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
    finally:
        if second.poll() is None:
            os.killpg(second.pid, signal.SIGKILL)
    done = by_name()
    assert done["gate"].state == "succeeded" and done["later"].state == "queued"  # type: ignore[attr-defined]
    assert not (tmp_path / "later.log").exists() and store.runners() == []
