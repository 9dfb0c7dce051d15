"""POST /workflows' body (documentation: the route validates it with scheduler.execution.spec, which names the
task and field of every problem) and the answers of the workflow routes (web/routes/workflows.py)."""

from typing import Any, Literal

from pydantic import Field

from scheduler.core.jobs import JOB_SCHEMA
from scheduler.core.states import ATTEMPT_OUTCOMES, TASK_STATES, WORKFLOW_STATES
from scheduler.execution.spec import WORKFLOW
from web.schemas.common import Out

TaskState = Literal[TASK_STATES]  # type: ignore[valid-type]
WorkflowState = Literal[WORKFLOW_STATES]  # type: ignore[valid-type]


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """The schema with its local $refs replaced by what they name (OpenAPI's requestBody has no $defs)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inline(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def body_schema() -> dict[str, Any]:
    """WorkflowIn, each task's schema with the job fields it may carry (JobIn's, but none required: a task's job
    defaults to a balanced job of 10 % cpu and memory; its job_id is the task's id)."""
    raw = WORKFLOW.json_schema()
    schema = _inline(raw, raw.get("$defs", {}))
    task = schema["properties"]["tasks"]["items"]
    job = {k: v for k, v in JOB_SCHEMA["properties"].items() if k != "job_id"}
    task["properties"] = {**task["properties"], **job}
    task["additionalProperties"] = False
    return schema


EXAMPLE = {
    "name": "nightly report",
    "tasks": [
        {"id": "extract", "kind": "analytics", "params": {"rows": 20000}, "priority": "balanced", "cpu": 20, "memory": 30},
        {"id": "score", "kind": "inference", "depends_on": ["extract"], "params": {"batch": 256}, "timeout_s": 60,
         "retries": {"max_attempts": 3, "backoff_s": 1, "max_backoff_s": 30, "jitter": True}},
        {"id": "publish", "kind": "flaky", "depends_on": ["score"], "params": {"p": 0.3},
         "on_rollback": {"kind": "sleep", "params": {"seconds": 0}}},
        {"id": "cleanup", "kind": "sleep", "depends_on": ["publish"], "trigger": "all_done", "params": {"seconds": 0}},
    ],
}  # fmt: skip
FLEXIBLE_EXAMPLE = {
    "name": "carbon-aware batch",
    "deadline": 720,
    "tasks": [
        {"id": "prepare", "kind": "sleep", "duration_min": 30, "urgency": "normal"},
        {"id": "train", "kind": "inference", "depends_on": ["prepare"], "duration_min": 120, "urgency": "flexible",
         "priority": "performance", "cpu": 60},
    ],
}  # fmt: skip


class WorkflowCreatedOut(Out):
    workflow_id: str
    tasks: dict[str, int | None] = Field(description="Each task's id -> its job id in this session (GET /jobs/{id} shows its decision).")


class WorkflowSummaryOut(Out):
    workflow_id: str
    name: str
    state: WorkflowState
    created_at: float = Field(description="Seconds on the executor's clock (a wall clock: since the epoch).")
    finished_at: float | None
    open_tasks: int = Field(description="Tasks not yet in a final state.")


class WorkflowPageOut(Out):
    total: int
    offset: int
    limit: int
    workflows: list[WorkflowSummaryOut]


class AttemptOut(Out):
    n: int
    worker: str = Field(description="fast-N or eco-N: the Gantt's row.")
    started_at: float
    ended_at: float | None
    outcome: Literal[ATTEMPT_OUTCOMES] | None  # type: ignore[valid-type]
    error: str | None
    runtime_s: float | None = Field(description="Measured (wall seconds; a sleep: seconds on the executor's clock).")
    energy_kwh: float | None = Field(description="Estimate from measured runtime (see footprint.label).")
    co2_kg: float | None = Field(description="Estimate from measured runtime; grid sessions only.")
    cpu_energy_j: float | None = Field(description="Measured by RAPL, where the machine has it.")
    result: dict[str, Any] | None


class TransitionOut(Out):
    at: float
    from_: TaskState | None = Field(alias="from")
    to: TaskState
    attempt: int
    worker: str | None
    reason: str


class TaskOut(Out):
    task: str
    index: int
    role: Literal["task", "compensation"]
    compensates: str | None = Field(description="A compensation: the task it undoes.")
    kind: str
    params: dict[str, Any]
    depends_on: list[str]
    layer: int = Field(description="Depth in the DAG: where a page draws it.")
    trigger: Literal["all_success", "all_done"]
    state: TaskState
    job_id: int | None
    server: str | None
    mode: Literal["fast", "eco"]
    deferred_h: float = Field(description="The when-policy's deferral on the session's clock, hours.")
    not_before: float | None
    latest_start: float | None = Field(description="With a workflow deadline: the critical path's latest start.")
    deadline_at: float | None
    attempts_made: int
    failures: int
    max_attempts: int
    timeout_s: float | None
    error: str | None
    attempts: list[AttemptOut]
    transitions: list[TransitionOut]


class ClockOut(Out):
    kind: Literal["wall", "manual"]
    now: float
    scale: float = Field(description="Session-clock seconds per executor second (TASKPILOT_CLOCK_SCALE).")


class CriticalPathOut(Out):
    tasks: list[str]
    length_min: float


class PlanCo2Out(Out):
    run_now_kg: float
    planned_kg: float
    saved_kg: float


class FootprintOut(Out):
    energy_kwh: float | None
    co2_kg: float | None
    label: str
    cpu_energy_j: float | None
    cpu_energy_label: str
    plan: PlanCo2Out | None = Field(description="Grid sessions: the when-policy's timing against every task run as soon as ready.")


class WorkflowOut(WorkflowSummaryOut):
    deadline_min: float | None
    seed: int
    scenario: str | None
    session_clock_utc: str | None
    clock: ClockOut
    critical_path: CriticalPathOut
    counts: dict[TaskState, int]
    rollback: Literal["none", "running", "done", "incomplete"]
    footprint: FootprintOut
    tasks: list[TaskOut]


class CancelOut(Out):
    workflow_id: str
    state: Literal["cancelled"]
    cancelled_tasks: int


class DeadTaskOut(Out):
    workflow_id: str
    task: str
    job_id: int | None
    role: Literal["task", "compensation"]
    kind: str
    attempts_made: int
    failures: int
    error: str | None
    died_at: float


class DeadLetterOut(Out):
    total: int
    offset: int
    limit: int
    tasks: list[DeadTaskOut]


class RetryOut(Out):
    workflow_id: str
    task: str
    job_id: int
    role: Literal["task", "compensation"]
    state: TaskState


class KindOut(Out):
    name: str
    description: str
    runs: Literal["process", "clock"]
    builtin: bool
    params: dict[str, dict[str, Any]]


class KindsOut(Out):
    kinds: list[KindOut]
    queue_order: str
    pools: dict[str, int]
    clock: ClockOut
