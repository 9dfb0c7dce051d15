"""POST /plan: when should these jobs run on this carbon series? The planner of `python -m scheduler.plan`
over JSON, for a series sent inline or one of the shipped grid zones.

The body is read here and everything else happens on a plan worker (web/work.py; the app's `plans`
pool): decoding and validating it (up to TASKPILOT_MAX_BODY_BYTES: a few hundred ms that the event loop
must not spend), then the plan's cost, from its shape, against its limits (scheduler/timeshift/budget.py:
413 naming the product and the setting), then the plan itself, which stops between chunks of jobs once
TASKPILOT_PLAN_TIMEOUT_S is spent (503), the client has gone, or the server is stopping."""

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from scheduler.settings import Settings
from web.deps import SettingsDep, WorldDep
from web.errors import LimitExceeded
from web.responses import errors
from web.schemas.plan import EXAMPLE, PlanIn, PlanOut
from web.work import Busy, Stopped, Work

router = APIRouter(tags=["plan"])
MAX_SERIES_POINTS = 250_000
"""A year of 5-minute data is 105,120 points."""
RETRY_AFTER_S = 5


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON schema with its $defs written in place: the body is documented, not parsed, by FastAPI."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            return walk(defs[ref.rsplit("/", 1)[-1]]) if ref.startswith("#/$defs/") else {k: walk(v) for k, v in node.items()}
        return [walk(v) for v in node] if isinstance(node, list) else node

    return walk(schema)


_SCHEMA = _inline_refs(PlanIn.model_json_schema())
_BODY = {"required": True, "content": {"application/json": {"schema": _SCHEMA, "examples": {"inline series": {"value": EXAMPLE}}}}}


# A plan holds up to TASKPILOT_MAX_PLAN_JOBS jobs' runs: it goes out as the worker encoded it, and PlanOut
# only documents it (FastAPI does not validate a returned Response).
@router.post("/plan", response_model=PlanOut, responses=errors(400, 413, 422, 429, 503), openapi_extra={"requestBody": _BODY})
async def plan_jobs(request: Request, world: WorldDep, settings: SettingsDep) -> Response:
    """Plan start times that minimise forecast emissions before each job's deadline (one block, or the
    cheapest slots for interruptible jobs); emissions are measured on the actual series. Stateless:
    nothing is stored in any session. Bounded: see the limits in docs/API.md (413, 429, 503)."""
    raw = await request.body()
    work = Work("plan", settings.plan_timeout_s, "TASKPILOT_PLAN_TIMEOUT_S")
    try:
        encoded = await request.app.state.plans.run(request.receive, work, lambda check: _plan(world, settings, raw, check))
    except Busy as exc:
        raise HTTPException(
            429,
            f"{exc} (TASKPILOT_PLAN_WORKERS, TASKPILOT_MAX_PLAN_WAITING); retry in {RETRY_AFTER_S} s",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        ) from None
    except Stopped as exc:
        raise HTTPException(503, str(exc)) from None
    return Response(encoded, media_type="application/json")


def _parsed(raw: bytes) -> PlanIn:
    """The body as PlanIn, or the 422 FastAPI would have answered (its error shape, locations under "body")."""
    if not raw.strip():
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    try:
        return PlanIn.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]) from None


def _plan(world: WorldDep, settings: Settings, raw: bytes, check: Callable[[int], None]) -> bytes:
    """On a plan worker: the body, its limits, the plan, encoded."""
    from scheduler.timeshift import budget
    from scheduler.timeshift import requests as plan  # the planner loads on first use, not at start-up
    from scheduler.timeshift.inputs import PlanInputError

    body = _parsed(raw)
    if len(body.jobs) > settings.max_plan_jobs:
        raise LimitExceeded(f"{len(body.jobs)} jobs in one plan; the limit is {settings.max_plan_jobs} (TASKPILOT_MAX_PLAN_JOBS)")
    points = len(body.carbon.times) if body.carbon else 0
    if points > MAX_SERIES_POINTS:
        raise LimitExceeded(f"the series has {points} points; the limit is {MAX_SERIES_POINTS}")
    limits = budget.PlanLimits(settings.max_plan_slots, settings.max_plan_work, settings.max_plan_pieces)
    try:
        series = _zone_series(world, body) if body.zone else _inline_series(body, limits)
        step = body.step_min or series.step_min
        budget.check_slots(budget.resampled_slots(series, body.step_min), step, limits, f"the grid planned on (step_min {step})")
        document = plan.plan_request(
            series, body.jobs, body.forecasts, step_min=body.step_min, error=body.forecast_error, seeds=body.seeds, seed=body.seed,
            capacity=body.capacity, admit=lambda jobs, runs, kinds: budget.check_plan(jobs, runs, kinds, limits), tick=check,
        )  # fmt: skip
    except budget.PlanTooLarge as exc:
        raise LimitExceeded(str(exc)) from None
    except PlanInputError:
        raise  # web.errors answers it: each problem at ["body", "jobs", index, field]
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return orjson.dumps(document)


def _inline_series(body: PlanIn, limits: Any) -> Any:
    """The inline series, once its slot count (from the times alone) is within the limit."""
    from scheduler.data.carbon_series import series_from_lists
    from scheduler.timeshift import budget

    carbon = body.carbon
    assert carbon is not None  # PlanIn: exactly one of carbon and zone
    slots = budget.inline_slots(carbon.times)
    if slots > limits.slots:  # the step is the times' finest: what the reader would allocate
        raise budget.PlanTooLarge(
            f"the inline series' times, each reading holding until the next, make {slots:,} slots on their finest step; the limit "
            f"is {limits.slots:,} (TASKPILOT_MAX_PLAN_SLOTS): send readings on a coarser, regular step, or a shorter span"
        )
    return series_from_lists(carbon.times, carbon.values, carbon.unit)


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
