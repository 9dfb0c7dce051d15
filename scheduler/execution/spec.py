"""A workflow as a client sends it, validated whole: every problem names its task (id and position) and
field, and nothing is stored unless there is none.

Checked, in order: the shape (types, bounds, unknown fields), the limits (413: tasks per workflow, params
size), the graph (duplicate ids, unknown or self dependencies, a cycle listed in order), the kinds (unknown
ones listed against the known) and their params, each task's job fields (scheduler.core.jobs, as /run
checks them), and a workflow deadline against the critical path (its tasks and length named when it
cannot be met). A task's job fields default to a balanced job of 10 % cpu and memory, and its id becomes
its job's client id.
"""

from dataclasses import dataclass
from typing import Annotated, Any, Literal, NotRequired

import numpy as np
import orjson
from pydantic import ConfigDict, Field, Strict, StringConstraints, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from scheduler.core import energy
from scheduler.core.errors import JobValidationError, WorkflowInputError, WorkflowTooLarge
from scheduler.core.job_batch import JobBatch
from scheduler.core.jobs import MAX_DEADLINE_MIN, parse_jobs
from scheduler.execution.dag import CriticalPath, critical_path, find_cycle, layers, topological_order
from scheduler.execution.kinds import REGISTRY, Registry
from scheduler.execution.retry import RetryPolicy

_Num = Annotated[float, Strict(), Field(allow_inf_nan=False)]
_Name = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=64)]
TaskId = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=128)]
EXEC_FIELDS = ("id", "kind", "params", "depends_on", "retries", "timeout_s", "trigger", "on_rollback")
JOB_DEFAULTS = {"priority": "balanced", "cpu": 10, "memory": 10}
MAX_TIMEOUT_S = 86_400.0
DEFAULT_RETRIES = RetryPolicy()


@with_config(ConfigDict(extra="forbid"))
class RetriesIn(TypedDict):
    max_attempts: NotRequired[Annotated[int, Strict(), Field(ge=1, le=20, description="Attempts in all, the first included.")]]
    backoff_s: NotRequired[Annotated[_Num, Field(ge=0, le=3600, description="Ceiling of the first wait; it doubles per failure.")]]
    max_backoff_s: NotRequired[Annotated[_Num, Field(ge=0, le=86_400, description="The cap on any wait.")]]
    jitter: NotRequired[Annotated[bool, Strict(), Field(description="Full jitter: wait uniform(0, ceiling), seeded; else the ceiling.")]]
    no_retry: NotRequired[Annotated[list[_Name], Field(max_length=20, description="Error kinds never retried (class names).")]]


@with_config(ConfigDict(extra="forbid"))
class RollbackIn(TypedDict):
    kind: _Name
    params: NotRequired[dict[str, Any]]


@with_config(ConfigDict(extra="allow"))
class TaskIn(TypedDict):
    """A task: what runs and how, plus any job field (priority, cpu, memory, urgency, duration_min, ...)."""

    id: TaskId
    kind: _Name
    params: NotRequired[dict[str, Any]]
    depends_on: NotRequired[list[TaskId]]
    retries: NotRequired[RetriesIn]
    timeout_s: NotRequired[Annotated[_Num, Field(gt=0, le=MAX_TIMEOUT_S)] | None]
    trigger: NotRequired[Literal["all_success", "all_done"]]
    on_rollback: NotRequired[RollbackIn | None]


@with_config(ConfigDict(extra="forbid"))
class WorkflowIn(TypedDict):
    name: NotRequired[Annotated[str, Strict(), StringConstraints(max_length=200)]]
    deadline: NotRequired[Annotated[_Num, Field(gt=0, le=MAX_DEADLINE_MIN, description="Minutes after submission.")] | None]
    seed: NotRequired[Annotated[int, Strict(), Field(ge=0, le=2**63 - 1)] | None]
    tasks: Annotated[list[TaskIn], Field(min_length=1)]


WORKFLOW = TypeAdapter(WorkflowIn)


