"""POST /simulate with "study": "gpu-fraction": the GPU-fraction study over HTTP, in a child process, its
bounds, and the service never importing scikit-learn."""

import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from scheduler.settings import ROOT
from tests.web.conftest import assert_error, serve
from tests.web.test_simulate import start, wait

SMALL = {"study": "gpu-fraction", "tasks": 300, "warmup": 50, "seed": 4, "policies": ["hybrid_ml", "greedy"], "dqn_episodes": 1}


def test_a_gpu_fraction_study_runs_to_the_clis_document(shared_client: TestClient) -> None:
    view = wait(shared_client, start(shared_client, SMALL))
    assert view["status"] == "done", view["error"]
    assert view["config"]["study"] == "gpu-fraction" and view["config"]["policies"] == ["oracle", "hybrid_ml", "greedy"]
    assert view["progress"]["total"] == 300 * 3
    document = view["result"]
    assert document["study"] == "gpu-fraction" and document["policies"] == ["oracle", "hybrid_ml", "greedy"]
    assert document["hybrid_trainings"] == 5  # tasks 50, 100, ..., 250
    # The same study in this process gives the same figures: the child changes where it runs, not what.
    from scheduler.sim.gpu_workload import GpuFractionConfig
    from scheduler.studies.gpu_fraction import run_study

    here = run_study(GpuFractionConfig(**SMALL))
    strip = lambda d: [{k: v for k, v in r.items() if not k.startswith("elapsed")} for r in d["table"]]  # noqa: E731
    assert strip(here) == strip(document) and here["win_loss"] == document["win_loss"]


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({**SMALL, "tasks": 5}, 422, "greater than or equal to 100"),
        ({**SMALL, "policies": ["fastest"]}, 422, "unknown policies fastest"),
        ({**SMALL, "jobs": 300}, 422, "Extra inputs are not permitted"),
        ({**SMALL, "tasks": 200_000, "seeds": 30, "policies": "all"}, 413, "TASKPILOT_MAX_SIM_JOB_RUNS"),
        ({**SMALL, "study": "gpu"}, 422, "study must be placement, deferral or gpu-fraction"),
    ],
)
def test_bad_gpu_fraction_bodies_name_the_problem(shared_client: TestClient, body: dict, status: int, needle: str) -> None:
    detail = assert_error(shared_client.post("/simulate", json=body), status)
    assert needle in str(detail), detail


def test_a_study_of_more_tasks_than_max_sim_jobs_is_413() -> None:
    with serve(max_sim_jobs=1_000) as client:
        detail = assert_error(client.post("/simulate", json={**SMALL, "tasks": 1_001}), 413)
        assert "tasks=1001 is over the limit of 1000 per simulation (TASKPILOT_MAX_SIM_JOBS)" in str(detail)
        assert client.post("/simulate", json={**SMALL, "tasks": 1_000}).status_code == 202


def test_the_service_never_imports_scikit_learn() -> None:
    """A study with hybrid_ml runs in a child process: the server's own process keeps scikit-learn's ~136 MB out."""
    code = (
        "import sys\n"
        "from tests.web.conftest import serve\n"
        "from tests.web.test_simulate import start, wait\n"  # wait's deadline turns a hang into a failure naming the run
        "with serve() as client:\n"
        f"    view = wait(client, start(client, {SMALL!r}))\n"
        "    assert view['status'] == 'done', view\n"
        "    assert view['result']['hybrid_trainings'] == 5\n"
        "assert 'sklearn' not in sys.modules, 'the service imported scikit-learn'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_gpu_fraction_study_runs_alone() -> None:
    """Its child process, with scikit-learn, is the costliest run: while it runs no other simulation starts (429),
    and it does not start beside another."""
    long = {**SMALL, "tasks": 100, "policies": ["dqn"], "dqn_episodes": 1_000}  # 500,000 tasks of pre-training: held
    placement = {"workload": "poisson", "jobs": 100, "seed": 1, "policies": ["round_robin"], "reference": False}
    with serve(max_client_sims=3, max_sim_runs=3) as client:
        first = start(client, long)
        for body, needle in ((SMALL, "another simulation is running"), (placement, "and one is running")):
            detail = assert_error(client.post("/simulate", json=body), 429)
            assert "a GPU-fraction study runs alone" in str(detail) and needle in str(detail)
        client.delete(f"/simulate/{first}")
        assert wait(client, first)["status"] == "cancelled"
        held = start(client, long)  # the slots are free again once it ended
        client.delete(f"/simulate/{held}")
        assert wait(client, held)["status"] == "cancelled"
        running = start(client, {**placement, "jobs": 100_000})
        detail = assert_error(client.post("/simulate", json=SMALL), 429)
        assert "a GPU-fraction study runs alone" in str(detail) and "another simulation is running" in str(detail)
        client.delete(f"/simulate/{running}")
