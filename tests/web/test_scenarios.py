"""Grid-scenario sessions over HTTP: chosen per session or by settings, labelled everywhere, and
separate from reference sessions."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import Visitor, assert_error, job, messages, mixed_jobs, serve

SIGNAL = "average carbon intensity, direct emissions, gCO2eq/kWh (Electricity Maps, hourly)"


def grid_visitor(client: TestClient, **params: Any) -> Visitor:
    response = client.get("/session", params={"scenario": "grid", **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scenario"] == "grid"
    return Visitor(client, body["session_id"])


def test_grid_session_decisions_carry_real_intensity_and_runtime(shared_client: TestClient) -> None:
    v = grid_visitor(shared_client)
    rows = v.run([job("green", duration_min=30), job("performance", cpu=80, memory=50, size=2000, intensity=0.7)])
    for row in rows:
        state = row["state"]
        assert state["signal"] == SIGNAL and state["clock_utc"].endswith("Z")
        assert state["carbon_intensity_g_per_kwh"] > 0 and state["runtime_min"] > 0
        chosen = row["all_metrics"][row["chosen_dc"]]
        assert chosen["carbon_intensity_g_per_kwh"] == state["carbon_intensity_g_per_kwh"]
        # kg = kWh x g/kWh / 1000, within the rounding of the figures shown
        assert row["co2"] == pytest.approx(row["power_kwh"] * state["carbon_intensity_g_per_kwh"] / 1000, rel=0.02, abs=2e-6)
        assert "gCO2eq/kWh" in row["explanation"]
    compact = v.run(mixed_jobs(5), detail="compact")
    assert all(r["carbon_intensity_g_per_kwh"] > 0 and r["runtime_min"] > 0 for r in compact)
    summary = v.summary()
    assert summary["scenario"] == "grid" and "average grid carbon intensity" in summary["units"]["co2"]


def test_sustainability_shows_the_clock_and_every_zone(shared_client: TestClient) -> None:
    v = grid_visitor(shared_client)
    before = v.ok("GET", "/sustainability")
    assert before["scenario"] == "grid" and before["signal"] == SIGNAL
    assert before["clock_utc"] == "2023-01-01T00:00Z"
    assert set(before["carbon_intensity_g_per_kwh"]) == {"BR", "ES", "NO", "US-CAL-CISO"}
    assert before["carbon_intensity_g_per_kwh"]["NO"] == 37.86  # dataset_rl/grid/NO.csv, 2023-01-01T00
    assert len(before["server_zones"]) == 9
    v.run(mixed_jobs(8))  # 8 jobs x 15 min: the clock moves 2 hours
    assert v.ok("GET", "/sustainability")["clock_utc"] == "2023-01-01T02:00Z"


def test_reference_sessions_are_unchanged_by_grid_sessions(shared_client: TestClient) -> None:
    ref = Visitor(shared_client)
    rows = ref.run([job()])
    assert "carbon_intensity_g_per_kwh" not in rows[0]["state"] and "clock_utc" not in rows[0]["state"]
    assert ref.ok("GET", "/sustainability")["scenario"] == "reference"
    assert ref.summary()["scenario"] == "reference"


def test_same_seed_same_grid_decisions(shared_client: TestClient) -> None:
    runs = [grid_visitor(shared_client, seed=99).run(mixed_jobs(30), detail="compact") for _ in range(2)]
    assert runs[0] == runs[1]


def test_an_unknown_scenario_is_a_422_naming_the_parameter(shared_client: TestClient) -> None:
    detail = assert_error(shared_client.get("/session", params={"scenario": "solar"}), 422)
    assert any(e["loc"][-1] == "scenario" for e in detail) if isinstance(detail, list) else "scenario" in str(detail)


def test_the_default_scenario_comes_from_settings() -> None:
    with serve(scenario="grid") as client:
        assert client.get("/sustainability").json()["scenario"] == "grid"  # no session at all
        v = Visitor(client)  # no /session call: created on first use
        assert v.ok("GET", "/sustainability")["scenario"] == "grid"
        assert client.get("/session").json()["scenario"] == "grid"
        assert client.get("/session", params={"scenario": "reference"}).json()["scenario"] == "reference"


def test_grid_data_missing_is_a_503_that_says_why(tmp_path) -> None:
    import shutil

    from tests.web.conftest import ROOT

    data = tmp_path / "data"
    shutil.copytree(ROOT / "dataset_rl", data, ignore=shutil.ignore_patterns("grid"))
    with serve(data_dir=data, cache_dir=None) as client:
        assert client.get("/health").status_code == 200  # the reference scenario still serves
        detail = assert_error(client.get("/session", params={"scenario": "grid"}), 503)
        assert "grid scenario is unavailable" in messages(detail) and "BR.csv" in messages(detail)
        simulation = client.post("/simulate", json={"jobs": 10, "scenario": "grid"})
        assert "grid scenario is unavailable" in messages(assert_error(simulation, 503))


@pytest.mark.parametrize(
    ("spelled", "scenario"),
    [("Grid", "grid"), ("GRID", "grid"), (" grid ", "grid"), ("Reference", "reference"), ("purple", None)],
    ids=["capital", "upper", "spaces", "reference", "unknown"],
)
def test_scenario_names_are_read_in_any_case(shared_client: TestClient, spelled: str, scenario: str | None) -> None:
    """GET /session, POST /simulate (EvaluationConfig is its body) and TASKPILOT_SCENARIO read the name as people type it."""
    from scheduler.settings import Settings
    from scheduler.sim.config import EvaluationConfig

    response = shared_client.get("/session", params={"scenario": spelled})
    if scenario is None:
        assert_error(response, 422)
        with pytest.raises(ValueError):
            Settings(scenario=spelled)
        return
    assert response.status_code == 200 and response.json()["scenario"] == scenario
    assert Settings(scenario=spelled).scenario == scenario and EvaluationConfig(scenario=spelled).scenario == scenario
