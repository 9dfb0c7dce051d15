"""The OpenAPI document says what every JSON operation answers, and the answers say the same.

- every JSON operation documents a success schema that is not empty, a tag, and each error as ErrorOut;
- every number a query, path or /plan and /simulate body takes has a documented minimum and maximum;
- links point at operations and parameters that exist;
- real answers of every operation, in both scenarios and for their errors, conform to the documented
  schema with no undocumented field (the schemas of the routes that return a Response are never checked by
  FastAPI, so this and the fuzzer are what keep them true);
- FastAPI sends a returned Response untouched even when the route declares a response_model: the big
  answers rely on it to skip validation and re-serialisation.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel

from tests.scheduler.execution.helpers import wait_until
from tests.web.conftest import Visitor, job, mixed_jobs, serve
from tests.web.test_simulate import wait

JSON = "application/json"
METHODS = ("get", "head", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with serve(raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def doc(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in doc["paths"].items() for method, op in ops.items() if method in METHODS]


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_every_json_operation_documents_a_success_schema(doc: dict[str, Any]) -> None:
    empty = []
    for method, path, op in operations(doc):
        ok = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        schemas = [r.get("content", {}).get(JSON, {}).get("schema") for r in ok.values()]
        if not schemas or any(s is None or not resolve(doc, s).get("properties") for s in schemas):
            empty.append(f"{method.upper()} {path}")
    assert empty == []
    assert len(operations(doc)) >= 20  # the test saw the API, not an empty document


def test_every_operation_has_a_tag_a_short_id_and_errors_shaped_as_error_out(doc: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids)) and "run" in ids and "get_simulation" in ids
    known_tags = {t["name"] for t in doc["tags"]}
    for method, path, op in operations(doc):
        assert op.get("tags") and set(op["tags"]) <= known_tags, (method, path)
        errors = {code: r for code, r in op["responses"].items() if code[0] in "45"}
        assert {code: r["content"][JSON]["schema"] for code, r in errors.items()} == dict.fromkeys(
            errors, {"$ref": "#/components/schemas/ErrorOut"}
        )
    assert "HTTPValidationError" not in doc["components"]["schemas"]  # FastAPI's own 422 shape is not what we answer


def numbers(schema: dict[str, Any], doc: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, schema) of every integer or number a schema takes at its top level (through anyOf/null)."""
    schema = resolve(doc, schema)
    options = schema.get("anyOf", [schema])
    for option in options:
        if option.get("type") in ("integer", "number"):
            yield where, option


def test_every_number_a_query_path_plan_or_simulation_takes_is_bounded(doc: dict[str, Any]) -> None:
    found = []
    for method, path, op in operations(doc):
        for p in op.get("parameters", []):
            found += numbers(p["schema"], doc, f"{method.upper()} {path} {p['name']}")
    for path in ("/plan", "/simulate"):
        body = doc["paths"][path]["post"]["requestBody"]["content"][JSON]["schema"]
        for variant in body.get("anyOf", [body]):
            for name, prop in resolve(doc, variant)["properties"].items():
                found += numbers(prop, doc, f"POST {path} {name}")
    unbounded = [where for where, s in found if not ({"minimum", "exclusiveMinimum"} & set(s) and {"maximum", "exclusiveMaximum"} & set(s))]
    assert unbounded == []
    assert {"GET /history offset", "GET /queue deferred_offset", "GET /jobs/{job_id} job_id", "POST /simulate start_hour"} <= {
        w for w, _ in found
    }


def test_links_name_operations_and_parameters_that_exist(doc: dict[str, Any]) -> None:
    by_id = {op["operationId"]: op for _, _, op in operations(doc)}
    seen = 0
    for method, path, op in operations(doc):
        for response in op["responses"].values():
            for name, link in response.get("links", {}).items():
                target = by_id.get(link["operationId"])
                assert target is not None, (method, path, name)
                names = {f"{p['in']}.{p['name']}" for p in target.get("parameters", [])} | {p["name"] for p in target.get("parameters", [])}
                assert set(link["parameters"]) <= names, (method, path, name, link["parameters"])
                assert "requestBody" not in link or "requestBody" in target
                seen += 1
    assert seen >= 10


# --- real answers against the documented schemas ---------------------------------------------------