@dataclass(frozen=True)
class TaskSpec:
    id: str
    kind: str
    params: dict[str, Any]  # with the kind's defaults
    parents: tuple[int, ...]
    retries: RetryPolicy
    timeout_s: float | None
    trigger: str
    on_rollback: dict[str, Any] | None  # {"kind", "params"} with defaults
    job: dict[str, Any]  # the job fields as given, with the defaults


@dataclass(frozen=True)
class WorkflowSpec:
    name: str
    deadline_min: float | None
    seed: int | None
    tasks: tuple[TaskSpec, ...]
    jobs: JobBatch
    durations_min: np.ndarray  # duration_min, or the energy model's base runtime
    plan: CriticalPath
    layers: list[int]


def parse_workflow(payload: Any, max_tasks: int, max_params_bytes: int, registry: Registry = REGISTRY) -> WorkflowSpec:
    """The validated workflow; WorkflowInputError lists every problem, WorkflowTooLarge names a limit."""
    _check_limits(payload, max_tasks, max_params_bytes)
    try:
        body = WORKFLOW.validate_python(payload)
    except ValidationError as exc:
        raise WorkflowInputError(_shape_errors(payload, exc)) from None
    tasks = body["tasks"]
    errors, parents = _graph_errors(tasks)
    errors += _kind_errors(tasks, registry)
    job_fields = [{**JOB_DEFAULTS, **{k: v for k, v in t.items() if k not in EXEC_FIELDS}} for t in tasks]
    jobs, job_errors = _jobs(tasks, job_fields)
    errors += job_errors
    if errors:
        raise WorkflowInputError(_sorted(errors))
    order = topological_order(parents)
    given = jobs.duration_min
    durations = np.where(np.isnan(given), energy.job_work(jobs.cpu, jobs.memory, given, jobs.size, jobs.intensity).base_min, given)
    deadline = body.get("deadline")
    plan = critical_path(durations, parents, deadline, order)
    if not plan.feasible(deadline):
        path = " -> ".join(tasks[i]["id"] for i in plan.path)
        message = (f"the deadline ({deadline:g} min) cannot be met: the critical path {path} takes {plan.length:g} min "
                   "(each task's duration_min, or the energy model's estimate)")  # fmt: skip
        raise WorkflowInputError([_error(None, None, "deadline", message)])
    specs = tuple(_task_spec(t, parents[i], job_fields[i], registry) for i, t in enumerate(tasks))
    return WorkflowSpec(body.get("name") or "workflow", deadline, body.get("seed"), specs, jobs, durations, plan, layers(parents, order))


def _error(task: str | None, index: int | None, field: str, message: str) -> dict[str, Any]:
    return {"task": task, "index": index, "field": field, "message": message}


