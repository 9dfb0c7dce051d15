"""The crash benchmark (issue 13): kill -9 of a real executor process with 1,000 tasks in flight, a restart on
the same SQLite file, and a count of what was lost and what ran twice.

A runner process (`run(DB, LOG, N)` in a Python of its own: an Executor on a SqliteStore, the wall
clock, pools {"fast": 4, "eco": 1}) submits N single-task workflows, each task a `mark` (2 ms of CPU, then a
line "task attempt" appended to LOG), and says `submitted` once every submission was acknowledged (committed).
When a quarter of them succeeded, the benchmark sends SIGKILL to the runner's whole process group (the
runner, its fork server, its workers: nothing says goodbye), reads the store as the kill left it, and starts
another runner on the same file, which submits nothing. Counted, once every task succeeded or 120 s passed:

- lost: accepted tasks that never succeeded (must be 0);
- run twice: tasks with more than one line in LOG (at-least-once: a task whose code ran before the kill but
  whose success was not yet committed runs again);
- succeeded rerun: tasks recorded as succeeded before the kill that ran again (must be 0).
"""

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from bench.live import ROOT, clean_env
from bench.poll import until
from bench.report import Figure, Target
from bench.sizes import Plan
from bench.workflow_kinds import MODULE

TASKS = 1_000
BUSY_MS = 2.0
KILL_AT = 0.25  # the share of tasks succeeded when the kill comes
HANG_S = 120.0


def crash(plan: Plan) -> list[Figure]:
    lost = Figure("workflow_crash.lost", "tasks", Target("<=", 0), f"{TASKS:,} accepted tasks, kill -9 at {KILL_AT:.0%} succeeded")
    in_flight = Figure("workflow_crash.in_flight", "tasks", note="accepted and not succeeded when the process was killed")
    why = "tasks whose code ran twice (at-least-once: it ran, its success was not committed)"
    twice = Figure("workflow_crash.run_twice", "tasks", note=why)
    rerun = Figure("workflow_crash.succeeded_rerun", "tasks", Target("<=", 0), "tasks succeeded before the kill that ran again")
    recovery = Figure("workflow_crash.recovery_s", "s", note="from the restart to every task succeeded")
    for _ in range(plan.repeats):
        with tempfile.TemporaryDirectory() as folder:
            db, log = Path(folder) / "crash.db", Path(folder) / "marks.log"
            with _runner(db, log, TASKS) as first:
                _expect(first, "submitted")
                watch = sqlite3.connect(db)
                try:
                    until(lambda w=watch: _succeeded(w) >= TASKS * KILL_AT, "the share of tasks to succeed before the kill", 0.001)
                    os.killpg(first.pid, signal.SIGKILL)
                    first.wait()
                    done_before = {name for (name,) in watch.execute("SELECT name FROM tasks WHERE state = 'succeeded'")}
                    accepted = watch.execute("SELECT count(*) FROM tasks").fetchone()[0]
                finally:
                    watch.close()
            marked_before = log.stat().st_size
            started = time.perf_counter()
            with _runner(db, log, 0) as second:
                _expect(second, "ready")
                watch = sqlite3.connect(db)
                try:
                    deadline = time.monotonic() + HANG_S
                    while (done := _succeeded(watch)) < accepted and time.monotonic() < deadline:
                        time.sleep(0.001)
                finally:
                    watch.close()
            recovery.samples.append(time.perf_counter() - started)
            lines = log.read_text().splitlines()
            runs = Counter(line.split()[0] for line in lines)
            after = {line.split()[0] for line in log.read_bytes()[marked_before:].decode().splitlines()}
            lost.samples.append(accepted - done + (TASKS - accepted))
            in_flight.samples.append(accepted - len(done_before))
            twice.samples.append(sum(n > 1 for n in runs.values()))
            rerun.samples.append(len(after & done_before))
    return [lost, in_flight, twice, rerun, recovery]


def _succeeded(db: sqlite3.Connection) -> int:
    return db.execute("SELECT count(*) FROM tasks WHERE state = 'succeeded'").fetchone()[0]


def _expect(process: subprocess.Popen[str], line: str) -> None:
    assert process.stdout is not None
    got = process.stdout.readline()
    if got != line + "\n":
        raise RuntimeError(f"the crash runner said {got.strip()!r}, not {line!r} (exit {process.poll()})")


@contextlib.contextmanager
def _runner(db: Path, log: Path, n: int):  # type: ignore[no-untyped-def]
    """A runner in a session of its own; its whole group is SIGKILLed on the way out, whatever happened."""
    # `-c`, not `-m`: the runner's fork server then has no __main__ module of a file to import again.
    command = [sys.executable, "-c", f"from bench.case_workflows_crash import run; run({str(db)!r}, {str(log)!r}, {n})"]
    process = subprocess.Popen(command, cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def run(db: str, log: str, n: int) -> None:
    """The runner: an executor on DB; with n > 0 it first submits n single-task workflows of `mark`."""
    from scheduler.execution.admit import Placement, build_records
    from scheduler.execution.builtin_kinds import load_kinds
    from scheduler.execution.clock import WallClock
    from scheduler.execution.executor import Executor, ExecutorConfig
    from scheduler.execution.spec import parse_workflow
    from scheduler.store.sqlite import SqliteStore

    load_kinds(MODULE)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    clock = WallClock()
    executor = Executor(SqliteStore(db), clock, ExecutorConfig({"fast": 4, "eco": 1}, task_module=MODULE, grace_s=0.0))
    executor.start()
    params = {"path": log, "busy_ms": BUSY_MS}
    for i in range(n):
        spec = parse_workflow({"tasks": [{"id": f"t{i}", "kind": "mark", "params": params}]}, 1, 16_384)
        executor.submit(*build_records(spec, [Placement(i + 1, "Server 1", "fast", 0.0, 100.0)], "bench", clock.now(), 1.0, 7))
    print("submitted" if n else "ready", flush=True)
    while not stop.wait(0.05):
        pass
    executor.stop()
