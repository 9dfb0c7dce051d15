"""POST /plan's body and answer (web/routes/plan.py)."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic.types import FailFast

from scheduler.data.grid import ZONES
from web.body_guard import MAX_OBJECT_KEYS
from web.params import MAX_SEED
from web.schemas.common import Out, Runs, StrictFloat, StrictInt

MAX_CAPACITY = 1_000_000
"""More jobs per slot than a plan may hold (TASKPILOT_MAX_PLAN_JOBS is far lower) is the same as no limit;
the bound keeps the number inside the planner's int64 arithmetic."""
Zone = Literal[ZONES]  # type: ignore[valid-type]
IsoTime = Annotated[str, Field(max_length=64, json_schema_extra={"format": "date-time"})]
"""An ISO time, UTC unless it gives an offset: RFC 3339 (2023-01-01T06:00:00Z), or to the minute (2023-01-01T06:00Z).
At most 64 characters: numpy's reader took 5 s and 4 GB over one 8 MB string."""


def ONE_SERIES(field: str, kind: str) -> dict[str, Any]:  # noqa: N802 -- reads as the constant it builds
    return {"required": [field], "properties": {field: {"type": kind}}}


ZONE_WINDOW = {"required": ["zone", "start", "end"], "properties": {"zone": {"type": "string"}}}
"""A shipped zone comes with its window: there is no default one."""

EXAMPLE = {
    "carbon": {
        "times": ["2023-01-01T00:00:00Z", "2023-01-01T01:00:00Z", "2023-01-01T02:00:00Z", "2023-01-01T03:00:00Z"],
        "values": [310, 240, 120, 180],
    },
    "jobs": [
        {"job_id": "backup", "submit_time": "2023-01-01T00:00:00Z", "duration_min": 60, "deadline": 240, "power_w": 300},
        {
            "job_id": "report",
            "submit_time": "2023-01-01T00:30:00Z",
            "duration_min": 45,
            "deadline": "2023-01-01T04:00:00Z",
            "interruptible": True,
        },
    ],
    "forecasts": ["perfect", "persistence"],
}


class _FewKeys(BaseModel):
    """A body object of more keys than any request has is one problem, not one per unknown key (pydantic
    reports each: a million of them cost 36 s to describe)."""

    @model_validator(mode="before")
    @classmethod
    def _few_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and len(data) > MAX_OBJECT_KEYS:
            raise ValueError(f"this object has {len(data):,} keys; an object may have at most {MAX_OBJECT_KEYS:,} (the fields are "
                             f"{', '.join(cls.model_fields)})")  # fmt: skip
        return data


# Lists stop at their first bad item (FailFast): a million bad values were two million errors, 2 s and
# 1.3 GB inside pydantic before FastAPI spent 100 s describing them; the first one says what is wrong.
class CarbonSeriesIn(_FewKeys):
    model_config = ConfigDict(extra="forbid", frozen=True)

    times: Annotated[list[IsoTime], FailFast()] = Field(description="ISO times (UTC unless they give an offset), one per value, ascending.")
    values: Annotated[list[StrictFloat | str | None], FailFast()] = Field(
        description="Carbon intensity per time; each holds until the next time."
    )
    unit: Literal["g_per_kwh", "lbs_per_mwh"] = "g_per_kwh"


class PlanJobIn(BaseModel):
    """One job of POST /plan (documentation: scheduler/timeshift/inputs.py checks the list, naming each
    problem's `index`, `field` and `message`)."""

    job_id: str | int
    submit_time: IsoTime
    duration_min: float = Field(gt=0, le=366 * 24 * 60)
    deadline: IsoTime | float | None = Field(None, description="ISO time, or minutes after submission; empty or null: none.")
    interruptible: bool | str | None = Field(None, description="true/false, 1/0, yes/no; default false.")
    power_w: float | None = Field(None, gt=0, le=1e7, description="Default 1 W.")


class PlanIn(_FewKeys):
    """The CLI's inputs: a series (inline `carbon`, or a shipped `zone` between `start` and `end`), the
    jobs, and the forecasts to compare with running now and with the perfect forecast."""

    # The schema says "exactly one of carbon or zone" too, so generated clients and the fuzzer send one.
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"oneOf": [ONE_SERIES("carbon", "object"), ZONE_WINDOW]})

    carbon: CarbonSeriesIn | None = None
    zone: Zone | None = Field(
        None, description="A shipped Electricity Maps zone (hourly average intensity, 2021-2023) instead of `carbon`."
    )
    basis: Literal["direct", "lca"] = "direct"
    start: IsoTime | None = Field(None, description="With `zone` (required there): the first hour, within 2021-01-01 .. 2024-01-01.")
    end: IsoTime | None = Field(None, description="With `zone` (required there): the end (exclusive), within 2021-01-01 .. 2024-01-01.")
    jobs: Annotated[list[dict[str, Any]], FailFast()] = Field(
        description="job_id, submit_time, duration_min, deadline (ISO or minutes after submission; empty: none), interruptible, power_w.",
        json_schema_extra={"items": PlanJobIn.model_json_schema()},
    )
    forecasts: Annotated[list[Literal["perfect", "noisy", "persistence"]], FailFast()] = ["perfect"]
    forecast_error: StrictFloat = Field(0.05, ge=0, le=2)
    seeds: StrictInt = Field(10, ge=1, le=100)
    seed: StrictInt = Field(0, ge=0, le=MAX_SEED)
    step_min: StrictInt | None = Field(None, ge=1, le=1440)
    capacity: StrictInt | None = Field(None, ge=1, le=MAX_CAPACITY, description="Jobs that may run in one slot; default: no limit.")

    @model_validator(mode="after")
    def _one_series(self) -> "PlanIn":
        if (self.carbon is None) == (self.zone is None):
            raise ValueError("give exactly one of carbon (inline times and values) or zone (a shipped series)")
        stray = [f for f in ("basis", "start", "end") if f in self.model_fields_set and self.carbon is not None]
        if stray:  # read only with a zone: an inline series has its own times and basis
            raise ValueError(f"{', '.join(stray)} go with zone, not with an inline carbon series (it has its own times)")
        return self


class PlanSeriesOut(Out):
    start: str
    end: str
    step_min: int
    source_step_min: int
    slots: int
    unit: str
    source_unit: str
    column: str


class PlanSettingsOut(Out):
    forecasts: list[str]
    forecast_error: float
    seeds: int
    seed: int
    capacity: int | None


class StrategyOut(Out):
    emissions_kg: float
    saved_kg: float
    saved_pct: float
    runs: int
    deadline_misses: int
    mean_delay_min: float
    emissions_kg_std: float | SkipJsonSchema[None] = Field(None, description="Noisy forecast: std over its runs.")
    capacity_overflows: int | SkipJsonSchema[None] = Field(None, description="With `capacity`.")


class JobPlanOut(Out):
    job_id: str
    submit_time: str
    deadline: str | None
    duration_min: float
    interruptible: bool
    power_w: float
    baseline_start: str
    runs: dict[str, Runs] = Field(description="Per strategy, the job's runs.")


class PlanOut(Out):
    series: PlanSeriesOut
    settings: PlanSettingsOut
    jobs: int
    flexible_jobs: int
    baseline: dict[Literal["emissions_kg"], float]
    strategies: dict[str, StrategyOut] = Field(description="run_now, perfect and each forecast asked for.")
    plans: list[JobPlanOut]
    warnings: list[str]
