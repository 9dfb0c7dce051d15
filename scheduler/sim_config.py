"""What a simulation may be asked for: the options of `python -m scheduler.evaluate` and POST /simulate.

Kept apart from the simulator so the web layer can validate requests (and describe them in OpenAPI)
without importing the simulator at start-up.
"""

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

POLICIES: tuple[str, ...] = ("tier_agents", "round_robin", "random", "greedy", "least_loaded", "lowest_carbon", "oracle")
"""Every policy `scheduler.policies.make_policy` builds, in report order."""
DEFAULT_LOAD = 0.7
"""Offered load of the busiest pool for generated arrivals (task trace, Poisson)."""
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


class EvaluationCancelled(Exception):
    """The caller's cancel() returned True between two chunks of jobs."""


class EvaluationConfig(BaseModel):
    """What to evaluate; the API can take it as its request body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workload: Literal["task", "poisson", "gaia-azure", "gaia-pai", "file"] = "task"
    """A named workload; "file" means the caller passes the Workload itself (the CLI's PATH.csv)."""
    scenario: Literal["grid", "reference"] = "grid"
    policies: tuple[str, ...] = POLICIES
    jobs: int = Field(10_000, ge=1, le=MAX_JOBS, strict=True)  # strict: true/false or "12" are not job counts
    seed: int | None = Field(None, ge=0, le=2**63 - 1, strict=True)
    load: float = Field(DEFAULT_LOAD, ge=MIN_LOAD, le=2)
    """Offered load of the busiest pool, for the task and poisson workloads (GAIA keeps its real times)."""
    start_hour: int = Field(0, ge=0, le=GRID_HOURS - 1)
    """Hour of the carbon series at simulation time 0: from 2021-01-01 00:00 UTC in the grid scenario
    (0..GRID_HOURS - 1), of the proxy's year in the reference scenario (0..REFERENCE_HOURS - 1)."""
    basis: Literal["direct", "lca"] = "direct"
    power_curve: Literal["linear", "specpower"] = "linear"
    starvation_min: float = Field(DEFAULT_STARVATION_MIN, gt=0)
    windows: int = Field(20, ge=1, le=1000)
    """Windows of jobs in the learning curve."""
    pretrain_episodes: int = Field(DEFAULT_PRETRAIN_EPISODES, ge=0, le=MAX_PRETRAIN_EPISODES, strict=True)
    """Pre-training episodes per tier agent on the reference scenario, from the run's seed (tier_agents)."""

    @model_validator(mode="after")
    def _start_in_series(self) -> "EvaluationConfig":
        if self.scenario == "reference" and self.start_hour >= REFERENCE_HOURS:
            raise ValueError(f"start_hour must be at most {REFERENCE_HOURS - 1} in the reference scenario (its carbon series is one year); got {self.start_hour}")
        return self

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
