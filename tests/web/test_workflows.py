"""The workflow API: submit (201, Idempotency-Key), list, read, cancel, kinds, the dead-letter list and retry;
bad input is a 422 naming the task and field with nothing stored, limits are 413, and a workflow belongs to
its session. Runs on the real executor (wall clock, worker processes); every wait is for a condition."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.scheduler.execution.helpers import wait_until

from .conftest import Visitor, assert_error, messages, serve


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with serve(max_workflow_tasks=20, max_params_bytes=500) as c:
        yield c


def sleep(task_id: str, *deps: str, seconds: float = 0, **extra: Any) -> dict[str, Any]:
    return {"id": task_id, "kind": "sleep", "params": {"seconds": seconds}, "depends_on": list(deps), **extra}


def done(v: Visitor, workflow_id: str) -> dict[str, Any]:
    return wait_until(lambda: (w := v.ok("GET", f"/workflows/{workflow_id}"))["state"] != "running" and w, "the workflow ends")


def test_a_workflow_runs_and_every_task_went_through_placement(client: TestClient) -> None:
    v = Visitor(client)
    body = {"name": "etl", "tasks": [{"id": "extract", "kind": "analytics", "params": {"rows": 1000}, "cpu": 30},
                                     {"id": "score", "kind": "inference", "depends_on": ["extract"], "priority": "performance"},
                                     sleep("tidy", "score", trigger="all_done")]}  # fmt: skip
    created = v.post("/workflows", json=body)
    assert created.status_code == 201, created.text
    ids = created.json()["tasks"]
    assert list(ids) == ["extract", "score", "tidy"] and all(isinstance(j, int) for j in ids.values())
    w = done(v, created.json()["workflow_id"])
    assert w["state"] == "succeeded" and w["counts"]["succeeded"] == 3 and w["rollback"] == "none" and w["name"] == "etl"
    score = next(t for t in w["tasks"] if t["task"] == "score")
    assert score["depends_on"] == ["extract"] and score["layer"] == 1 and score["mode"] == "fast"
    [attempt] = score["attempts"]
    assert attempt["outcome"] == "succeeded" and attempt["worker"].startswith("fast-") and attempt["runtime_s"] > 0
    assert attempt["ended_at"] >= attempt["started_at"] and attempt["energy_kwh"] > 0 and attempt["result"]["batch"] > 0
    assert w["footprint"]["label"] == "estimate from measured runtime" and w["footprint"]["energy_kwh"] > 0
    assert [m["to"] for m in score["transitions"]] == ["pending", "queued", "running", "succeeded"]
    decision = v.ok("GET", f"/jobs/{ids['score']}")  # the task is a job of the session, placed by its tier agent
    assert decision["client_job_id"] == "score" and decision["priority"] == "performance" and decision["chosen_dc"] == score["server"]
    listed = v.ok("GET", "/workflows")
    assert listed["total"] == 1 and listed["workflows"][0]["workflow_id"] == w["workflow_id"]


def test_an_idempotency_key_returns_the_first_workflow(client: TestClient) -> None:
    v = Visitor(client)
    body = {"tasks": [sleep("only")]}
    first = v.post("/workflows", json=body, headers={"Idempotency-Key": "order-17"})
    again = v.post("/workflows", json=body, headers={"Idempotency-Key": "order-17"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert "idempotent-replayed" not in first.headers and again.headers["idempotent-replayed"] == "true"
    elsewhere = Visitor(client).post("/workflows", json=body, headers={"Idempotency-Key": "order-17"})
    assert elsewhere.json()["workflow_id"] != first.json()["workflow_id"]  # keys belong to a session
    assert v.ok("GET", "/workflows")["total"] == 1 and v.ok("GET", "/history")["total"] == 1  # placed once


BAD = [
    ({"tasks": [sleep("a", "c"), sleep("b", "a"), sleep("c", "b")]},
     ("a", "depends_on", "the dependencies make a cycle: a -> b -> c -> a (each depends on the one before)")),
    ({"tasks": [sleep("a", "a")]}, ("a", "depends_on", "task 'a' depends on itself")),
    ({"tasks": [sleep("a", "ghost")]}, ("a", "depends_on", "depends on 'ghost', which is not a task of this workflow")),
    ({"tasks": [{"id": "a", "kind": "bash"}]}, ("a", "kind", "unknown kind 'bash'; known: analytics, ")),  # then the others, sorted
    ({"tasks": [sleep("a"), sleep("a")]}, ("a", "id", "duplicate task id 'a' (also the task at index 0)")),
    ({"tasks": [{"id": "f", "kind": "flaky", "params": {"p": "often"}}]}, ("f", "params.p", "must be a number; got 'often'")),
    ({"tasks": [sleep("a", cpu=300)]}, ("a", "cpu", "Input should be less than or equal to 100; got 300")),
    ({"deadline": 30, "tasks": [sleep("a", duration_min=20), sleep("b", "a", duration_min=20)]},
     (None, "deadline", "the deadline (30 min) cannot be met: the critical path a -> b takes 40 min (each task's duration_min, or the "
                        "energy model's estimate)")),
]  # fmt: skip


@pytest.mark.parametrize(
    "body, problem", BAD, ids=["cycle", "self", "unknown-dep", "unknown-kind", "duplicate", "params", "job", "deadline"]
)
def test_bad_input_is_a_422_naming_the_task_and_field_and_nothing_is_stored(
    client: TestClient, body: Any, problem: tuple[Any, ...]
) -> None:
    v = Visitor(client)
    detail = assert_error(v.post("/workflows", json=body), 422)
    task, field, message = problem
    assert any((d["task"], d["field"]) == (task, field) and message in d["message"] for d in detail), detail
    assert v.ok("GET", "/workflows")["total"] == 0 and v.ok("GET", "/history")["total"] == 0 and v.ok("GET", "/queue")["total"] == 0


def test_not_json_and_limits(client: TestClient) -> None:
    v = Visitor(client)
    assert assert_error(v.post("/workflows", content=b"{nope", headers={"content-type": "application/json"}), 422)[0]["field"] == "body"
    too_many = messages(assert_error(v.post("/workflows", json={"tasks": [sleep(str(i)) for i in range(21)]}), 413))
    assert "21 tasks in one workflow; the limit is 20 (TASKPILOT_MAX_WORKFLOW_TASKS)" in too_many
    big = messages(assert_error(v.post("/workflows", json={"tasks": [{"id": "x", "kind": "fail", "params": {"message": "m" * 600}}]}), 413))
    assert big.startswith("task x: params is") and "TASKPILOT_MAX_PARAMS_BYTES" in big
    assert v.ok("GET", "/workflows")["total"] == 0


def test_a_workflow_belongs_to_its_session(client: TestClient) -> None:
    mine, theirs = Visitor(client), Visitor(client)
    wid = mine.post("/workflows", json={"tasks": [sleep("long", seconds=3600)]}).json()["workflow_id"]
    assert_error(theirs.get(f"/workflows/{wid}"), 404)
    assert_error(theirs.post(f"/workflows/{wid}/cancel"), 404)
    assert theirs.ok("GET", "/workflows")["total"] == 0
    assert mine.ok("POST", f"/workflows/{wid}/cancel") == {"workflow_id": wid, "state": "cancelled", "cancelled_tasks": 1}
    assert "only a running workflow can be cancelled" in messages(assert_error(mine.post(f"/workflows/{wid}/cancel"), 409))
    w = mine.ok("GET", f"/workflows/{wid}")
    assert w["state"] == "cancelled" and w["tasks"][0]["state"] == "cancelled"


def test_dead_tasks_are_listed_and_retried_by_job_id(client: TestClient) -> None:
    v = Visitor(client)
    body = {"tasks": [{"id": "flop", "kind": "fail", "retries": {"max_attempts": 1}}, sleep("next", "flop")]}
    created = v.post("/workflows", json=body).json()
    w = done(v, created["workflow_id"])
    assert w["state"] == "failed" and {t["task"]: t["state"] for t in w["tasks"]} == {"flop": "dead", "next": "upstream_failed"}
    dead = v.ok("GET", "/dead-letter")
    assert dead["total"] == 1 and dead["tasks"][0]["task"] == "flop" and dead["tasks"][0]["error"] == "TaskFailed: this task always fails"
    assert Visitor(client).ok("GET", "/dead-letter")["total"] == 0
    job_id = created["tasks"]["flop"]
    retried = v.ok("POST", f"/jobs/{job_id}/retry")
    assert retried["task"] == "flop" and retried["state"] == "queued" and retried["workflow_id"] == created["workflow_id"]
    w = wait_until(lambda: (x := done(v, created["workflow_id"]))["tasks"][0]["attempts_made"] == 2 and x)
    assert w["state"] == "failed" and [a["n"] for a in w["tasks"][0]["attempts"]] == [1, 2]
    assert "only a dead task can be retried" not in str(assert_error(v.post(f"/jobs/{10**9}/retry"), 404))
    ok = v.post("/workflows", json={"tasks": [sleep("fine")]}).json()
    done(v, ok["workflow_id"])
    assert "only a dead task can be retried" in messages(assert_error(v.post(f"/jobs/{ok['tasks']['fine']}/retry"), 409))


def test_the_kinds_are_listed_with_their_params(client: TestClient) -> None:
    kinds = {k["name"]: k for k in client.get("/tasks/kinds").json()["kinds"]}
    assert {"sleep", "inference", "analytics", "fail", "flaky"} <= set(kinds)
    assert kinds["flaky"]["params"]["p"] == {"type": "number", "description": "probability that an attempt fails", "default": 0.5,
                                             "minimum": 0, "maximum": 1}  # fmt: skip
    assert kinds["sleep"]["runs"] == "clock" and kinds["inference"]["runs"] == "process"


def test_a_grid_workflow_defers_flexible_tasks_within_its_deadline(client: TestClient) -> None:
    v = Visitor(client, client.get("/session?scenario=grid&seed=3").json()["session_id"])
    tasks = [sleep(f"t{i}", urgency="flexible", duration_min=45, priority=["green", "balanced", "performance"][i % 3]) for i in range(12)]
    created = v.post("/workflows", json={"deadline": 600, "tasks": tasks})
    assert created.status_code == 201, created.text
    w = v.ok("GET", f"/workflows/{created.json()['workflow_id']}")
    deferred = [t for t in w["tasks"] if t["deferred_h"] > 0]
    assert deferred and all(t["state"] in ("deferred", "queued", "running", "succeeded") for t in deferred)
    assert all(t["not_before"] is None or t["not_before"] <= t["latest_start"] + 1e-6 for t in w["tasks"])
    plan = w["footprint"]["plan"]
    assert plan["saved_kg"] == pytest.approx(plan["run_now_kg"] - plan["planned_kg"]) and w["scenario"] == "grid"
    assert w["critical_path"] == {"tasks": ["t0"], "length_min": 45.0} and w["session_clock_utc"].endswith("Z")
    v.ok("POST", f"/workflows/{w['workflow_id']}/cancel")
