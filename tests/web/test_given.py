"""A job's own estimated_kwh and co2_kg over HTTP: used (grid sessions) or answered beside the model's
figures (reference sessions), never dropped; energy_source and co2_source say which, in every form."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ROOT, SESSION_HEADER

JOB = {"priority": "performance", "cpu": 40, "memory": 30, "duration_min": 60, "urgency": "critical"}  # critical: runs now, FAST


def run(client: Any, scenario: str, jobs: list[dict[str, Any]], detail: str = "full") -> list[dict[str, Any]]:
    sid = client.get(f"/session?scenario={scenario}&seed=3").json()["session_id"]
    answer = client.post(f"/run?detail={detail}", json=jobs, headers={SESSION_HEADER: sid})
    assert answer.status_code == 200, answer.text
    return answer.json()["scheduled_jobs"]


# (figures given, energy_source, co2_source) in a grid session
GRID_CASES = [
    ({}, "model", "model"),
    ({"estimated_kwh": 0.25}, "given", "model"),
    ({"co2_kg": 0.04}, "model", "given"),
    ({"estimated_kwh": 0.25, "co2_kg": 0.105}, "given", "model"),
]
GRID_IDS = ["none", "energy", "co2", "both"]


@pytest.mark.parametrize("detail", ["full", "compact"])
@pytest.mark.parametrize("given, energy_source, co2_source", GRID_CASES, ids=GRID_IDS)
def test_grid_sessions_use_the_given_figures_and_say_so(shared_client, given, energy_source, co2_source, detail):
    [d] = run(shared_client, "grid", [{**JOB, **given}], detail)
    full = detail == "full"
    energy, co2 = (d["power_kwh"], d["co2"]) if full else (d["energy_kwh"], d["co2_kg"])
    intensity = (d["state"] if full else d)["carbon_intensity_g_per_kwh"]
    assert (d["energy_source"], d["co2_source"]) == (energy_source, co2_source)
    assert d.get("given_energy_kwh") == given.get("estimated_kwh") and d.get("given_co2_kg") == given.get("co2_kg")
    if "estimated_kwh" in given:
        assert energy == given["estimated_kwh"]
        assert co2 == pytest.approx(energy * intensity / 1000, rel=1e-3)  # the zone's intensity, not the client's 0.42
    if co2_source == "given":
        assert co2 == given["co2_kg"] and d["co2_run_now_kg"] == given["co2_kg"] and d["co2_saved_kg"] == 0


@pytest.mark.parametrize("given", [{"estimated_kwh": 0.25}, {"co2_kg": 0.04}, {"estimated_kwh": 0.25, "co2_kg": 0.105}], ids=GRID_IDS[1:])
def test_reference_sessions_keep_the_seeds_figures_and_answer_the_given_ones_beside(shared_client, given):
    plain, mine = run(shared_client, "reference", [JOB]), run(shared_client, "reference", [{**JOB, **given}])
    assert (mine[0]["power_kwh"], mine[0]["co2"]) == (plain[0]["power_kwh"], plain[0]["co2"])
    assert (mine[0]["energy_source"], mine[0]["co2_source"]) == ("model", "model")
    assert mine[0].get("given_energy_kwh") == given.get("estimated_kwh") and mine[0].get("given_co2_kg") == given.get("co2_kg")
    assert "given_energy_kwh" not in plain[0] and "given_co2_kg" not in plain[0]


@pytest.mark.parametrize("path", ["frontend/static/sample_jobs.csv", "dataset_rl/sample_100_jobs.csv"], ids=["dashboard", "reference"])
def test_the_shipped_sample_csvs_figures_come_back_in_the_history(shared_client, path):
    data = (ROOT / path).read_bytes()
    header = data.splitlines()[0].decode()
    assert "estimated_kwh" in header and "co2_kg" in header
    sid = shared_client.get("/session?scenario=grid&seed=3").json()["session_id"]
    up = shared_client.post("/upload", files={"file": (path.rsplit("/", 1)[1], data)}, headers={SESSION_HEADER: sid})
    assert up.status_code == 200, up.text
    assert shared_client.post("/run", json=[], headers={SESSION_HEADER: sid}).status_code == 200
    jobs = shared_client.get("/history?limit=1000", headers={SESSION_HEADER: sid}).json()["jobs"]
    with_energy = [j for j in jobs if "given_energy_kwh" in j]
    assert with_energy and all(j["energy_source"] == "given" for j in with_energy)
    assert all(j["energy_source"] == "model" for j in jobs if "given_energy_kwh" not in j)


def test_energy_and_power_together_are_a_422_naming_the_row(shared_client):
    csv = b"priority,cpu,memory,power_w,estimated_kwh\ngreen,10,10,,0.1\ngreen,10,10,120,0.1\n"
    answer = shared_client.post("/upload", files={"file": ("jobs.csv", csv)}, headers={SESSION_HEADER: "t-given-422"})
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["row"] == 3 and error["field"] == "estimated_kwh" and "power_w" in error["message"]
