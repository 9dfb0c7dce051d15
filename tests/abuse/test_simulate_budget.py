"""POST /simulate's work is known from its config: a run over its setting is a 413 naming jobs x policies
(placement) or jobs x strategy runs x window slots (deferral), before it takes one of the slots."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import serve

from .conftest import refused

BIG_DEFERRAL = {"study": "deferral", "jobs": 200_000, "seed": 1, "seeds": 100, "regions": "ES,NO,US-CAL-CISO,BR", "slack_h": 168}


@pytest.fixture(scope="module")
def client() -> Any:
    with serve(max_sim_job_runs=70_000) as c:
        yield c


def test_two_large_deferral_studies_are_refused_without_taking_a_slot(client: Any) -> None:
    """Two of these took both simulation slots for five minutes (each ran until its time limit)."""
    for _ in range(2):
        refused(client.post("/simulate", json=BIG_DEFERRAL), 413, "TASKPILOT_MAX_DEFERRAL_WORK", "jobs (200,000)", "4 region(s)")
    runner = client.app.state.simulations
    assert [r for r in runner._runs.values() if r.status in ("queued", "running")] == []


def test_a_placement_run_over_its_jobs_x_policies_is_refused(client: Any) -> None:
    body = {"workload": "poisson", "jobs": 10_001, "seed": 1, "policies": "all"}
    refused(client.post("/simulate", json=body), 413, "TASKPILOT_MAX_SIM_JOB_RUNS", "jobs (10,001) x policies (7) = 70,007 job runs")


def test_runs_within_their_work_start(client: Any) -> None:
    placement = client.post("/simulate", json={"workload": "poisson", "jobs": 10_000, "seed": 1, "policies": "all"})
    assert placement.status_code == 202, placement.text
    client.delete(f"/simulate/{placement.json()['id']}")
