"""POST /simulate with "study": "deferral": the deferral study over HTTP, its bounds and its failures."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from scheduler.studies import deferral_regions
from tests.web.conftest import assert_error, messages, serve
from tests.web.test_simulate import held_simulations, outlive_time_limit, start, wait

SMALL = {
    "study": "deferral",
    "jobs": 200,
    "seed": 3,
    "seeds": 2,
    "regions": "ES,NO",
    "forecasts": "perfect,noisy,persistence",
}
BIG = {
    "study": "deferral",
    "jobs": 200_000,
    "seed": 1,
    "seeds": 100,
    "regions": "ES,NO,US-CAL-CISO,BR",
}  # shipped: no ../shared needed
BIG_WORK = 2_000_000_000
"""TASKPILOT_MAX_DEFERRAL_WORK where BIG must start: it is long on purpose (held at a gate), over the default work."""


def test_a_deferral_study_runs_to_results_that_replay(
    shared_client: TestClient,
) -> None:
    views = [wait(shared_client, start(shared_client, SMALL)) for _ in range(2)]
    first = views[0]
    assert first["status"] == "done" and first["error"] is None, first["error"]
    assert first["progress"]["done"] == first["progress"]["total"] == 2 * 200 * (3 + 2 + 2)
    assert first["config"]["study"] == "deferral" and first["config"]["seed"] == 3
    result = first["result"]
    assert result["study"] == "deferral" and list(result["regions"]) == ["ES", "NO"]
    strategies = [
        "run_now",
        "threshold",
        "forecast_perfect",
        "forecast_noisy",
        "forecast_persistence",
        "oracle",
    ]
    assert list(result["regions"]["NO"]["strategies"]) == strategies
    assert [(row["region"], row["strategy"]) for row in result["table"]] == [(r, s) for r in ("ES", "NO") for s in strategies]
    assert all(row["deadline_misses"] == 0 and row["critical_moved"] == 0 for row in result["table"])
    assert {
        "co2_kg",
        "saved_pct",
        "delay_mean_min",
        "energy_kwh",
        "cost",
        "deferred_jobs",
        "eco_jobs",
    } <= set(result["table"][0])
    replay = views[1]["result"]
    assert {k: v for k, v in replay.items() if k != "elapsed_s"} == {k: v for k, v in result.items() if k != "elapsed_s"}


def test_a_placement_body_may_name_its_study(shared_client: TestClient) -> None:
    body = {
        "study": "placement",
        "workload": "poisson",
        "jobs": 50,
        "seed": 1,
        "policies": "round_robin",
    }
    view = wait(shared_client, start(shared_client, body))
    assert view["status"] == "done" and view["result"]["policies"][0]["policy"] == "round_robin"


@pytest.mark.parametrize(
    "body, status, needle",
    [
        ({"jobs": 10**9}, 413, "TASKPILOT_MAX_SIM_JOBS"),
        ({"regions": "ES,ATLANTIS"}, 422, "regions"),
        ({"policies": "all"}, 422, "policies"),
        ({"urgency_mix": [0.5, 0.5, 0.5]}, 422, "summing to 1"),
        ({"slack_h": -1}, 422, "slack_h"),
        ({"seeds": 10_000}, 422, "seeds"),
        ({"start": "yesterday"}, 422, "ISO"),
        ({"study": "when"}, 422, "study must be placement, deferral or gpu-fraction"),
    ],
    ids=[
        "too-many-jobs",
        "unknown-region",
        "placement-field",
        "mix-not-one",
        "negative-slack",
        "too-many-seeds",
        "bad-start",
        "unknown-study",
    ],
)
def test_bad_requests_name_the_problem(shared_client: TestClient, body: dict[str, Any], status: int, needle: str) -> None:
    detail = assert_error(shared_client.post("/simulate", json={**SMALL, **body}), status)
    assert needle in str(detail)


def test_a_region_whose_data_is_absent_is_422(shared_client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(deferral_regions, "SHARED_DATA_DIR", tmp_path / "absent")
    detail = assert_error(
        shared_client.post("/simulate", json={**SMALL, "regions": "ES,CAISO_NORTH"}),
        422,
    )
    assert "CAISO_NORTH" in messages(detail) and "absent" in messages(detail)


def test_a_start_outside_the_series_fails_the_run_and_says_why(
    shared_client: TestClient,
) -> None:
    view = wait(shared_client, start(shared_client, {**SMALL, "start": "2030-01-01"}))
    assert view["status"] == "failed" and "inside its series" in view["error"] and view["result"] is None


def test_one_run_too_many_is_429_and_a_cancel_stops_it() -> None:
    with serve(max_sim_runs=1, max_deferral_work=BIG_WORK) as client, held_simulations(client) as gate:
        big = start(client, BIG)
        gate.wait_arrival("the big study")  # running, held after its first chunk
        refused = client.post("/simulate", json=SMALL)
        assert "TASKPILOT_MAX_SIM_RUNS" in messages(assert_error(refused, 429))
        assert client.delete(f"/simulate/{big}").status_code == 200
        gate.open()
        view = wait(client, big)
        assert view["status"] == "cancelled" and view["result"] is None
        assert wait(client, start(client, SMALL))["status"] == "done"


def test_a_run_past_its_time_limit_fails_and_says_why() -> None:
    with serve(sim_timeout_s=0.05, max_deferral_work=BIG_WORK) as client, held_simulations(client) as gate:
        view = outlive_time_limit(client, start(client, {**BIG, "regions": "ES"}), gate, 0.05)
        assert view["status"] == "failed" and "TASKPILOT_SIM_TIMEOUT_S" in view["error"]
