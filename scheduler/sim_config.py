"""What a simulation may be asked for: the options of `python -m scheduler.evaluate` and POST /simulate.

Kept apart from the simulator so the web layer can validate requests (and describe them in OpenAPI)
without importing the simulator at start-up.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

POLICIES: tuple[str, ...] = ("tier_agents", "round_robin", "random", "greedy", "least_loaded", "lowest_carbon", "oracle")
"""Every policy `scheduler.policies.make_policy` builds, in report order."""
DEFAULT_LOAD = 0.7
"""Offered load of the busiest pool for generated arrivals (task trace, Poisson)."""
DEFAULT_STARVATION_MIN = 60.0
"""A job waiting longer than this to start counts as starved."""
MAX_JOBS = 200_000
"""Jobs per evaluation at most: peak memory is about 1.8 KB per job (177 MB traced for 100,000)."""


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
    load: float = Field(DEFAULT_LOAD, gt=0, le=2)
    """Offered load of the busiest pool, for the task and poisson workloads (GAIA keeps its real times)."""
    start_hour: int = Field(0, ge=0)
    """Hour of the carbon series (from 2021-01-01 00:00 UTC in the grid scenario) at simulation time 0."""
    basis: Literal["direct", "lca"] = "direct"
    power_curve: Literal["linear", "specpower"] = "linear"
    starvation_min: float = Field(DEFAULT_STARVATION_MIN, gt=0)
    windows: int = Field(20, ge=1, le=1000)
    """Windows of jobs in the learning curve."""

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