def strict_components(doc: dict[str, Any]) -> dict[str, Any]:
    """The components with every object that lists its properties closed to others: an answer's field
    missing from the documentation fails. Maps (no `properties`) keep their additionalProperties."""
    components = copy.deepcopy(doc["components"])

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and node.get("additionalProperties", True) is True:
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(components)
    return components


def documented(doc: dict[str, Any], method: str, template: str, status: int) -> dict[str, Any]:
    responses = doc["paths"][template][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {template} answered {status}, which is not documented"
    return responses[str(status)]["content"][JSON]["schema"]


def tour(client: TestClient) -> Iterator[tuple[str, str, str, Any]]:
    """(label, method, path template, response) for every JSON operation, its main variants in both
    scenarios, and its errors."""
    ref = Visitor(client)
    yield "health", "GET", "/health", client.get("/health")
    yield "info", "GET", "/info", client.get("/info")
    yield "tiers", "GET", "/tiers", client.get("/tiers")
    yield "sustainability-no-session", "GET", "/sustainability", client.get("/sustainability")
    yield "session-seeded", "GET", "/session", client.get("/session?seed=7")
    yield "submit", "POST", "/submit", ref.post("/submit", json=job(job_id="mine-1"))
    yield "submit_batch", "POST", "/submit_batch", ref.post("/submit_batch", json=mixed_jobs(3))
    yield "upload", "POST", "/upload", ref.post("/upload", files={"file": ("jobs.csv", b"priority,cpu,memory\ngreen,1,2\n")})
    yield "queue", "GET", "/queue", ref.get("/queue")
    yield "run-full", "POST", "/run", ref.post("/run", json=[job(estimated_kwh=1)])
    yield "run-compact", "POST", "/run", ref.post("/run?detail=compact", json=mixed_jobs(2))
    yield "history", "GET", "/history", ref.get("/history?limit=3")
    yield "job", "GET", "/jobs/{job_id}", ref.get("/jobs/1")
    yield "job-explanation", "GET", "/jobs/{job_id}/explanation", ref.get("/jobs/1/explanation?llm=true")
    yield "explain-job", "POST", "/explain", ref.post("/explain", json={"job_id": 1})
    yield "explain-tier", "POST", "/explain", ref.post("/explain", json={"priority": "green"})
    yield "summary", "GET", "/summary", ref.get("/summary")
    yield "agents", "GET", "/agents", ref.get("/agents")
    yield "reset", "POST", "/reset", ref.post("/reset")
    yield from grid_tour(client)
    yield from plan_and_simulate_tour(client)
    yield from workflow_tour(client)
    yield "error-400", "GET", "/summary", client.get("/summary", headers={"X-Session-ID": "no spaces"})
    yield "error-404", "GET", "/jobs/{job_id}", ref.get("/jobs/99")
    yield "error-422-query", "GET", "/history", ref.get("/history?offset=-1")
    yield "error-422-jobs", "POST", "/submit_batch", ref.post("/submit_batch", json=[{"priority": "x"}])
    yield "error-413", "POST", "/simulate", client.post("/simulate", json={"jobs": 10**9})


def grid_tour(client: TestClient) -> Iterator[tuple[str, str, str, Any]]:
    grid = Visitor(client, client.get("/session?scenario=grid").json()["session_id"])
    flexible = [job(priority, urgency="flexible", deadline=600, duration_min=45, interruptible=i % 2 == 0, job_id=i) for i, priority in
                enumerate(["green", "balanced", "performance"] * 4)]  # fmt: skip
    yield "grid-sustainability", "GET", "/sustainability", grid.get("/sustainability")
    yield "grid-run-full", "POST", "/run", grid.post("/run", json=flexible)
    yield "grid-run-compact", "POST", "/run", grid.post("/run?detail=compact", json=[job(deadline=90)])
    grid.ok("POST", "/submit", json=job(deadline="2023-01-01T12:00Z", power_w=50))
    queue = grid.get("/queue")
    assert queue.json()["deferred"], "the grid run deferred none of its flexible jobs: the tour misses a deferred row"
    yield "grid-queue-deferred", "GET", "/queue", queue
    yield "grid-history", "GET", "/history", grid.get("/history")
    yield "grid-job-deferred", "GET", "/jobs/{job_id}", grid.get(f"/jobs/{queue.json()['deferred'][0]['job_id']}")
    yield "grid-summary", "GET", "/summary", grid.get("/summary")


def plan_and_simulate_tour(client: TestClient) -> Iterator[tuple[str, str, str, Any]]:
    series = {"times": [f"2023-01-01T{h:02d}:00Z" for h in range(8)], "values": [300, 250, 90, 80, 200, 310, 60, 100]}
    jobs = [{"job_id": "a", "submit_time": "2023-01-01T00:00Z", "duration_min": 60, "deadline": 300, "interruptible": True},
            {"job_id": 2, "submit_time": "2023-01-01T01:00Z", "duration_min": 30}]  # fmt: skip
    body = {"carbon": series, "jobs": jobs, "forecasts": ["perfect", "noisy", "persistence"], "seeds": 3, "capacity": 1}
    yield "plan", "POST", "/plan", client.post("/plan", json=body)
    yield "plan-error-422", "POST", "/plan", client.post("/plan", json={**body, "jobs": [{"job_id": "a"}]})
    started = client.post(
        "/simulate", json={"workload": "poisson", "jobs": 50, "seed": 1, "policies": "random,oracle", "scenario": "reference"}
    )
    yield "simulation-started", "POST", "/simulate", started
    run_id = started.json()["id"]
    wait(client, run_id)
    yield "simulation-done", "GET", "/simulate/{run_id}", client.get(f"/simulate/{run_id}")
    yield "simulation-cancel", "DELETE", "/simulate/{run_id}", client.delete(f"/simulate/{run_id}")
    yield "simulation-404", "GET", "/simulate/{run_id}", client.get("/simulate/00000000-0000-0000-0000-000000000000")


def workflow_tour(client: TestClient) -> Iterator[tuple[str, str, str, Any]]:
    v = Visitor(client)
    undo = {"on_rollback": {"kind": "sleep", "params": {"seconds": 0}}}
    flop = {"id": "flop", "kind": "fail", "depends_on": ["ok"], "retries": {"max_attempts": 1}}
    body = {"tasks": [{"id": "ok", "kind": "inference", **undo}, flop, {"id": "after", "kind": "sleep", "depends_on": ["flop"]}]}
    created = v.post("/workflows", json=body, headers={"Idempotency-Key": "tour"})
    yield "workflow-submit", "POST", "/workflows", created
    wid, flop_job = created.json()["workflow_id"], created.json()["tasks"]["flop"]
    wait_until(lambda: (w := v.get(f"/workflows/{wid}").json())["state"] == "failed" and w["rollback"] == "done")
    yield "workflow-failed", "GET", "/workflows/{workflow_id}", v.get(f"/workflows/{wid}")
    yield "workflows", "GET", "/workflows", v.get("/workflows")
    yield "dead-letter", "GET", "/dead-letter", v.get("/dead-letter")
    yield "job-retry-409", "POST", "/jobs/{job_id}/retry", v.post(f"/jobs/{flop_job}/retry")  # its workflow was rolled back
    again = v.post("/workflows", json={"tasks": [{"id": "flop", "kind": "fail", "retries": {"max_attempts": 1}}]}).json()
    wait_until(lambda: v.get(f"/workflows/{again['workflow_id']}").json()["state"] == "failed")
    yield "job-retry", "POST", "/jobs/{job_id}/retry", v.post(f"/jobs/{again['tasks']['flop']}/retry")
    yield "task-kinds", "GET", "/tasks/kinds", client.get("/tasks/kinds")
    grid = Visitor(client, client.get("/session?scenario=grid&seed=3").json()["session_id"])
    flexible = [{"id": f"t{i}", "kind": "sleep", "urgency": "flexible", "duration_min": 45, "priority": p} for i, p in
                enumerate(["green", "balanced", "performance"] * 4)]  # fmt: skip
    long = grid.post("/workflows", json={"deadline": 600, "tasks": flexible}).json()["workflow_id"]
    yield "workflow-grid", "GET", "/workflows/{workflow_id}", grid.get(f"/workflows/{long}")
    yield "workflow-cancel", "POST", "/workflows/{workflow_id}/cancel", grid.post(f"/workflows/{long}/cancel")
    yield "workflow-cancel-409", "POST", "/workflows/{workflow_id}/cancel", grid.post(f"/workflows/{long}/cancel")
    yield "workflow-422", "POST", "/workflows", v.post("/workflows", json={"tasks": [{"id": "a", "kind": "sleep", "depends_on": ["a"]}]})
    yield "workflow-413", "POST", "/workflows", v.post("/workflows", json={"tasks": [{"id": str(i), "kind": "sleep"} for i in range(1001)]})
    yield "workflow-404", "GET", "/workflows/{workflow_id}", v.get("/workflows/00000000-0000-0000-0000-000000000000")


def reasons(error: Any) -> list[str]:
    """Where an answer departs from its schema; for anyOf and oneOf, why the closest branch fails (an
    undocumented field reads as `...: Additional properties are not allowed ('x' was unexpected)`)."""
    branches = getattr(error.kind, "context", None)
    if branches:
        return [reason for branch_error in min(branches, key=len) for reason in reasons(branch_error)]
    return [f"{'/'.join(map(str, error.instance_path))}: {error.message[:200]}"]


@pytest.fixture(scope="module")
def answers(client: TestClient) -> dict[str, tuple[str, str, Any]]:
    return {label: (method, template, response) for label, method, template, response in tour(client)}


TOUR = [
    "health",
    "info",
    "tiers",
    "sustainability-no-session",
    "session-seeded",
    "submit",
    "submit_batch",
    "upload",
    "queue",
    "run-full",
    "run-compact",
    "history",
    "job",
    "job-explanation",
    "explain-job",
    "explain-tier",
    "summary",
    "agents",
    "reset",
    "grid-sustainability",
    "grid-run-full",
    "grid-run-compact",
    "grid-queue-deferred",
    "grid-history",
    "grid-job-deferred",
    "grid-summary",
    "plan",
    "plan-error-422",
    "simulation-started",
    "simulation-done",
    "simulation-cancel",
    "simulation-404",
    "workflow-submit",
    "workflow-failed",
    "workflows",
    "dead-letter",
    "job-retry-409",
    "job-retry",
    "task-kinds",
    "workflow-grid",
    "workflow-cancel",
    "workflow-cancel-409",
    "workflow-422",
    "workflow-413",
    "workflow-404",
    "error-400",
    "error-404",
    "error-422-query",
    "error-422-jobs",
    "error-413",
]


TOURED_TAGS = {"info", "session", "jobs", "plan", "simulate"}
"""The routers this tour covers; the fuzzer checks every operation's answers, whatever its router."""


def test_the_tour_covers_every_json_operation(doc: dict[str, Any], answers: dict[str, Any]) -> None:
    assert sorted(answers) == sorted(TOUR)
    visited = {(m.lower(), t) for m, t, _ in answers.values()}
    toured = {(m, p) for m, p, op in operations(doc) if set(op["tags"]) & TOURED_TAGS}
    missing = toured - visited - {("head", "/health")}  # a HEAD answer has no body
    assert not missing, f"operations no request of tour() reaches: add one for each (and for its errors) {sorted(missing)}"


@pytest.mark.parametrize("label", TOUR)
def test_answers_conform_to_their_documented_schema(doc: dict[str, Any], answers: dict[str, Any], label: str) -> None:
    method, template, response = answers[label]
    schema = documented(doc, method, template, response.status_code)
    validator = jsonschema_rs.validator_for({**schema, "components": strict_components(doc)})
    problems = [reason for error in validator.iter_errors(response.json()) for reason in reasons(error)]
    assert not problems, f"{method} {template} -> {response.status_code}:\n" + "\n".join(problems[:10])


# --- FastAPI's behaviour the big answers rely on ---------------------------------------------------


def test_a_returned_response_is_sent_untouched_whatever_the_response_model() -> None:
    class Shape(BaseModel):
        required: int

    app = FastAPI()

    @app.get("/raw", response_model=Shape)
    def raw() -> Response:
        return Response(b'{"not":"the shape"}', media_type=JSON)

    @app.get("/dict", response_model=Shape)
    def as_dict() -> dict[str, Any]:
        return {"not": "the shape"}

    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/raw").content == b'{"not":"the shape"}'  # no validation, no re-encoding
        assert c.get("/dict").status_code == 500  # a returned dict is validated
        assert "required" in c.get("/openapi.json").json()["components"]["schemas"]["Shape"]["properties"]
