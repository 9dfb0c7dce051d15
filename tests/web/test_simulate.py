"""POST /simulate and GET /simulate/{id}: a real simulator run over HTTP, its bounds and its failures."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from scheduler.sim.config import REFERENCE_STEPS
from tests.web.conftest import assert_error, messages, serve
from tests.web.gates import Gate, wait_until

SMALL = {"workload": "poisson", "jobs": 300, "seed": 5, "policies": "round_robin,lowest_carbon,oracle", "scenario": "grid"}
ACTIVE = ("queued", "running")


def finished(view: dict[str, Any]) -> bool:
    return view["status"] not in ACTIVE


def wait(client: TestClient, run_id: str, until: Callable[[dict[str, Any]], bool] = finished) -> dict[str, Any]:
    """The run's view once `until(view)` holds (by default: the run has finished). The deadline only turns
    a run that never gets there into a failure; it is not a measure of speed."""
    seen: list[dict[str, Any]] = []

    def arrived() -> dict[str, Any] | None:
        seen.append(client.get(f"/simulate/{run_id}").json())
        return seen[-1] if until(seen[-1]) else None

    return wait_until(arrived, f"simulation {run_id} reaching the state waited for", poll_s=0.05)


@contextmanager
def held_simulations(client: TestClient) -> Iterator[Gate]:
    """Simulations of this app stop after their first chunk of jobs (at each progress report) until the
    test opens the gate: a run that must still be running when the test cancels it, or must outlive its
    time limit, is held there on purpose instead of being big enough on this machine."""
    runner = client.app.state.simulations  # type: ignore[attr-defined]
    study = runner._study
    gate = Gate()

    def held(config: Any, progress: Callable[[int, int, str], None], cancel: Callable[[], bool]) -> dict[str, Any]:
        def report(done: int, total: int, label: str) -> None:
            progress(done, total, label)
            gate.pass_through()  # the next chunk starts by asking cancel()

        return study(config, progress=report, cancel=cancel)

    runner._study = held
    try:
        yield gate
    finally:
        gate.open()
        del runner._study


def start(client: TestClient, body: dict[str, Any]) -> str:
    response = client.post("/simulate", json=body)
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/simulate/{response.json()['id']}"
    return response.json()["id"]


def test_a_simulation_runs_to_results_that_replay(shared_client: TestClient) -> None:
    views = [wait(shared_client, start(shared_client, SMALL)) for _ in range(2)]
    first = views[0]
    assert first["status"] == "done" and first["error"] is None
    # three policies, least_loaded's run (the reference's constraint, not reported) and the reference's search
    assert first["progress"]["done"] == first["progress"]["total"] == (3 + 1 + REFERENCE_STEPS + 1) * 300
    result = first["result"]
    assert [p["policy"] for p in result["policies"]] == ["round_robin", "lowest_carbon", "oracle"]
    reference = result["reference"]
    assert [g["policy"] for g in reference["gaps"]] == ["round_robin", "lowest_carbon", "oracle"]
    on_terms = [p for p in result["policies"] if p["completion_mean_min"] <= reference["target_completion_mean_min"]]
    assert all(reference["summary"]["co2_with_idle_kg"] <= p["co2_with_idle_kg"] for p in on_terms)
    assert 0 < reference["lower_bound"]["co2_with_idle_kg"] <= reference["summary"]["co2_with_idle_kg"]
    assert all(result["lower_bound"]["co2_kg"] <= p["co2_kg"] + 1e-9 for p in result["policies"])
    assert result["units"]["energy"] == "kWh" and result["clock"]["scenario"] == "grid"
    assert views[1]["result"] == result  # same seed, same document


def test_a_run_replays_on_any_server() -> None:
    """Servers started with different TASKPILOT_SEEDs (so different pre-trained agents of their own)
    give the same document for the same config: the run pre-trains its agents from its own seed."""
    body = {**SMALL, "policies": "tier_agents,greedy", "pretrain_episodes": 40}
    results = []
    for seed in (1, 2):
        with serve(seed=seed) as client:
            view = wait(client, start(client, body))
            assert view["status"] == "done", view["error"]
            results.append(view["result"])
    assert results[0] == results[1]
    assert results[0]["config"]["pretrain_episodes"] == 40


@pytest.mark.parametrize(
    "body, status, needle",
    [
        ({"jobs": 10**9}, 413, "TASKPILOT_MAX_SIM_JOBS"),
        ({"jobs": 0}, 422, "jobs"),
        ({"policies": "fifo"}, 422, "policies"),
        ({"workload": "file"}, 422, "only for the CLI"),
        ({"scenario": "solar"}, 422, "scenario"),
        ({"unknown": 1}, 422, "unknown"),
        ({"start_hour": 10**20}, 422, "start_hour"),
        ({"start_hour": 26_280}, 422, "start_hour"),
        ({"scenario": "reference", "start_hour": 8_760}, 422, "start_hour must be at most 8759"),
        ({"load": 1e-300}, 422, "load"),
        ({"pretrain_episodes": 10**6}, 422, "pretrain_episodes"),
        ({"reference": "yes"}, 422, "reference"),
    ],
    ids=[
        "too-many-jobs",
        "no-jobs",
        "unknown-policy",
        "file-workload",
        "unknown-scenario",
        "unknown-field",
        "start-past-uint64",
        "start-past-the-grid",
        "start-past-the-reference-year",
        "tiny-load",
        "too-much-pretraining",
        "string-reference",
    ],
)
def test_bad_requests_name_the_problem(shared_client: TestClient, body: dict[str, Any], status: int, needle: str) -> None:
    detail = assert_error(shared_client.post("/simulate", json=body), status)
    assert needle in str(detail)


def test_unknown_ids(shared_client: TestClient) -> None:
    assert "no simulation" in messages(assert_error(shared_client.get("/simulate/00000000-0000-0000-0000-000000000000"), 404))
    assert_error(shared_client.get("/simulate/not-an-id"), 422)


def test_one_run_too_many_is_429_and_a_cancel_stops_it() -> None:
    with serve(max_sim_runs=1) as client, held_simulations(client) as gate:
        big = start(client, {"workload": "poisson", "jobs": 100_000, "seed": 1, "policies": "all", "reference": False})
        gate.wait_arrival("the big run")  # running, held after its first chunk
        refused = client.post("/simulate", json=SMALL)
        assert "TASKPILOT_MAX_SIM_RUNS" in messages(assert_error(refused, 429))
        assert refused.headers["retry-after"] == "10"
        assert client.delete(f"/simulate/{big}").status_code == 200
        gate.open()
        view = wait(client, big)
        assert view["status"] == "cancelled" and view["result"] is None
        assert view["progress"]["done"] < view["progress"]["total"]  # stopped part-way
        assert wait(client, start(client, SMALL))["status"] == "done"  # the slot is free again


def outlive_time_limit(client: TestClient, run_id: str, gate: Gate, limit_s: float) -> dict[str, Any]:
    """Hold the run until it has run for longer than `limit_s` (or has stopped on its own), then let it go
    on: the next chunk's check finds it past its limit. Returns its final view."""
    wait(client, run_id, until=lambda v: finished(v) or (v["elapsed_s"] or 0) > limit_s)
    gate.open()
    return wait(client, run_id)


