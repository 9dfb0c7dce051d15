"""Answers of the job routes (web/routes/jobs.py): ids of queued jobs, and the decisions in their full and
compact forms as scheduler/service/decisions.py encodes them (documentation: FastAPI never validates them)."""

from typing import Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from scheduler.core.states import MODES, STATUSES, URGENCIES
from web.schemas.common import Band, ClientJobId, Latency, Out, Runs, ServerMap, Tier


class SubmitOut(Out):
    job_id: int


class SubmitBatchOut(Out):
    job_ids: list[int]
    count: int


class UploadOut(SubmitBatchOut):
    filename: str | None


class ResetOut(Out):
    status: Literal["reset ok"]


class TimingOut(Out):
    """When and how a job runs: grid sessions only (absent in the reference scenario)."""

    urgency: Literal[URGENCIES] | SkipJsonSchema[None] = None  # type: ignore[valid-type]
    status: Literal[STATUSES] | SkipJsonSchema[None] = None  # type: ignore[valid-type]
    mode: Literal[MODES] | SkipJsonSchema[None] = None  # type: ignore[valid-type]
    carbon_band: Band | SkipJsonSchema[None] = None
    start_at: str | SkipJsonSchema[None] = None
    finish_at: str | SkipJsonSchema[None] = None
    deadline_at: str | None = Field(None, description="Grid sessions: null when the job has no deadline.")
    co2_saved_kg: float | SkipJsonSchema[None] = None
    co2_run_now_kg: float | SkipJsonSchema[None] = None


FigureSource = Literal["given", "model"]


class SourcesOut(Out):
    """Whose figures a decision's energy and CO2 are, and the figures the job gave (scheduler/placement/given.py)."""

    energy_source: FigureSource = Field(description="given: the job's estimated_kwh (grid sessions); model: TaskPilot's.")
    co2_source: FigureSource = Field(
        description="given: the job's co2_kg (grid sessions, without estimated_kwh); model: energy x intensity (or the seed's)."
    )
    given_energy_kwh: float | SkipJsonSchema[None] = Field(None, description="The job's estimated_kwh as sent; only when sent.")
    given_co2_kg: float | SkipJsonSchema[None] = Field(None, description="The job's co2_kg as sent; only when sent.")


class ServerScoreOut(Out):
    perf_score: float
    cost_score: float
    co2_score: float
    lat_score: float
    capacity_score: float
    final: float
    in_pool: bool
    server_load: int


class ServerMetricsOut(Out):
    energy_kwh: float
    cost: float
    co2: float
    carbon_intensity_g_per_kwh: float | SkipJsonSchema[None] = None
    runtime_min: float | SkipJsonSchema[None] = None
    capacity_tier: float


class ReferenceStateOut(Out):
    load: float
    energy_price: float
    carbon_factor: float
    energy_factor: float
    steel_energy_kwh: float
    steel_co2: float
    load_type: str
    week_status: str
    day_of_week: str


class GridStateOut(Out):
    clock_utc: str
    energy_price: float
    carbon_factor: float
    carbon_intensity_g_per_kwh: float
    runtime_min: float
    signal: str


class AttributionOut(Out):
    """Why the agent preferred the chosen server to `versus`: each feature's term, (W[chosen] - W[versus])
    x the feature's value, the terms summing to Q(chosen) - Q(versus) (scheduler/service/decisions.py)."""

    versus: str | None = Field(description="The best-scored other server the job could take; null when none.")
    terms: dict[str, float] = Field(description="Feature name (GET /agents' features) -> its term.")


class DecisionOut(TimingOut, SourcesOut):
    """One scheduled job in the reference's full form (POST /run, GET /jobs/{id})."""

    job_id: int
    client_job_id: ClientJobId = None
    chosen_dc: str
    scores: ServerMap
    score_breakdown: dict[str, ServerScoreOut]
    rl_q_values: ServerMap = Field(description="The tier agent's Q-value for each server of the job's pool.")
    rl_reward: float
    reward: float
    priority: Tier
    latency: Latency
    state: ReferenceStateOut | GridStateOut
    power_kwh: float
    cost: float
    co2: float
    all_metrics: dict[str, ServerMetricsOut]
    attribution: AttributionOut
    runs: Runs | SkipJsonSchema[None] = None
    explanation: str


class DecisionCompactOut(TimingOut, SourcesOut):
    """The decision's essentials (POST /run?detail=compact, GET /history, deferred jobs in GET /queue)."""

    job_id: int
    client_job_id: ClientJobId = None
    chosen_dc: str
    priority: Tier
    latency: Latency
    cpu: float
    memory: float
    reward: float
    rl_reward: float
    energy_kwh: float
    cost: float
    co2_kg: float
    carbon_factor: float
    carbon_intensity_g_per_kwh: float | SkipJsonSchema[None] = None
    runtime_min: float | SkipJsonSchema[None] = None
    explored: bool
    reason: str | SkipJsonSchema[None] = Field(None, description="POST /run only: a one-line reason.")


class RunOut(Out):
    scheduled_jobs: list[DecisionOut] | list[DecisionCompactOut] = Field(description="Full objects, or compact ones with detail=compact.")
    server_loads: dict[str, int]
    clock_utc: str | SkipJsonSchema[None] = Field(None, description="Grid sessions: the session clock after the run.")


class HistoryOut(Out):
    total: int
    offset: int
    limit: int
    jobs: list[DecisionCompactOut]


class QueuedJobOut(Out):
    """A queued job as it was sent (optional fields only when given)."""

    job_id: int
    client_job_id: ClientJobId = None
    priority: Tier
    latency: Latency
    cpu: float
    memory: float
    urgency: Literal[URGENCIES]  # type: ignore[valid-type]
    estimated_kwh: float | SkipJsonSchema[None] = None
    co2_kg: float | SkipJsonSchema[None] = None
    duration_min: float | SkipJsonSchema[None] = None
    size: float | SkipJsonSchema[None] = None
    intensity: float | SkipJsonSchema[None] = None
    power_w: float | SkipJsonSchema[None] = None
    deadline: float | str | SkipJsonSchema[None] = None
    interruptible: bool | SkipJsonSchema[None] = None


class QueueOut(Out):
    total: int
    offset: int
    limit: int
    jobs: list[QueuedJobOut]
    deferred_total: int
    deferred_offset: int
    deferred_limit: int
    deferred: list[DecisionCompactOut]
    clock_utc: str | None = Field(description="Grid sessions: the session clock; null otherwise.")
