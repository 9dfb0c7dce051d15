"""POST /simulate's work is known from its config: a run over its setting is a 413 naming jobs x policies
(placement), jobs x strategy runs x window slots (deferral) or task runs with the DQN's training (GPU fraction),
before it takes one of the slots."""

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


def test_the_dqns_training_counts_in_a_gpu_fraction_studys_work(client: Any) -> None:
    """A ~100-byte body: 100 tasks x 30 seeds x 2 policies are 6,000 task runs, but the DQN's pre-training is
    1,000 episodes x 500 tasks for each seed (15 M tasks of training, about 35 minutes of one core)."""
    body = {"study": "gpu-fraction", "tasks": 100, "warmup": 50, "seeds": 30, "policies": ["dqn"], "dqn_episodes": 1_000}
    needle = "tasks (100) x seeds (30) x policies (2, the oracle included) + dqn_episodes (1,000) x 500 tasks x seeds (30) = 15,006,000"
    before = len(client.app.state.simulations._runs)
    refused(client.post("/simulate", json=body), 413, "TASKPILOT_MAX_SIM_JOB_RUNS", needle, "fewer dqn_episodes")
    assert len(client.app.state.simulations._runs) == before  # refused before it took a slot


def test_a_gpu_fraction_study_with_a_dqn_within_its_work_starts() -> None:
    """100 tasks x 2 seeds x 2 policies + 60 episodes x 500 tasks x 2 seeds = 60,400 task runs, under 70,000.
    On a server of its own: a GPU-fraction study runs alone, and the module's server may still be stopping a run."""
    body = {"study": "gpu-fraction", "tasks": 100, "warmup": 50, "seeds": 2, "policies": ["dqn"], "dqn_episodes": 60}
    with serve(max_sim_job_runs=70_000) as client:
        started = client.post("/simulate", json=body)
        assert started.status_code == 202, started.text
        client.delete(f"/simulate/{started.json()['id']}")
