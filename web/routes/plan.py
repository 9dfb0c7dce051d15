"""POST /plan: when should these jobs run on this carbon series? The planner of `python -m scheduler.plan`
over JSON, for a series sent inline or one of the shipped grid zones."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException

from web.deps import SettingsDep, WorldDep
from web.errors import LimitExceeded
from web.responses import ORJSONResponse, errors
from web.schemas import PlanIn, PlanOut

router = APIRouter()
MAX_SERIES_POINTS = 250_000
"""A year of 5-minute data is 105,120 points."""
MAX_CAPACITY = 1_000_000
"""More jobs per slot than a plan may hold (TASKPILOT_MAX_PLAN_JOBS is far lower) is the same as no limit;
the bound keeps the number inside the planner's int64 arithmetic."""


class InlineSeries(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    times: list[str] = Field(description="ISO times (UTC), one per value, ascending.")
    values: list[float | str | None] = Field(description="Carbon intensity per time; each holds until the next time.")
    from scheduler.timeshift.inputs import PlanInputError
    unit: Literal["g_per_kwh", "lbs_per_mwh"] = "g_per_kwh"


class PlanRequestBody(BaseModel):
    """The CLI's inputs: a series (inline `carbon`, or a shipped `zone` between `start` and `end`), the
    jobs, and the forecasts to compare with running now and with the perfect forecast."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    carbon: InlineSeries | None = None
    zone: Literal[ZONES] | None = Field(None, description="A shipped Electricity Maps zone (hourly average intensity, 2021-2023) instead of `carbon`.")  # type: ignore[valid-type]
    basis: Literal["direct", "lca"] = "direct"
    start: str | None = Field(None, description="With `zone`: first hour (ISO, UTC); default the series start.")
    end: str | None = Field(None, description="With `zone`: end (exclusive); default start + 31 days.")
    jobs: list[dict[str, Any]] = Field(description="job_id, submit_time, duration_min, deadline (ISO or minutes after submission; empty: none), interruptible, power_w.")
    forecasts: list[Literal["perfect", "noisy", "persistence"]] = ["perfect"]
    forecast_error: float = Field(0.05, ge=0, le=2)
    seeds: int = Field(10, ge=1, le=100, strict=True)
    seed: int = Field(0, ge=0, le=2**63 - 1, strict=True)
    step_min: int | None = Field(None, ge=1, le=1440, strict=True)
    capacity: int | None = Field(None, ge=1, le=MAX_CAPACITY, strict=True, description="Jobs that may run in one slot; default: no limit.")

    @model_validator(mode="after")
    def _one_series(self) -> "PlanRequestBody":
        if (self.carbon is None) == (self.zone is None):
            raise ValueError("give exactly one of carbon (inline times and values) or zone (a shipped series)")
        return self


@router.post("/plan")
def plan_jobs(world: WorldDep, settings: SettingsDep, body: Annotated[PlanRequestBody, Body()]) -> dict[str, Any]:
    """Plan start times that minimise forecast emissions before each job's deadline (one block, or the
    cheapest slots for interruptible jobs); emissions are measured on the actual series. Stateless:
    nothing is stored in any session."""
    from scheduler.timeshift import requests as plan  # the planner loads on first use, not at start-up
    from scheduler.data.carbon_series import series_from_lists

    if len(body.jobs) > settings.max_plan_jobs:
        raise LimitExceeded(f"{len(body.jobs)} jobs in one plan; the limit is {settings.max_plan_jobs} (TASKPILOT_MAX_PLAN_JOBS)")
    points = len(body.carbon.times) if body.carbon else 0
    if points > MAX_SERIES_POINTS:
        raise LimitExceeded(f"the series has {points} points; the limit is {MAX_SERIES_POINTS}")
    try:
        series = _zone_series(world, body) if body.zone else series_from_lists(body.carbon.times, body.carbon.values, body.carbon.unit)
        return plan.plan_request(
            series, body.jobs, body.forecasts, step_min=body.step_min, error=body.forecast_error, seeds=body.seeds,
            seed=body.seed, capacity=body.capacity,
        )  # fmt: skip
    except PlanInputError as exc:
        raise HTTPException(422, exc.errors) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def _zone_series(world: WorldDep, body: PlanRequestBody) -> Any:
    import numpy as np

    from scheduler.data.carbon_series import CarbonSeries

    grid = world.runtime("grid").scenario.grid  # 503 when the grid data cannot be read
    first = grid.start if body.start is None else _hour(body.start, "start")
    last = first + np.timedelta64(31 * 24, "h") if body.end is None else _hour(body.end, "end")
    a, b = grid.hour_of(first), grid.hour_of(last)
    if not 0 <= a < b <= grid.n_hours:
        raise ValueError(f"start and end must lie in {grid.start}Z .. {grid.start + np.timedelta64(grid.n_hours, 'h')}Z with start < end")
    values = grid.intensity(body.basis)[grid.zone_index(body.zone), a:b]
    return CarbonSeries(first.astype("datetime64[m]"), 60, values.astype(np.float64), name=f"{body.zone} {body.basis} (Electricity Maps, average)")


def _hour(text: str, field: str) -> Any:
    import numpy as np

    try:
        when = np.datetime64(text.strip().rstrip("Z"), "h")
    except ValueError:
        when = np.datetime64("NaT")
    if np.isnat(when):  # "", "NaT" and the like parse as not-a-time
        raise ValueError(f"{field} must be an ISO time such as 2023-01-01T00:00Z, got {text!r}")
    return when
