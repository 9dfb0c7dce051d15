"""Workflows as the API shows them: everything a page needs to draw the DAG (layers, edges, states), a Gantt of
attempts per worker (start, end, worker, outcome), retries and failures, the dead-letter list, compensations,
and the energy and CO2 of the run (an estimate from measured runtime, labelled so) with the plan's CO2 saving.

Times are seconds on the executor's clock (`clock.kind` wall: seconds since the epoch).
"""

from collections import Counter
from typing import Any

from scheduler.core.states import TASK_STATES
from scheduler.execution.footprint import ESTIMATE_LABEL, MEASURED_LABEL
from scheduler.store.base import AttemptRecord, Store, TaskRecord, TransitionRecord, WorkflowRecord

COMPENSATION = "compensation"


def summary(w: WorkflowRecord) -> dict[str, Any]:
    return {"workflow_id": w.id, "name": w.name, "state": w.state, "created_at": w.created_at, "finished_at": w.finished_at,
            "open_tasks": w.open_tasks}  # fmt: skip


def workflow(store: Store, w: WorkflowRecord, clock: dict[str, Any]) -> dict[str, Any]:
    tasks = store.tasks(w.id)
    names = {t.pk: t.name for t in tasks}
    attempts: dict[int, list[AttemptRecord]] = {}
    for a in store.attempts(w.id):
        attempts.setdefault(a.task, []).append(a)
    moves: dict[int, list[TransitionRecord]] = {}
    for m in store.transitions(w.id):
        moves.setdefault(m.task, []).append(m)
    every = [a for runs in attempts.values() for a in runs]
    counts = Counter(t.state for t in tasks if t.role != COMPENSATION)
    return {
        **summary(w),
        "deadline_min": w.doc.get("deadline_min"),
        "seed": w.doc.get("seed"),
        "scenario": w.doc.get("scenario"),
        "session_clock_utc": w.doc.get("session_clock_utc"),
        "clock": clock,
        "critical_path": w.doc.get("critical_path"),
        "counts": {state: counts.get(state, 0) for state in TASK_STATES},
        "rollback": _rollback(tasks),
        "footprint": _footprint(every, w.doc.get("co2_plan")),
        "tasks": [_task(t, names, attempts.get(t.pk, []), moves.get(t.pk, [])) for t in tasks],
    }


def _rollback(tasks: list[TaskRecord]) -> str:
    """none: nothing to undo; running: compensations still to end; done: all succeeded; incomplete: one is dead
    (or cancelled), see the dead-letter list."""
    undo = [t for t in tasks if t.role == COMPENSATION]
    if not undo:
        return "none"
    if any(t.state not in ("succeeded", "dead", "cancelled") for t in undo):
        return "running"
    return "done" if all(t.state == "succeeded" for t in undo) else "incomplete"


def _footprint(attempts: list[AttemptRecord], plan: dict[str, float] | None) -> dict[str, Any]:
    energy = [a.energy_kwh for a in attempts if a.energy_kwh is not None]
    co2 = [a.co2_kg for a in attempts if a.co2_kg is not None]
    cpu = [a.cpu_energy_j for a in attempts if a.cpu_energy_j is not None]
    return {
        "energy_kwh": sum(energy) if energy else None,
        "co2_kg": sum(co2) if co2 else None,
        "label": ESTIMATE_LABEL,
        "cpu_energy_j": sum(cpu) if cpu else None,
        "cpu_energy_label": MEASURED_LABEL if cpu else "not measured: this machine exposes no RAPL counters",
        "plan": plan,
    }


def _task(t: TaskRecord, names: dict[int, str], attempts: list[AttemptRecord], moves: list[TransitionRecord]) -> dict[str, Any]:
    place, spec = t.spec.get("placement", {}), t.spec
    return {
        "task": t.name,
        "index": t.index,
        "role": t.role,
        "compensates": names.get(t.compensates) if t.compensates is not None else None,
        "kind": t.kind,
        "params": spec.get("params", {}),
        "depends_on": spec.get("depends_on", []) if t.role != COMPENSATION else [],
        "layer": spec.get("layer", 0),
        "trigger": spec.get("trigger", "all_success"),
        "state": t.state,
        "job_id": t.job_id,
        "server": place.get("server"),
        "mode": t.pool,
        "deferred_h": place.get("delay_h", 0.0),
        "not_before": t.not_before,
        "latest_start": spec.get("latest_start"),
        "deadline_at": t.deadline_at,
        "attempts_made": t.attempts,
        "failures": t.failures,
        "max_attempts": spec.get("retries", {}).get("max_attempts", 1),
        "timeout_s": spec.get("timeout_s"),
        "error": t.error,
        "attempts": [_attempt(a) for a in attempts],
        "transitions": [
            {"at": m.at, "from": m.source, "to": m.target, "attempt": m.attempt, "worker": m.worker, "reason": m.reason} for m in moves
        ],  # fmt: skip
    }


ATTEMPT_FIELDS = (
    "n",
    "worker",
    "started_at",
    "ended_at",
    "outcome",
    "error",
    "runtime_s",
    "energy_kwh",
    "co2_kg",
    "cpu_energy_j",
    "result",
)


def _attempt(a: AttemptRecord) -> dict[str, Any]:
    return {name: getattr(a, name) for name in ATTEMPT_FIELDS}


def dead(t: TaskRecord) -> dict[str, Any]:
    return {"workflow_id": t.workflow, "task": t.name, "job_id": t.job_id, "role": t.role, "kind": t.kind, "attempts_made": t.attempts,
            "failures": t.failures, "error": t.error, "died_at": t.updated_at}  # fmt: skip