def _sorted(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(errors, key=lambda e: (-1 if e["index"] is None else e["index"], e["field"]))


def _check_limits(payload: Any, max_tasks: int, max_params_bytes: int) -> None:
    tasks = payload.get("tasks") if isinstance(payload, dict) else None
    if not isinstance(tasks, list):
        return
    if len(tasks) > max_tasks:
        raise WorkflowTooLarge(f"{len(tasks)} tasks in one workflow; the limit is {max_tasks} (TASKPILOT_MAX_WORKFLOW_TASKS)")
    for i, task in enumerate(tasks):
        if not isinstance(task, dict):
            continue
        rollback = task.get("on_rollback")
        for field, params in (
            ("params", task.get("params")),
            ("on_rollback.params", rollback.get("params") if isinstance(rollback, dict) else None),
        ):
            size = len(orjson.dumps(params)) if params is not None else 0
            if size > max_params_bytes:
                name = task.get("id") if isinstance(task.get("id"), str) else f"at index {i}"
                raise WorkflowTooLarge(
                    f"task {name}: {field} is {size} bytes of JSON; the limit is {max_params_bytes} (TASKPILOT_MAX_PARAMS_BYTES)"
                )


def _shape_errors(payload: Any, exc: ValidationError) -> list[dict[str, Any]]:
    tasks = payload.get("tasks") if isinstance(payload, dict) else None
    out = []
    for e in exc.errors(include_url=False):
        loc = list(e["loc"])
        index = loc[1] if len(loc) > 1 and loc[0] == "tasks" and isinstance(loc[1], int) else None
        if index is not None:
            raw = tasks[index] if isinstance(tasks, list) and index < len(tasks) else None
            task_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
            field = ".".join(str(p) for p in loc[2:] if p not in ("function-after",)) or "task"
        else:
            task_id, field = None, ".".join(str(p) for p in loc) or "body"
        message = e["msg"] + (f"; got {_short(e['input'])}" if e["type"] not in ("missing", "extra_forbidden") else "")
        out.append(_error(task_id, index, field, message))
    return _sorted(out)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _graph_errors(tasks: list[TaskIn]) -> tuple[list[dict[str, Any]], list[list[int]]]:
    errors, where = [], {}
    for i, t in enumerate(tasks):
        if t["id"] in where:
            errors.append(_error(t["id"], i, "id", f"duplicate task id {t['id']!r} (also the task at index {where[t['id']]})"))
        else:
            where[t["id"]] = i
    parents: list[list[int]] = []
    for i, t in enumerate(tasks):
        row = []
        for dep in t.get("depends_on", []):
            if dep == t["id"]:
                errors.append(_error(t["id"], i, "depends_on", f"task {dep!r} depends on itself"))
            elif dep not in where:
                errors.append(_error(t["id"], i, "depends_on", f"depends on {dep!r}, which is not a task of this workflow"))
            elif where[dep] not in row:
                row.append(where[dep])
        parents.append(row)
    if not errors and (cycle := find_cycle(parents)):
        ids = " -> ".join(tasks[i]["id"] for i in cycle)
        errors.append(
            _error(tasks[cycle[0]]["id"], cycle[0], "depends_on", f"the dependencies make a cycle: {ids} (each depends on the one before)")
        )
    return errors, parents


def _kind_errors(tasks: list[TaskIn], registry: Registry) -> list[dict[str, Any]]:
    errors = []
    for i, t in enumerate(tasks):
        rollback = t.get("on_rollback")
        checks = [("", t["kind"], t.get("params", {}))]
        if rollback:
            checks.append(("on_rollback.", rollback["kind"], rollback.get("params", {})))
        for prefix, kind_name, params in checks:
            kind = registry.get(kind_name)
            if kind is None:
                errors.append(_error(t["id"], i, f"{prefix}kind", f"unknown kind {kind_name!r}; known: {', '.join(registry.names())}"))
                continue
            errors += [_error(t["id"], i, prefix + field, message) for field, message in kind.check(params)]
    return errors


def _jobs(tasks: list[TaskIn], job_fields: list[dict[str, Any]]) -> tuple[JobBatch, list[dict[str, Any]]]:
    """The tasks' job fields through the jobs' own validation (/run's), each with the task's id as client id."""
    errors, rows = [], []
    for i, (t, fields) in enumerate(zip(tasks, job_fields)):
        if "job_id" in fields:
            errors.append(_error(t["id"], i, "job_id", "a task's job takes the task's id as its client id: give no job_id"))
        rows.append({**fields, "job_id": t["id"]})
    try:
        return parse_jobs(rows), errors
    except JobValidationError as exc:
        for e in exc.errors:
            index = e["index"]
            errors.append(_error(None if index is None else tasks[index]["id"], index, e["field"] or "task", e["message"]))
        return JobBatch.empty(), errors


def _task_spec(t: TaskIn, parents: list[int], job: dict[str, Any], registry: Registry) -> TaskSpec:
    kind = registry.get(t["kind"])
    assert kind is not None
    rollback = t.get("on_rollback")
    undo = None
    if rollback:
        undo_kind = registry.get(rollback["kind"])
        assert undo_kind is not None
        undo = {"kind": rollback["kind"], "params": undo_kind.with_defaults(rollback.get("params", {}))}
    retries = RetryPolicy.of(t["retries"]) if "retries" in t else DEFAULT_RETRIES
    return TaskSpec(t["id"], t["kind"], kind.with_defaults(t.get("params", {})), tuple(parents), retries, t.get("timeout_s"),
                    t.get("trigger", "all_success"), undo, job)  # fmt: skip
