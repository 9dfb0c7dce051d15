"""Workflow execution benchmarks (issue 13): `workflow_throughput` (TaskPilot's executor on its durable SQLite
store, against Huey's SqliteHuey and its consumer, in the same run) and `workflow_latency` (ready to running
with a worker free, read from the recorded transitions).

TaskPilot runs in this process as the service runs it: an Executor on a SqliteStore (WAL, synchronous=NORMAL,
a temporary file), the wall clock, pools {"fast": 4, "eco": 1}. Every submission is acknowledged only after
its commit. The records are built before the clock starts (validation and placement are the `workflow_dag`
benchmark's); the time runs from the first submission until no task is queued or running, and every task
is then checked to have succeeded. Huey enqueues from this process and runs its consumer (4 thread workers)
in another, as Huey is deployed; its time runs from the first enqueue until the consumer counted every task
complete. Both on the same machine, one after the other, in each repeat.
"""

import contextlib
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.live import ROOT, clean_env
from bench.poll import until
from bench.report import Figure, Target
from bench.sizes import Plan
from bench.workflow_kinds import MODULE

POOLS = {"fast": 4, "eco": 1}
HUEY_WORKERS = 4
LATENCY_SAMPLES = 1_000
WARM_UP = 20
POLL_S = 0.001  # how often the benchmark looks whether the run is over (a benchmark may poll; its tests may not)


