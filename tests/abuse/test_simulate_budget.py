"""POST /simulate's work is known from its config: a run over its setting is a 413 naming jobs x policies
(placement) or jobs x strategy runs x window slots (deferral), before it takes one of the slots."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.sim.config import POLICIES, REFERENCE_STEPS
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
    jobs = 70_000 // len(POLICIES) + 1
    body = {"workload": "poisson", "jobs": jobs, "seed": 1, "policies": "all", "reference": False}
    needle = f"jobs ({jobs:,}) x policies ({len(POLICIES)}) = {jobs * len(POLICIES):,} job runs"
    refused(client.post("/simulate", json=body), 413, "TASKPILOT_MAX_SIM_JOB_RUNS", needle)


def test_the_constrained_reference_counts_its_runs(client: Any) -> None:
    """5,000 jobs x 3 policies fit in 70,000 job runs; with the reference's (least_loaded's run for its
    constraint, and its search) they do not."""
    sims = 3 + 1 + REFERENCE_STEPS + 1
    assert 5_000 * 3 <= 70_000 < 5_000 * sims
    body = {"workload": "poisson", "jobs": 5_000, "seed": 1, "policies": "round_robin,greedy,oracle"}
    needle = f"jobs (5,000) x policies (3) + the constrained reference's runs ({sims - 3}) = {5_000 * sims:,} job runs"
    refused(client.post("/simulate", json=body), 413, "TASKPILOT_MAX_SIM_JOB_RUNS", needle)


def test_runs_within_their_work_start(client: Any) -> None:
    jobs = 70_000 // len(POLICIES)
    placement = client.post("/simulate", json={"workload": "poisson", "jobs": jobs, "seed": 1, "policies": "all", "reference": False})
    assert placement.status_code == 202, placement.text
    client.delete(f"/simulate/{placement.json()['id']}")
