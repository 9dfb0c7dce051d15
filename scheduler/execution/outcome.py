"""How attempts end: what the loop sees (a worker's answer, a dead worker, a timeout, a clock task's wait
over), and what an end means for its task, recorded in the store: the attempt's row (outcome, measured
runtime, energy and CO2 estimates), then the task's move (succeeded; retrying after its backoff; dead) and,
for a final state, what follows for its workflow (scheduler.execution.settle). The executor calls these inside
the one transaction of its loop's pass, so a pass's outcomes commit together.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from scheduler.execution.footprint import estimate
from scheduler.execution.kinds import task_rng
from scheduler.execution.retry import TIMED_OUT, WORKER_DIED, RetryPolicy
from scheduler.execution.settle import COMPENSATION, settle
from scheduler.execution.workers import Slot
from scheduler.store.base import Store, TaskRecord


@dataclass(eq=False)
class Run:
    task: TaskRecord
    attempt: int
    slot: Slot
    started: float  # executor clock
    wall: float  # perf_counter at the start
    ends_at: float | None  # clock kinds: when the wait is over
    timeout_at: float | None


@dataclass(frozen=True)
class Ended:
    """One attempt's end as the loop saw it, before it is recorded."""

    run: Run
    outcome: str  # succeeded, failed, timed_out
    kinds: list[str]  # the error's class and its bases (what retries.no_retry matches)
    error: str | None = None
    result: Any = None
    runtime_s: float | None = None  # measured by the worker; None: the loop's own measure
    cpu_j: float | None = None  # RAPL, where the worker could read it


def collected(runs: Iterable[Run]) -> list[Ended]:
    """What the workers sent back, and attempts whose worker process died (its slot then starts a new one)."""
    ended = []
    for run in list(runs):
        slot = run.slot
        if slot.conn is None or run.ends_at is not None:
            continue
        try:
            message = slot.conn.recv() if slot.conn.poll() else None
        except (EOFError, OSError):
            message = None
        if message is not None:
            _, outcome, kinds, error, result, runtime_s, cpu_j = message
            ended.append(Ended(run, outcome, kinds, error, result, runtime_s, cpu_j))
        elif slot.process is not None and not slot.process.is_alive():
            code = slot.process.exitcode
            slot.kill()
            ended.append(Ended(run, "failed", [WORKER_DIED], f"{WORKER_DIED}: the worker process died (exit code {code})"))
    return ended


def expired(runs: Iterable[Run], now: float, seen: set[int]) -> list[Ended]:
    """Attempts past their timeout (their process killed: the task's code gets no say, and the slot starts a
    fresh process next time) and clock tasks whose wait is over; runs in `seen` (by id) ended already."""
    ended = []
    for run in list(runs):
        if id(run) in seen:
            continue
        if run.timeout_at is not None and now >= run.timeout_at and (run.ends_at is None or run.timeout_at <= run.ends_at):
            run.slot.kill()
            timeout = run.task.spec.get("timeout_s")
            ended.append(Ended(run, "timed_out", [TIMED_OUT], f"{TIMED_OUT}: still running after timeout_s = {timeout:g} s"))
        elif run.ends_at is not None and now >= run.ends_at:
            seconds = run.ends_at - run.started
            ended.append(Ended(run, "succeeded", [], None, {"seconds": seconds}, seconds))
    return ended


def attempt_end(end: Ended, now: float) -> dict[str, Any]:
    """The attempt row's fields that its end sets: outcome, measured runtime, energy and CO2 estimates."""
    runtime = end.runtime_s if end.runtime_s is not None else time.perf_counter() - end.run.wall
    energy, co2 = estimate(end.run.task.spec.get("placement", {}), runtime)
    return {"ended_at": now, "outcome": end.outcome, "error": end.error, "runtime_s": runtime, "energy_kwh": energy, "co2_kg": co2,
            "cpu_energy_j": end.cpu_j, "result": end.result}  # fmt: skip


def record_end(store: Store, end: Ended, now: float, attempt_stored: bool = False, finish: dict[str, None] | None = None) -> None:
    """Record an attempt's end and what follows from it, in one transaction. `attempt_stored`: the attempt's row
    was written whole, its end included (a task that ended as it was claimed), so only the task moves. `finish`:
    the workflow is noted there for the caller to finish (scheduler.execution.settle.settle)."""
    run, outcome, error = end.run, end.outcome, end.error
    task, n, worker = run.task, run.attempt, run.slot.name
    with store.transaction():
        if not attempt_stored:
            store.end_attempt(task.pk, n, **attempt_end(end, now))
        if outcome == "succeeded":
            if store.move(task.pk, "running", "succeeded", now, f"attempt {n} succeeded", attempt=n, worker=worker):
                if task.role == COMPENSATION and task.compensates is not None:
                    store.move(task.compensates, "succeeded", "rolled_back", now, f"undone by {task.name}")
                settle(store, task.pk, now, task.workflow, finish)
            return
        policy, failures = RetryPolicy.of(task.spec.get("retries")), task.failures + 1
        verdict = policy.verdict(failures, end.kinds)
        said = f"attempt {n} {outcome.replace('_', ' ')}: {error}"
        if verdict is None:
            delay = policy.delay(failures, task_rng(int(task.spec.get("seed", 0)), task.index, n, 1))
            reason = f"{said}; next attempt in {delay:.3f} s"
            store.move(task.pk, "running", "retrying", now, reason, n, worker, failures=failures, not_before=now + delay, error=error)
        elif store.move(task.pk, "running", "dead", now, f"{said}; {verdict}", n, worker, failures=failures, error=error):
            settle(store, task.pk, now, task.workflow, finish)


def record_interrupt(store: Store, run: Run, now: float, reason: str) -> None:
    """An attempt stopped without being judged (a shutdown): the task is queued again, its attempt counted."""
    with store.transaction():
        store.end_attempt(run.task.pk, run.attempt, ended_at=now, outcome="interrupted", error=reason)
        store.move(run.task.pk, "running", "queued", now, reason, run.attempt, run.slot.name)
