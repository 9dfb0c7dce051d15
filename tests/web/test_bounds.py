"""Every number the API takes is bounded and typed where it enters (web/params.py, web/schemas/,
scheduler/sim/config.py): too big for 64 bits is a 422 naming the parameter, not a 500 from deeper in, and a
JSON boolean where a number belongs is a 422 naming the field, not a silent 0 or 1. A time whose offset
moves it past year 1 or 9999 is a 422 too. One case per bug found."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from scheduler.sim.config import DeferralConfig
from tests.web.conftest import Visitor, assert_error, mixed_jobs
from web.params import MAX_SAFE_INT

PAST_64_BITS = 2**64
PAST_SAFE = MAX_SAFE_INT + 1


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        (f"/history?offset={PAST_64_BITS}", ["query", "offset"]),
        (f"/history?limit={PAST_64_BITS}", ["query", "limit"]),
        (f"/queue?offset={PAST_64_BITS}", ["query", "offset"]),
        (f"/queue?deferred_offset={PAST_64_BITS}", ["query", "deferred_offset"]),
        (f"/queue?deferred_limit={PAST_64_BITS}", ["query", "deferred_limit"]),
        (f"/queue?offset={PAST_SAFE}", ["query", "offset"]),
        (f"/jobs/{PAST_64_BITS}", ["path", "job_id"]),
        (f"/jobs/{PAST_64_BITS}/explanation", ["path", "job_id"]),
        (f"/session?seed={PAST_64_BITS}", ["query", "seed"]),
    ],
    ids=["history-offset-past-64-bits", "history-limit-past-64-bits", "queue-offset-past-64-bits", "queue-deferred-offset-past-64-bits",
         "queue-deferred-limit-past-64-bits", "queue-offset-past-json-safe", "job-id-past-64-bits", "explanation-id-past-64-bits",
         "session-seed-past-64-bits"],
)  # fmt: skip
def test_integers_too_big_are_422_naming_the_parameter(shared_client: TestClient, path: str, loc: list[str]) -> None:
    detail = assert_error(Visitor(shared_client).get(path), 422)
    assert [d["loc"] for d in detail] == [loc]


def test_the_largest_offset_still_pages_and_is_echoed_exactly(shared_client: TestClient) -> None:
    v = Visitor(shared_client)
    v.run(mixed_jobs(2))
    assert v.ok("GET", f"/history?offset={MAX_SAFE_INT}")["offset"] == MAX_SAFE_INT
    page = v.ok("GET", f"/queue?offset={MAX_SAFE_INT}&deferred_offset={MAX_SAFE_INT}")
    assert (page["offset"], page["deferred_offset"], page["jobs"]) == (MAX_SAFE_INT, MAX_SAFE_INT, [])


PLACEMENT = {"jobs": 10, "pretrain_episodes": 0, "policies": "random", "scenario": "reference"}
DEFERRAL = {"study": "deferral", "jobs": 10, "regions": "ES"}


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({**PLACEMENT, "start_hour": False}, ["body", "start_hour"]),
        ({**PLACEMENT, "load": True}, ["body", "load"]),
        ({**PLACEMENT, "starvation_min": True}, ["body", "starvation_min"]),
        ({**PLACEMENT, "windows": True}, ["body", "windows"]),
        ({**PLACEMENT, "load": "0.5"}, ["body", "load"]),
        ({**PLACEMENT, "starvation_min": 1e308}, ["body", "starvation_min"]),
        ({**DEFERRAL, "slack_h": True}, ["body", "slack_h"]),
        ({**DEFERRAL, "interruptible_share": False}, ["body", "interruptible_share"]),
        ({**DEFERRAL, "forecast_error": True}, ["body", "forecast_error"]),
        ({**DEFERRAL, "urgency_mix": [True, False, False]}, ["body", "urgency_mix", 0]),
    ],
    ids=["start-hour-false", "load-true", "starvation-true", "windows-true", "load-as-text", "starvation-1e308", "slack-true",
         "interruptible-share-false", "forecast-error-true", "urgency-mix-booleans"],
)  # fmt: skip
def test_simulations_take_numbers_only_where_numbers_belong(shared_client: TestClient, body: dict[str, Any], loc: list[Any]) -> None:
    detail = assert_error(shared_client.post("/simulate", json=body), 422)
    assert loc in [d["loc"] for d in detail], detail


def test_a_nan_share_is_refused(shared_client: TestClient) -> None:
    """NaN passed the shares-sum-to-one check (every comparison with it is false). Bodies are strict JSON now, so
    the NaN literal is refused as JSON; the config refuses a NaN share however it is built."""
    body = b'{"study": "deferral", "jobs": 10, "regions": "ES", "urgency_mix": [NaN, 0.5, 0.5]}'
    assert_error(shared_client.post("/simulate", content=body, headers={"content-type": "application/json"}), 422)
    with pytest.raises(ValidationError, match="urgency_mix"):
        DeferralConfig(jobs=10, regions="ES", urgency_mix=[float("nan"), 0.5, 0.5])


PLAN = {
    "carbon": {"times": ["2023-01-01T00:00Z", "2023-01-01T01:00Z"], "values": [100, 200]},
    "jobs": [{"job_id": "a", "submit_time": "2023-01-01T00:00Z", "duration_min": 30}],
}


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"forecast_error": True}, ["body", "forecast_error"]),
        ({"seeds": True}, ["body", "seeds"]),
        ({"seed": PAST_64_BITS}, ["body", "seed"]),
        ({"capacity": False}, ["body", "capacity"]),
        ({"step_min": True}, ["body", "step_min"]),
        ({"carbon": {**PLAN["carbon"], "values": [True, 200]}}, ["body", "carbon", "values", 0]),
    ],
    ids=["forecast-error-true", "seeds-true", "seed-past-64-bits", "capacity-false", "step-true", "carbon-value-true"],
)
def test_plans_take_numbers_only_where_numbers_belong(shared_client: TestClient, change: dict[str, Any], loc: list[Any]) -> None:
    detail = assert_error(shared_client.post("/plan", json={**PLAN, **change}), 422)
    assert detail and all(d["loc"][: len(loc)] == loc for d in detail), detail


def test_the_same_plan_with_numbers_is_planned(shared_client: TestClient) -> None:
    """The cases above fail on their one field: the rest of the request is a plan."""
    assert shared_client.post("/plan", json={**PLAN, "forecast_error": 1, "capacity": 1}).status_code == 200


EARLY, LATE = "0001-01-01T00:00:00+05:30", "9999-12-31T23:59:59-23:59"
"""Valid ISO times that cannot be moved to UTC: Python's datetime stops at years 1 and 9999 (OverflowError)."""
PLAN_JOB = PLAN["jobs"][0]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/plan", {**PLAN, "carbon": {"times": [EARLY, "2023-01-01T01:00Z"], "values": [1, 2]}}, "times"),
        ("/plan", {**PLAN, "jobs": [{**PLAN_JOB, "submit_time": LATE}]}, "submit_time"),
        ("/plan", {**PLAN, "jobs": [{**PLAN_JOB, "deadline": EARLY}]}, "deadline"),
        ("/simulate", {**DEFERRAL, "start": EARLY}, "start"),
        ("/simulate", {**DEFERRAL, "start": LATE}, "start"),
    ],
    ids=["plan-series-time", "plan-submit-time", "plan-deadline", "deferral-start-before-year-1", "deferral-start-after-9999"],
)
def test_times_past_the_calendar_are_422_naming_the_field(shared_client: TestClient, path: str, body: dict[str, Any], field: str) -> None:
    assert field in str(assert_error(shared_client.post(path, json=body), 422))


@pytest.mark.parametrize("deadline", [EARLY, LATE], ids=["before-year-1", "after-9999"])
def test_a_grid_deadline_past_the_calendar_is_422_naming_the_field_and_row(shared_client: TestClient, deadline: str) -> None:
    grid = Visitor(shared_client, shared_client.get("/session?scenario=grid").json()["session_id"])
    detail = assert_error(grid.post("/submit", json={"priority": "green", "cpu": 1, "memory": 1, "deadline": deadline}), 422)
    assert [(d["index"], d["field"]) for d in detail] == [(0, "deadline")]
    csv = f"priority,cpu,memory,deadline\ngreen,1,1,{deadline}\n".encode()
    detail = assert_error(grid.post("/upload", files={"file": ("jobs.csv", csv)}), 422)
    assert [(d["row"], d["field"]) for d in detail] == [(2, "deadline")]
