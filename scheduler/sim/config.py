"""What a simulation may be asked for: the options of `python -m scheduler.evaluate` and POST /simulate.

Kept apart from the simulator so the web layer can validate requests (and describe them in OpenAPI)
without importing the simulator at start-up.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scheduler.core.bands import BandPolicy
from scheduler.core.states import folded
from scheduler.data.workloads import DEFAULT_LOAD

POLICIES: tuple[str, ...] = (
    "tier_agents",
    "round_robin",
    "random",
    "greedy",
    "least_loaded",
    "lowest_carbon",
    "greenest_free",
    "oracle",
    "dqn",
)
"""Every policy `scheduler.sim.policies.make_policy` builds, in report order. A new name goes after the ones
using a random stream (tier_agents, random): seed_streams hands out streams by position."""
REFERENCE_STEPS = 10
"""Bisection steps of the constrained reference's search (scheduler/sim/reference.py): with its first run,
REFERENCE_STEPS + 1 simulations of the jobs, so the search brackets the weight to within 2 %."""
MIN_LOAD = 0.01
"""Lowest offered load accepted: arrivals stretch by 1 / load, and 0.01 already spreads 20,000 task-trace
jobs over about nine years (far lower loads push arrival times past any meaningful clock)."""
DEFAULT_STARVATION_MIN = 60.0
"""A job waiting longer than this to start counts as starved."""
MAX_JOBS = 200_000
"""Jobs per evaluation at most: peak memory is about 1.8 KB per job (177 MB traced for 100,000)."""
GRID_HOURS = 26_280
"""Hours in the shipped grid series (dataset_rl/grid: 2021-01-01 to 2023-12-31 UTC, hourly, 3 x 8,760);
a start hour must fall inside it. Tests check it against load_grid(...).n_hours."""
REFERENCE_HOURS = 8_760
"""Hours in the reference scenario's carbon series (the steel plant's 35,040 quarter-hours, one year);
tests check it against reference_clock."""
DEFAULT_PRETRAIN_EPISODES = 500
"""Pre-training episodes per tier agent, as the service's default (Settings.pretrain_episodes)."""
MAX_PRETRAIN_EPISODES = 10_000
"""About 0.6 s of pre-training with the compiled kernel (rl/kernel), longer without it."""


MAX_STARVATION_MIN = 366 * 24 * 60.0
"""A year: a job waiting longer than any simulated span never counts as starved, so nothing is lost."""
Share = Annotated[float, Field(ge=0, le=1, strict=True)]
"""A fraction 0..1. Every number here is strict: a JSON true/false or "0.5" is refused naming its field,
where lax parsing would read true as 1."""