def test_a_run_past_its_time_limit_fails_and_says_why() -> None:
    with serve(sim_timeout_s=0.05) as client, held_simulations(client) as gate:
        run_id = start(client, {"workload": "poisson", "jobs": 100_000, "seed": 1, "policies": "all", "reference": False})
        view = outlive_time_limit(client, run_id, gate, 0.05)
        assert view["status"] == "failed" and "TASKPILOT_SIM_TIMEOUT_S" in view["error"]


@pytest.mark.parametrize(
    "body",
    [{"policies": None}, {"policies": [1, 2]}, {"jobs": True}, {"jobs": "12"}, {"seed": -1}],
    ids=["null-policies", "number-policies", "bool-jobs", "string-jobs", "negative-seed"],
)
def test_wrong_types_are_422_not_500(shared_client: TestClient, body: dict[str, Any]) -> None:
    assert_error(shared_client.post("/simulate", json=body), 422)


def test_a_gaia_run_past_the_shipped_sample_needs_the_full_trace(
    shared_client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from scheduler.studies import placement as evaluation

    monkeypatch.setattr(evaluation, "SHARED_GAIA_DIR", tmp_path / "absent")
    detail = assert_error(shared_client.post("/simulate", json={"workload": "gaia-azure", "jobs": 10_001}), 422)
    assert "10,000" in messages(detail) and "absent" in messages(detail)


def test_a_run_without_a_seed_reports_the_drawn_one_even_when_cancelled() -> None:
    with serve(max_sim_runs=1) as client, held_simulations(client) as gate:
        run_id = start(client, {"workload": "poisson", "jobs": 100_000, "policies": "all", "reference": False})
        gate.wait_arrival("the run")
        assert client.delete(f"/simulate/{run_id}").status_code == 200
        gate.open()
        view = wait(client, run_id)
        assert view["status"] == "cancelled" and isinstance(view["config"]["seed"], int)


def test_a_run_that_crashes_says_so_without_the_servers_details(client: TestClient) -> None:
    """A bug's message may name a file on the server: the client gets its kind, the log the message."""
    runner = client.app.state.simulations  # type: ignore[attr-defined]

    def crash(config: Any, progress: Callable[[int, int, str], None], cancel: Callable[[], bool]) -> dict[str, Any]:
        raise OSError("[Errno 2] No such file or directory: '/srv/taskpilot/secret/weights.npz'")

    runner._study = crash
    try:
        view = wait(client, start(client, {"jobs": 50, "seed": 1, "policies": ["round_robin"], "reference": False}))
    finally:
        del runner._study
    assert view["status"] == "failed"
    assert "OSError" in view["error"] and "/srv" not in view["error"] and "secret" not in view["error"], view["error"]
