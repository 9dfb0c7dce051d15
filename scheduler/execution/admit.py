"""A validated workflow and its tasks' placements, as the records the executor stores and runs.

Placement is the service's (the session's tier agents and, in grid sessions, the when-policy); here its
outcome becomes times on the executor's clock. The session clock's minutes and hours map to executor seconds
by `scale` (TASKPILOT_CLOCK_SCALE, session seconds per executor second): a task deferred h hours is planned
to start h x 3600 / scale seconds after submission, a sleep of duration_min m lasts m x 60 / scale seconds.
With a workflow deadline, no task's planned start is later than its latest start on the critical path
(computed backwards from the deadline), so the plan meets every feasible deadline whatever the when-policy
proposed.
"""

import math
import uuid
from dataclasses import dataclass
from typing import Any

from scheduler.core.states import URGENCIES
from scheduler.execution.spec import WorkflowSpec
from scheduler.store.base import TaskRecord, WorkflowRecord


@dataclass(frozen=True)
class Placement:
    """Where and how one task runs, as TaskPilot decided it."""

    job_id: int | None
    server: str | None
    mode: str = "fast"  # the worker pool
    delay_h: float = 0.0  # the when-policy's deferral on the session's clock (0: now)
    power_w: float | None = None  # on the server, in the mode: what the energy estimate multiplies
    intensity_g: float | None = None  # the server's zone over the planned run (grid sessions)
    co2_run_now_kg: float | None = None  # the when-policy's "now, FAST" figure (grid sessions)
    co2_planned_kg: float | None = None  # and its plan's


def seconds(minutes: float, scale: float) -> float:
    return minutes * 60.0 / scale


def build_records(
    spec: WorkflowSpec, placements: list[Placement], session: str, now: float, scale: float, seed: int, key: str | None = None,
    doc: dict[str, Any] | None = None,
) -> tuple[WorkflowRecord, list[TaskRecord], list[list[int]]]:  # fmt: skip
    """The workflow's record, its tasks' (in the order given) and each task's parents (positions)."""
    workflow_id = str(uuid.uuid4())
    tasks = [_task_record(spec, i, place, workflow_id, session, now, scale, seed) for i, place in enumerate(placements)]
    path = [spec.tasks[i].id for i in spec.plan.path]
    info = {
        "deadline_min": spec.deadline_min,
        "seed": seed,
        "scale": scale,
        "critical_path": {"tasks": path, "length_min": spec.plan.length},
    }
    workflow = WorkflowRecord(workflow_id, session, spec.name, "running", now, idempotency_key=key, doc=info | (doc or {}))
    return workflow, tasks, [list(t.parents) for t in spec.tasks]


def _task_record(
    spec: WorkflowSpec, i: int, place: Placement, workflow_id: str, session: str, now: float, scale: float, seed: int
) -> TaskRecord:
    task, plan, duration = spec.tasks[i], spec.plan, float(spec.durations_min[i])
    latest = None if math.isnan(plan.latest_start[i]) else now + seconds(float(plan.latest_start[i]), scale)
    start = now + place.delay_h * 3600.0 / scale if place.delay_h > 0 else None
    capped = start is not None and latest is not None and start > latest
    finish_by = [] if latest is None else [now + seconds(float(plan.latest_finish[i]), scale)]
    if not math.isnan(own := float(spec.jobs.deadline_min[i])):
        finish_by.append(now + seconds(own, scale))
    undo = task.on_rollback
    record_spec = {
        "params": _sleep_seconds(task.kind, task.params, duration, scale),
        "retries": task.retries.as_dict(),
        "timeout_s": task.timeout_s,
        "trigger": task.trigger,
        "on_rollback": None if undo is None else {**undo, "params": _sleep_seconds(undo["kind"], undo["params"], duration, scale)},
        "job": task.job,
        "seed": seed,
        "placement": {**place.__dict__, "capped_by_deadline": capped},
        "duration_min": duration,
        "latest_start": latest,
        "layer": spec.layers[i],
        "depends_on": [spec.tasks[p].id for p in task.parents],
    }
    urgency = URGENCIES.index(str(task.job.get("urgency") or "normal").strip().lower())
    return TaskRecord(
        workflow_id, i, task.id, task.kind, place.mode, "pending", session, record_spec, job_id=place.job_id,
        not_before=latest if capped else start, deadline_at=min(finish_by, default=None), priority=urgency,
        expected_s=seconds(duration, scale),
    )  # fmt: skip


def _sleep_seconds(kind: str, params: dict[str, Any], duration_min: float, scale: float) -> dict[str, Any]:
    """A sleep without its own `seconds` lasts the task's duration on the executor's clock."""
    if kind == "sleep" and params.get("seconds") is None:
        return {**params, "seconds": seconds(duration_min, scale)}
    return params
