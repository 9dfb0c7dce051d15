"""Answers of the info and session routes (web/routes/info.py), and the body of POST /explain."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from scheduler.core.states import MODES
from web.params import MAX_SAFE_INT, MAX_SEED
from web.schemas.common import Band, Out, Tier


class HealthOut(Out):
    status: Literal["ok"]
    build: str
    run_accepts_body: bool


class SessionOut(Out):
    session_id: str
    seed: int = Field(ge=0, le=MAX_SEED)
    scenario: Literal["reference", "grid"]


class InfoOut(Out):
    n_servers: int
    server_ids: list[str]
    tier_pools: dict[Tier, list[str]]


class ServerTierOut(Out):
    capacity_tier: float
    in_green_pool: bool
    in_balanced_pool: bool
    in_performance_pool: bool


class TiersOut(Out):
    server_tiers: dict[str, ServerTierOut]
    total_servers: int


class ModeOut(Out):
    core_fraction: float
    frequency: float
    runtime_factor: float


class WhenPolicyOut(Out):
    bands: str
    rule: str
    forecast: str
    flexible_slack_h: float
    modes: dict[Literal[MODES], ModeOut]  # type: ignore[valid-type]


class ZoneBandOut(Out):
    band: Band
    reading_g_per_kwh: float = Field(
        description="The zone's latest reading (the hour before the next job's clock), what its band compares."
    )
    low_g_per_kwh: float
    high_g_per_kwh: float


class RecommendationBasisOut(Out):
    job: dict[str, float]
    co2_g_by_pool: dict[Tier, float]
    rule: str


class SustainabilityOut(Out):
    carbon_factor: float
    recommendation: Literal["performance", "balanced", "green"]
    message: str
    carbon_band: Band = Field(description="Grid sessions: the band most servers' grids are in (the higher on a tie).")
    band_scale: str = Field(description="The scale carbon_band is read on: the one the next job's decision uses.")
    scenario: Literal["reference", "grid"]
    signal: str
    carbon_bands: dict[str, ZoneBandOut] | SkipJsonSchema[None] = Field(
        None, description="Grid sessions: each zone's band, as a job placed there would get it."
    )
    servers_by_band: dict[Band, int] | SkipJsonSchema[None] = None
    clock_utc: str | SkipJsonSchema[None] = None
    carbon_intensity_g_per_kwh: dict[str, float] | SkipJsonSchema[None] = None
    server_zones: dict[str, str] | SkipJsonSchema[None] = None
    carbon_factor_basis: str | SkipJsonSchema[None] = None
    recommendation_basis: RecommendationBasisOut | SkipJsonSchema[None] = Field(
        None, description="Grid sessions: the recommended priority is the tier whose pool would emit least now for this job."
    )
    when_policy: WhenPolicyOut | SkipJsonSchema[None] = None


class TimingSummaryOut(Out):
    deferred_jobs: int
    eco_jobs: int
    fast_jobs: int
    co2_run_now_kg: float
    co2_saved_kg: float
    co2_saved_pct: float
    co2_saved_expected_kg: float
    mean_deferral_h: float
    deadline_misses: int


class EfficiencyOut(Out):
    """Measured on this session's jobs, each as if run now on every server (scheduler/service/efficiency.py)."""

    unit: str
    basis: str
    by_server: dict[str, float]
    by_pool: dict[Tier, float]
    most_efficient_server: str
    co2_if_all_on_pool_kg: dict[Tier, float]


class AdviceOut(Out):
    part: str = Field(description="The score part that costs the most points.")
    text: str


class SummaryOut(Out):
    total_jobs: int
    queued_jobs: int
    avg_reward: float
    total_energy_kwh: float
    total_co2_kg: float
    total_cost: float
    co2_baseline_kg: float
    co2_avoided_kg: float
    green_ratio: float
    jobs_by_priority: dict[Tier, int]
    jobs_by_server: dict[str, int]
    sustainability_score: float = Field(ge=0, le=100)
    score_parts: dict[str, float]
    score_weights: dict[str, float]
    carbon_score_basis: str | SkipJsonSchema[None] = Field(
        None, description="What the carbon score measured: the carbon of the hours the jobs run (grid: a deferred job's from its start)."
    )
    units: dict[str, str]
    scenario: Literal["reference", "grid"]
    timing: TimingSummaryOut | SkipJsonSchema[None] = None
    efficiency: EfficiencyOut | SkipJsonSchema[None] = None
    advice: AdviceOut | SkipJsonSchema[None] = None


class AgentOut(Out):
    servers: list[str]
    features: list[str]
    weights: list[list[float]] = Field(description="One row per pool server, one column per feature.")
    steps: int
    epsilon: float


class DQNOut(Out):
    features: list[str] = Field(description="The state's entries: each pool position's grid, queue and job figures, then the tier.")
    actions: str
    hidden: list[int]
    lam_g_per_min: float = Field(description="g CO2 a minute of completion was worth in its training reward.")
    trained_steps: int
    trained_on: dict[str, Any]


class AgentsOut(Out):
    agents: dict[Tier, AgentOut]
    policy: Literal["tier_agents", "dqn"] = Field(
        "tier_agents",
        description="What places this session's jobs: the tier agents, or in grid sessions with TASKPILOT_GRID_POLICY=dqn the DQN.",
    )
    dqn: DQNOut | SkipJsonSchema[None] = None


class ExplainIn(BaseModel):
    """A scheduled job's `job_id`, or a `priority` for the tier-level text. Other fields are allowed and
    ignored, so a client may post back a whole decision: the explanation comes from the server's record."""

    model_config = ConfigDict(extra="allow")

    job_id: int | None = Field(None, ge=1, le=MAX_SAFE_INT)
    priority: str | None = Field(None, description="green, balanced or performance (any case).")


class ExplanationOut(Out):
    job_id: int | SkipJsonSchema[None] = Field(None, description="Absent for a tier-level explanation.")
    explanation: str
    source: str = Field(description="template, llm or llm-cache.")
    note: str | None
