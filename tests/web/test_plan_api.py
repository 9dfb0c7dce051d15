"""POST /plan: the planner over HTTP, on an inline series or a shipped zone."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import assert_error, serve

HOURS = ["2023-01-01T00:00Z", "2023-01-01T01:00Z", "2023-01-01T02:00Z", "2023-01-01T03:00Z", "2023-01-01T04:00Z"]
SERIES = {"times": HOURS, "values": [5, 1, 1, 9, 2]}


def plan(client: TestClient, **body: Any) -> Any:
    response = client.post("/plan", json={"carbon": SERIES, **body})
    assert response.status_code == 200, response.text
    return response.json()


def test_hand_computed_block_and_slots(shared_client: TestClient) -> None:
    jobs = [
        {"job_id": "block", "submit_time": HOURS[0], "duration_min": 120, "deadline": 300, "power_w": 1000},
        {"job_id": "pieces", "submit_time": HOURS[0], "duration_min": 180, "deadline": 300, "interruptible": True, "power_w": 1000},
        {"job_id": "fixed", "submit_time": HOURS[3], "duration_min": 60, "power_w": 1000},
    ]
    out = plan(shared_client, jobs=jobs)
    runs = {p["job_id"]: p["runs"]["perfect"] for p in out["plans"]}
    assert runs["block"] == [["2023-01-01T01:00Z", "2023-01-01T03:00Z"]]  # 1 + 1 beats every other pair
    assert runs["pieces"] == [["2023-01-01T01:00Z", "2023-01-01T03:00Z"], ["2023-01-01T04:00Z", "2023-01-01T05:00Z"]]
    assert runs["fixed"] == [["2023-01-01T03:00Z", "2023-01-01T04:00Z"]]  # no deadline: starts at submission
    # run now: 1 kW x (5 + 1) + 1 kW x (5 + 1 + 1) + 1 kW x 9, in g -> kg
    assert out["baseline"]["emissions_kg"] == pytest.approx((6 + 7 + 9) / 1000)
    perfect = out["strategies"]["perfect"]
    assert perfect["emissions_kg"] == pytest.approx((2 + 4 + 9) / 1000) and perfect["deadline_misses"] == 0
    assert perfect["saved_pct"] == pytest.approx(100 * (22 - 15) / 22, abs=0.01)


def test_noisy_runs_are_seeded(shared_client: TestClient) -> None:
    jobs = [{"job_id": str(i), "submit_time": HOURS[0], "duration_min": 60, "deadline": 300} for i in range(5)]
    a = plan(shared_client, jobs=jobs, forecasts=["noisy"], forecast_error=0.5, seeds=4, seed=3)
    b = plan(shared_client, jobs=jobs, forecasts=["noisy"], forecast_error=0.5, seeds=4, seed=3)
    assert a == b and a["strategies"]["noisy"]["runs"] == 4
    assert a["strategies"]["perfect"]["emissions_kg"] <= a["strategies"]["noisy"]["emissions_kg"]


def test_a_shipped_zone_can_be_planned_on(shared_client: TestClient) -> None:
    jobs = [{"job_id": "a", "submit_time": "2023-03-02T08:00Z", "duration_min": 120, "deadline": 1440, "power_w": 300}]
    body = {"zone": "ES", "start": "2023-03-01T00:00Z", "end": "2023-04-01T00:00Z", "jobs": jobs, "forecasts": ["persistence"]}
    response = shared_client.post("/plan", json=body)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["series"]["step_min"] == 60 and out["series"]["slots"] == 31 * 24
    assert out["strategies"]["perfect"]["emissions_kg"] <= out["baseline"]["emissions_kg"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"jobs": [{"job_id": "x", "submit_time": HOURS[0], "duration_min": 60, "deadline": 30}]}, "deadline"),
        ({"jobs": [{"job_id": "x", "submit_time": "soon", "duration_min": 60}]}, "submit_time"),
        ({"jobs": [{"job_id": "x", "submit_time": HOURS[0], "duration_min": -1}]}, "duration_min"),
        ({"jobs": [{"job_id": "x", "submit_time": HOURS[0], "duration_min": 1e300, "power_w": 1e300}]}, "at most"),
        ({"carbon": {"times": ["x"], "values": [1]}, "jobs": []}, "times"),
        ({"zone": "ES", "jobs": []}, "exactly one"),
        ({"forecasts": ["magic"], "jobs": []}, "forecasts"),
        ({"jobs": [{"job_id": "x", "submit_time": HOURS[0], "duration_min": 60, "deadline": 240}], "capacity": 10**30}, "capacity"),
        ({"carbon": None, "zone": "ES", "start": "NaT", "end": "2023-02-01T00:00Z", "jobs": []}, "start must be an ISO time"),
        ({"carbon": None, "zone": "ES", "start": "2023-01-01T00:00Z", "end": "", "jobs": []}, "end must be an ISO time"),
        ({"carbon": None, "zone": "ES", "start": "2020-12-01T00:00Z", "end": "2021-02-01T00:00Z", "jobs": []}, "must lie in"),
        ({"start": "2023-01-01T00:00Z", "jobs": []}, "start go with zone"),
        ({"basis": "lca", "jobs": []}, "basis go with zone"),
    ],
    ids=[
        "deadline-before-duration",
        "bad-time",
        "bad-duration",
        "huge-numbers",
        "bad-series",
        "two-series",
        "bad-forecast",
        "huge-capacity",
        "start-nat",
        "end-empty",
        "window-outside-the-data",
        "start-with-inline-series",
        "basis-with-inline-series",
    ],
)
def test_bad_plans_are_422_and_name_the_field(shared_client: TestClient, body: dict[str, Any], needle: str) -> None:
    detail = assert_error(shared_client.post("/plan", json={"carbon": SERIES, **body}), 422)
    assert needle in str(detail)


@pytest.mark.parametrize(
    ("window", "missing"),
    [({}, ["start", "end"]), ({"start": "2023-03-01T00:00Z"}, ["end"]), ({"end": "2023-03-01T00:00Z"}, ["start"])],
    ids=["no-window", "no-end", "no-start"],
)
def test_a_zone_without_its_window_is_refused_with_the_range_it_has(shared_client: TestClient, window: dict, missing: list) -> None:
    """No silent default: a zone's plan used to cover January 2021 when start and end were left out."""
    jobs = [{"job_id": "a", "submit_time": "2021-01-02T00:00Z", "duration_min": 60}]
    detail = assert_error(shared_client.post("/plan", json={"zone": "ES", "jobs": jobs, **window}), 422)
    assert [e["field"] for e in detail] == missing
    assert all("2021-01-01T00:00Z .. 2024-01-01T00:00Z" in e["message"] for e in detail)


def test_too_many_jobs_is_413() -> None:
    with serve(max_plan_jobs=2) as client:
        jobs = [{"job_id": str(i), "submit_time": HOURS[0], "duration_min": 60} for i in range(3)]
        assert "TASKPILOT_MAX_PLAN_JOBS" in str(assert_error(client.post("/plan", json={"carbon": SERIES, "jobs": jobs}), 413))
