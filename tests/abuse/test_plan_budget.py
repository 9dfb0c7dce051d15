"""POST /plan does bounded work, bounded before it starts: its cost is read from its shape (jobs x slots x
forecast runs, the slots from the series' span / step) and a plan over a limit is a 413 that names the
product, its factors and the setting, answered before the series is built or any job planned."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from scheduler.timeshift import planner
from tests.web.conftest import serve

from .conftest import jobs, refused

THREE_YEARS = {"zone": "ES", "start": "2021-01-01T00:00Z", "end": "2023-12-31T00:00Z"}


@pytest.fixture(scope="module")
def client() -> Any:
    with serve() as c:
        yield c


def test_512_jobs_over_three_years_at_30_minutes_is_refused_by_its_work(client: Any) -> None:
    """A 60 KB body that peaked at 3.1 GB RSS."""
    body = {**THREE_YEARS, "step_min": 30, "jobs": jobs(512, deadline="2023-12-30T00:00Z")}
    refused(client.post("/plan", json=body), 413, "TASKPILOT_MAX_PLAN_WORK", "512 jobs", "x 1 forecast runs", "slot evaluations")


def test_one_minute_steps_over_three_years_are_refused_by_their_slots(client: Any) -> None:
    """step_min 1 asked numpy for 6 GiB and answered 500 (about 90 GB without an address-space cap)."""
    body = {**THREE_YEARS, "step_min": 1, "jobs": jobs(512, deadline="2023-12-30T00:00Z")}
    refused(client.post("/plan", json=body), 413, "TASKPILOT_MAX_PLAN_SLOTS", "1-minute step = 1,575,360 slots")


def test_an_inline_series_with_a_long_gap_is_refused_before_it_is_built(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """250,000 readings, one minute and then six hours apart, made 90 M one-minute slots (6 GB, then a 500)."""
    from scheduler.data import carbon_series

    built: list[int] = []
    real = carbon_series.series_from_lists
    monkeypatch.setattr(carbon_series, "series_from_lists", lambda *a, **k: built.append(1) or real(*a, **k))
    steps = np.full(249_999, 359)
    steps[0] = 1
    minutes = np.concatenate([[0], np.cumsum(steps)])
    times = [f"{t}Z" for t in (np.datetime64("2021-01-01T00:00") + minutes.astype("timedelta64[m]")).tolist()]
    body = {"carbon": {"times": times, "values": [100.0] * len(times)}, "jobs": jobs(1)}
    refused(client.post("/plan", json=body), 413, "TASKPILOT_MAX_PLAN_SLOTS", "89,749,284 slots")
    assert built == [], "the series was built before its size was checked"


def test_10000_jobs_x_100_seeds_x_3_forecasts_is_refused_by_its_work(client: Any) -> None:
    """About 38 minutes of one core, with no time limit, and SIGTERM waited for it."""
    body = {
        "zone": "ES",
        "start": "2021-01-01T00:00Z",
        "end": "2021-02-01T00:00Z",
        "jobs": jobs(10_000, deadline=7 * 24 * 60),
        "forecasts": ["perfect", "noisy", "persistence"],
        "seeds": 100,
    }
    refused(client.post("/plan", json=body), 413, "TASKPILOT_MAX_PLAN_WORK", "10,000 jobs", "x 102 forecast runs")


def test_an_answer_of_too_many_runs_is_refused_by_its_pieces(client: Any) -> None:
    """Interruptible jobs can be cut into as many pieces as their duration has slots: the answer's size."""
    body = {
        "zone": "ES",
        "start": "2021-01-01T00:00Z",
        "end": "2021-02-01T00:00Z",
        "step_min": 5,
        "jobs": jobs(1_000, deadline=24 * 60, duration_min=12 * 60, interruptible=True),
        "forecasts": ["perfect", "persistence"],
    }
    refused(client.post("/plan", json=body), 413, "TASKPILOT_MAX_PLAN_PIECES", "1,000 interruptible jobs", "x 2 strategies")


def test_the_planner_never_scores_more_than_cells_jobs_x_slots_at_once(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """512 jobs whose windows span a year were scored in one (512 x 8,760) block, and each such array was
    copied several times over (the 3.1 GB above): now at most planner.CELLS cells, whatever the windows."""
    shapes: list[tuple[int, int]] = []
    real = planner.gather_windows

    def recorded(forecast: Any, s: np.ndarray, length: int) -> np.ndarray:
        shapes.append((len(s), length))
        return real(forecast, s, length)

    monkeypatch.setattr(planner, "gather_windows", recorded)
    body = {"zone": "ES", "start": "2021-01-01T00:00Z", "end": "2022-01-01T00:00Z", "jobs": jobs(512, deadline="2021-12-31T00:00Z")}
    response = client.post("/plan", json=body)
    assert response.status_code == 200, response.text[:500]
    assert len(response.json()["plans"]) == 512
    assert shapes and max(rows * length for rows, length in shapes) <= planner.CELLS, max(shapes)
