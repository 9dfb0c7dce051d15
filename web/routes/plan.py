"""POST /plan: when should these jobs run on this carbon series? The planner of `python -m scheduler.plan`
over JSON, for a series sent inline or one of the shipped grid zones."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException

from web.deps import SettingsDep, WorldDep
from web.errors import LimitExceeded
from web.responses import ORJSONResponse, errors
from web.schemas.plan import EXAMPLE, PlanIn, PlanOut

router = APIRouter(tags=["plan"])
MAX_SERIES_POINTS = 250_000
"""A year of 5-minute data is 105,120 points."""


# A plan holds up to TASKPILOT_MAX_PLAN_JOBS jobs' runs: it goes out through orjson as built, and PlanOut
# only documents it (FastAPI does not validate a returned Response).
@router.post(
    "/plan",
    response_model=PlanOut,
    responses=errors(400, 413, 422, 503),
    openapi_extra={"requestBody": {"content": {"application/json": {"examples": {"inline series": {"value": EXAMPLE}}}}}},
)
def plan_jobs(world: WorldDep, settings: SettingsDep, body: Annotated[PlanIn, Body()]) -> ORJSONResponse:
    """Plan start times that minimise forecast emissions before each job's deadline (one block, or the
    cheapest slots for interruptible jobs); emissions are measured on the actual series. Stateless:
    nothing is stored in any session."""
    from scheduler.data.carbon_series import series_from_lists
    from scheduler.timeshift import requests as plan  # the planner loads on first use, not at start-up
    from scheduler.timeshift.inputs import PlanInputError

    if len(body.jobs) > settings.max_plan_jobs:
        raise LimitExceeded(f"{len(body.jobs)} jobs in one plan; the limit is {settings.max_plan_jobs} (TASKPILOT_MAX_PLAN_JOBS)")
    points = len(body.carbon.times) if body.carbon else 0
    if points > MAX_SERIES_POINTS:
        raise LimitExceeded(f"the series has {points} points; the limit is {MAX_SERIES_POINTS}")
    try:
        series = _zone_series(world, body) if body.zone else series_from_lists(body.carbon.times, body.carbon.values, body.carbon.unit)
        document = plan.plan_request(
            series, body.jobs, body.forecasts, step_min=body.step_min, error=body.forecast_error, seeds=body.seeds,
            seed=body.seed, capacity=body.capacity,
        )  # fmt: skip
    except PlanInputError as exc:
        raise HTTPException(422, exc.errors) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return ORJSONResponse(document)


def _zone_series(world: WorldDep, body: PlanIn) -> Any:
    import numpy as np

    from scheduler.data.carbon_series import CarbonSeries
    from scheduler.timeshift.inputs import PlanInputError

    grid = world.runtime("grid").scenario.grid  # 503 when the grid data cannot be read
    first_hour = grid.start.astype("datetime64[m]")
    span = f"{first_hour}Z .. {first_hour + np.timedelta64(grid.n_hours, 'h')}Z"
    # No default window: a plan on a month nobody chose would look like an answer to the question asked.
    missing = [field for field in ("start", "end") if getattr(body, field) is None]
    if missing:
        raise PlanInputError(
            [{"field": f, "message": f"is required with zone; the zone's series cover {span} (end exclusive)"} for f in missing]
        )
    first, last = _hour(body.start, "start"), _hour(body.end, "end")
    a, b = grid.hour_of(first), grid.hour_of(last)
    if not 0 <= a < b <= grid.n_hours:
        raise ValueError(f"start and end must lie in {span} with start < end")
    values = grid.intensity(body.basis)[grid.zone_index(body.zone), a:b]
    return CarbonSeries(
        first.astype("datetime64[m]"), 60, values.astype(np.float64), name=f"{body.zone} {body.basis} (Electricity Maps, average)"
    )


def _hour(text: str, field: str) -> Any:
    """The hour `text` falls in, read as the series' times are (an offset is honoured, not warned about)."""
    import numpy as np

    from scheduler.data.carbon_series import parse_utc

    when = parse_utc([text])[0]
    if np.isnat(when):  # "", "NaT" and the like parse as not-a-time
        raise ValueError(f"{field} must be an ISO time such as 2023-01-01T00:00Z, got {text!r}")
    return when.astype("datetime64[h]")