class EvaluationConfig(BaseModel):
    """What to evaluate; the API can take it as its request body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workload: Literal["task", "poisson", "gaia-azure", "gaia-pai", "file"] = "task"
    """A named workload; "file" means the caller passes the Workload itself (the CLI's PATH.csv)."""
    scenario: Literal["grid", "reference"] = "grid"
    policies: tuple[str, ...] = POLICIES
    jobs: int = Field(10_000, ge=1, le=MAX_JOBS, strict=True)  # strict: true/false or "12" are not job counts
    seed: int | None = Field(None, ge=0, le=2**63 - 1, strict=True)
    load: float = Field(DEFAULT_LOAD, ge=MIN_LOAD, le=2, strict=True)
    """Offered load of the busiest pool, for the task and poisson workloads (GAIA keeps its real times)."""
    start_hour: int = Field(0, ge=0, le=GRID_HOURS - 1, strict=True)
    """Hour of the carbon series at simulation time 0: from 2021-01-01 00:00 UTC in the grid scenario
    (0..GRID_HOURS - 1), of the proxy's year in the reference scenario (0..REFERENCE_HOURS - 1)."""
    basis: Literal["direct", "lca"] = "direct"
    power_curve: Literal["linear", "specpower"] = "linear"
    starvation_min: float = Field(DEFAULT_STARVATION_MIN, gt=0, le=MAX_STARVATION_MIN, strict=True)
    windows: int = Field(20, ge=1, le=1000, strict=True)
    """Windows of jobs in the learning curve."""
    pretrain_episodes: int = Field(DEFAULT_PRETRAIN_EPISODES, ge=0, le=MAX_PRETRAIN_EPISODES, strict=True)
    """Pre-training episodes per tier agent on the reference scenario, from the run's seed (tier_agents)."""
    reference: bool = Field(True, strict=True)
    """Compute the constrained reference (least CO2 incl. idle at least_loaded's mean completion, with hindsight)
    and each policy's gap to it: REFERENCE_STEPS + 1 more simulations, and least_loaded's if it is not listed."""

    def job_runs(self) -> int:
        """Simulations of the jobs this run makes (its work is jobs x this): one per policy, plus the reference's."""
        extra = REFERENCE_STEPS + 1 + ("least_loaded" not in self.policies) if self.reference else 0
        return len(self.policies) + extra

    @model_validator(mode="after")
    def _start_in_series(self) -> "EvaluationConfig":
        if self.scenario == "reference" and self.start_hour >= REFERENCE_HOURS:
            raise ValueError(
                f"start_hour must be at most {REFERENCE_HOURS - 1} in the reference scenario (its carbon series is one year); got "
                f"{self.start_hour}"
            )
        return self

    @field_validator("scenario", mode="before")
    @classmethod
    def _scenario_in_any_case(cls, value: Any) -> Any:
        return folded(value)

    @field_validator("policies", mode="before")
    @classmethod
    def _policies(cls, value: Any) -> Any:
        if isinstance(value, str):
            names = [p.strip() for p in value.split(",")]
        elif isinstance(value, (list, tuple)) and all(isinstance(p, str) for p in value):
            names = list(value)
        else:
            raise ValueError(f"policies must be 'all', a comma-separated string or a list of names; got {value!r}")
        names = list(POLICIES) if names == ["all"] else names
        unknown = [p for p in names if p not in POLICIES]
        if unknown or not names or len(set(names)) != len(names):
            raise ValueError(f"policies must be 'all' or distinct names from {', '.join(POLICIES)}; got {value!r}")
        return tuple(names)


def resolve_seed(seed: int | None) -> int:
    """`seed`, or a fresh one from the OS's entropy (63 bits, so JSON carries it exactly) to report."""
    return seed if seed is not None else int(np.random.SeedSequence().entropy) % 2**63  # type: ignore[operator]


DEFERRAL_REGIONS: tuple[str, ...] = ("ES", "NO", "US-CAL-CISO", "BR", "DE", "GB", "FR", "CAISO_NORTH")
"""Regions of the deferral study (scheduler/studies/deferral.py, which says where each one's data comes from):
the four shipped Electricity Maps zones, then three lets-wait-awhile countries and WattTime's CAISO
North, which need ../shared/data."""
DEFERRAL_FORECASTS: tuple[str, ...] = ("perfect", "noisy", "persistence", "issued")
"""Forecast kinds of the forecast strategies (scheduler/timeshift/forecast.py); "issued" only where issued
forecasts exist (CAISO_NORTH)."""
MAX_NOISY_SEEDS = 100


class DeferralConfig(BaseModel):
    """What the deferral study compares ("when to run"): POST /simulate with study "deferral" and
    `python -m scheduler.evaluate --study deferral` take it. See scheduler/studies/deferral.py for the model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    study: Literal["deferral"] = "deferral"
    regions: tuple[str, ...] = DEFERRAL_REGIONS[:4]
    """Comma-separated string or list, from DEFERRAL_REGIONS."""
    workload: Literal["task", "gaia-azure"] = "task"
    """Job lengths and arrival pattern: the task trace (Poisson arrivals) or GAIA's Azure sample."""
    jobs: int = Field(5_000, ge=1, le=MAX_JOBS, strict=True)
    seed: int | None = Field(None, ge=0, le=2**63 - 1, strict=True)
    start: str | None = None
    """ISO date or time (UTC) of the first arrival in every region; empty: each region's series start
    plus band_window_h (the history the bands need)."""
    span_h: int = Field(168, ge=1, le=24 * 366, strict=True)
    """Arrivals are spread over this many hours from `start`."""
    slack_h: float = Field(12.0, ge=0, le=24 * 7, strict=True)
    """A flexible job's deadline: submit + FAST runtime + slack_h."""
    urgency_mix: tuple[Share, Share, Share] = (0.2, 0.4, 0.4)
    """Shares of critical, normal and flexible jobs (they must sum to 1)."""
    interruptible_share: Share = 0.5
    """Share of flexible jobs that may be interrupted and resumed."""
    forecasts: tuple[str, ...] = DEFERRAL_FORECASTS
    seeds: int = Field(10, ge=1, le=MAX_NOISY_SEEDS, strict=True)
    """Runs of the noisy forecast (each its own stream); its figures are their mean, with a std."""
    forecast_error: float = Field(0.1, ge=0, le=1, strict=True)
    """The noisy forecast's error: N(0, forecast_error x the series mean) per slot."""
    bands: str = "p33,p67"
    """The threshold strategy's bands (bands.BandPolicy.parse): "p33,p67" or gCO2/kWh "140,260"."""
    band_window_h: int = Field(168, ge=1, le=24 * 30, strict=True)
    threshold_forecast: Literal["persistence", "perfect", "noisy"] = "persistence"
    """The forecast the threshold strategy's deferred jobs are planned with."""
    basis: Literal["direct", "lca"] = "direct"
    """Emissions basis of the shipped Electricity Maps zones (the others have one signal)."""
    power_curve: Literal["linear", "specpower"] = "linear"

    @field_validator("regions", "forecasts", mode="before")
    @classmethod
    def _names(cls, value: Any, info: Any) -> Any:
        known = DEFERRAL_REGIONS if info.field_name == "regions" else DEFERRAL_FORECASTS
        names = [p.strip() for p in value.split(",") if p.strip()] if isinstance(value, str) else value
        if not isinstance(names, (list, tuple)) or not all(isinstance(p, str) for p in names):
            raise ValueError(f"{info.field_name} must be a comma-separated string or a list of names; got {value!r}")
        names = list(known) if names == ["all"] else names
        unknown = [p for p in names if p not in known]
        if unknown or len(set(names)) != len(names) or (info.field_name == "regions" and not names):
            raise ValueError(f"{info.field_name} must be 'all' or distinct names from {', '.join(known)}; got {value!r}")
        return tuple(names)

    @field_validator("urgency_mix", mode="before")
    @classmethod
    def _mix(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return tuple(float(p) for p in value.split(","))
            except ValueError:
                raise ValueError(f"urgency_mix must be three shares like '0.2,0.4,0.4'; got {value!r}") from None
        return value

    @field_validator("urgency_mix")
    @classmethod
    def _mix_sums_to_one(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if min(value) < 0 or abs(sum(value) - 1.0) > 1e-6:
            raise ValueError(f"urgency_mix (critical, normal, flexible) must be shares >= 0 summing to 1; got {value}")
        return value

    @field_validator("start")
    @classmethod
    def _start(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            when = datetime.fromisoformat(value)
            if when.tzinfo is not None:  # OverflowError: an offset that moves it past year 1 or 9999
                when = when.astimezone(UTC).replace(tzinfo=None)
        except (ValueError, OverflowError):
            raise ValueError(f"start must be an ISO date or time such as 2021-06-01T00:00 (UTC); got {value!r}") from None
        return when.isoformat(timespec="minutes")

    @field_validator("bands")
    @classmethod
    def _bands(cls, value: str) -> str:
        BandPolicy.parse(value)
        return value