def throughput(plan: Plan) -> list[Figure]:
    n = plan.batch_jobs
    name = "workflow_throughput"
    what = f"{n:,} single-task workflows of a no-op (sleep 0: the executor's own kind, no worker process), one commit each"
    single = Figure(f"{name}.tasks_per_s", "tasks/s", Target(">=", 5_000), what)
    bulk = Figure(f"{name}.one_workflow_tasks_per_s", "tasks/s", note=f"the same {n:,} no-ops as one workflow (one submission)")
    process = Figure(f"{name}.process_tasks_per_s", "tasks/s",
                     note=f"{n // 5:,} single-task workflows of a user kind that returns None, each run in a worker process")  # fmt: skip
    huey = Figure(f"{name}.huey_tasks_per_s", "tasks/s", note=f"Huey {_huey_version()} SqliteHuey at its defaults (WAL, FULL sync)")
    huey_normal = Figure(f"{name}.huey_normal_tasks_per_s", "tasks/s", note="the same with synchronous=NORMAL, TaskPilot's durability")
    ratio = Figure(f"{name}.vs_huey", "x", Target(">=", 2.0), "tasks_per_s / huey_tasks_per_s")
    ratio_normal = Figure(f"{name}.vs_huey_normal", "x", note="tasks_per_s / huey_normal_tasks_per_s")
    for _ in range(plan.repeats):
        single.samples.append(n / _taskpilot(_single(n, "sleep", {"seconds": 0})))
        bulk.samples.append(n / _taskpilot([_workflow([("sleep", {"seconds": 0})] * n)]))
        process.samples.append(n // 5 / _taskpilot(_single(n // 5, "noop", {})))
        huey.samples.append(n / _huey(n, "default"))
        huey_normal.samples.append(n / _huey(n, "normal"))
        ratio.samples.append(single.samples[-1] / huey.samples[-1])
        ratio_normal.samples.append(single.samples[-1] / huey_normal.samples[-1])
    return [single, bulk, process, huey, huey_normal, ratio, ratio_normal]


def latency(plan: Plan) -> list[Figure]:
    """One single-task workflow of the no-op user kind at a time, each submitted once the previous one
    succeeded (so a worker is always free): its `running` transition's time minus its `queued` one's. The
    queued time is taken before the submission's commit, so the figure includes that commit."""
    from scheduler.execution.clock import WallClock
    from scheduler.execution.executor import Executor, ExecutorConfig
    from scheduler.store.sqlite import SqliteStore

    samples = LATENCY_SAMPLES if plan.repeats > 1 else LATENCY_SAMPLES // 5
    p50 = Figure("workflow_latency.p50_ms", "ms", Target("<=", 1.0), f"ready to running, {samples} tasks one at a time, a worker free")
    p99 = Figure("workflow_latency.p99_ms", "ms", Target("<=", 10.0), "the same, 99th percentile")
    for _ in range(plan.repeats):
        with tempfile.TemporaryDirectory() as folder:
            store = SqliteStore(Path(folder) / "latency.db")
            executor = Executor(store, WallClock(), ExecutorConfig(POOLS, task_module=MODULE))
            executor.start()
            try:
                ids = []
                for workflow, tasks, parents in _single(WARM_UP + samples, "noop", {}):
                    ids.append(executor.submit(workflow, tasks, parents)[0].id)
                    wid = ids[-1]
                    until(lambda s=store, w=wid: (f := s.workflow(w)) is None or f.state != "running", "a workflow's end", POLL_S / 10)
                waits = []
                for workflow_id in ids[WARM_UP:]:
                    at = {t.target: t.at for t in store.transitions(workflow_id)}
                    waits.append((at["running"] - at["queued"]) * 1000.0)
            finally:
                executor.stop()
                store.close()
        p50.samples.append(float(np.percentile(waits, 50)))
        p99.samples.append(float(np.percentile(waits, 99)))
    return [p50, p99]


def _single(n: int, kind: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [_workflow([(kind, params)]) for _ in range(n)]


def _workflow(tasks: list[tuple[str, dict[str, Any]]]) -> tuple[Any, ...]:
    """A workflow's records as the service builds them, every task placed on one server in the FAST pool."""
    from scheduler.execution.admit import Placement, build_records
    from scheduler.execution.builtin_kinds import load_kinds
    from scheduler.execution.spec import parse_workflow

    load_kinds(MODULE)
    body = {"tasks": [{"id": f"t{i}", "kind": kind, "params": params} for i, (kind, params) in enumerate(tasks)]}
    spec = parse_workflow(body, len(tasks), 16_384)
    places = [Placement(i + 1, "Server 1", "fast", 0.0, 100.0) for i in range(len(tasks))]
    return build_records(spec, places, "bench", time.time(), 1.0, 7)


def _taskpilot(workflows: list[tuple[Any, ...]]) -> float:
    """Seconds from the first submission until every task of `workflows` succeeded."""
    from scheduler.execution.clock import WallClock
    from scheduler.execution.executor import Executor, ExecutorConfig
    from scheduler.store.sqlite import SqliteStore

    total = sum(len(tasks) for _, tasks, _ in workflows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "throughput.db"
        store = SqliteStore(path)
        executor = Executor(store, WallClock(), ExecutorConfig(POOLS, task_module=MODULE))
        executor.start()
        watch = sqlite3.connect(path)  # a reader of its own: the benchmark never takes the store's lock
        try:
            started = time.perf_counter()
            for workflow, tasks, parents in workflows:
                executor.submit(workflow, tasks, parents)
            busy = "SELECT EXISTS (SELECT 1 FROM tasks WHERE state IN ('queued', 'running'))"
            until(lambda: not watch.execute(busy).fetchone()[0], "every task's end", POLL_S)
            elapsed = time.perf_counter() - started
            done = watch.execute("SELECT count(*) FROM tasks WHERE state = 'succeeded'").fetchone()[0]
        finally:
            watch.close()
            executor.stop()
            store.close()
    if done != total:
        raise RuntimeError(f"{done} of {total} tasks succeeded")
    return elapsed


def _huey(n: int, sync: str) -> float:
    """Seconds from the first enqueue until Huey's consumer completed all n no-ops."""
    from bench.huey_queue import consumer_command, make_huey

    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "huey.db")
        _, task = make_huey(path, sync)
        consumer = subprocess.Popen(
            consumer_command(path, n, HUEY_WORKERS, sync),
            cwd=ROOT,
            env=clean_env(),
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            assert consumer.stdout is not None
            if consumer.stdout.readline() != "ready\n":
                raise RuntimeError("the Huey consumer did not start")
            started = time.perf_counter()
            for _ in range(n):
                task()
            line = consumer.stdout.readline()
            elapsed = time.perf_counter() - started
            if line != "done 0\n":
                raise RuntimeError(f"the Huey consumer did not complete every task: {line.strip() or 'it stopped'}")
        finally:
            _kill_group(consumer)
    return elapsed


def _kill_group(process: subprocess.Popen[str]) -> None:
    """The process and anything it started (its own session): nothing outlives a benchmark."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _huey_version() -> str:
    import huey

    return str(huey.__version__)
