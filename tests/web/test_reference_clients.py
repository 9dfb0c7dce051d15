"""The reference TaskPilot's own clients, unchanged, against ours: its dashboard and its README.

The requests below are copied from the reference (GitHub PerinbaBuilds/TaskPilot @ 35cd366), not from its
recorded responses. What its clients send:

- every dashboard request: headers {'Content-Type': 'application/json', 'X-Session-ID': crypto.randomUUID()}
  (frontend/templates/dashboard.html:1038-1046, apiHeaders); GET /info and /sustainability go without them (1492, 1509).
- POST /run, body = the dashboard's local queue, a JSON array (dashboard.html:1294, apiPost('/run', queue)):
  * jobs read from a CSV in the browser: {job_id: counter, priority, latency, cpu, memory, mem: memory}, cpu and
    memory as integers from parseInt(cell) || 50, job_id counting on from the queue's highest (dashboard.html:1413-1434);
  * jobs from the New Job panel: {job_id: <what /submit answered>, priority, latency, cpu, memory}, the sliders'
    parseInt values (dashboard.html:1215-1221); JSON.stringify drops job_id when /submit answered without one.
- POST /submit, body {priority, latency} only (dashboard.html:1207-1212).
- POST /explain, body = one scheduled job exactly as /run answered it (dashboard.html:1826).
- POST /reset with the headers and no body (dashboard.html:1341, 1352).
- README.md:136-144 gives the CSV the dashboard reads (priority,latency,cpu,memory); README.md:150-153 the curl
  call to /run, replayed in test_contract.py::test_readme_curl_call_works_unchanged.

Every answer must have the recorded reference shape (tests/contract, checked with test_contract.conform); a
client's job_id comes back as client_job_id beside ours, which keeps its meaning.
"""

from __future__ import annotations

import csv
import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import ROOT, Visitor, assert_error, load_contract
from .test_contract import conform

RUN_SCHEMA = load_contract("post_run_with_body_1job.json")["schema"]
DECISION_SCHEMA = RUN_SCHEMA["scheduled_jobs"][0]

# README.md:139-142, as the dashboard posts it after reading it (dashboard.html:1433): its own job_id, mem beside memory.
README_CSV_QUEUE = [
    {"job_id": 1, "priority": "green", "latency": "low", "cpu": 15, "memory": 39, "mem": 39},
    {"job_id": 2, "priority": "performance", "latency": "high", "cpu": 80, "memory": 70, "mem": 70},
    {"job_id": 3, "priority": "balanced", "latency": "medium", "cpu": 45, "memory": 55, "mem": 55},
]
# dashboard.html:1207-1212: the New Job panel's /submit body (cpu and memory stay in the browser's queue).
NEW_JOB_SUBMIT = {"priority": "performance", "latency": "high"}


class Dashboard(Visitor):
    """The reference dashboard's requests: apiHeaders() on every POST, a crypto.randomUUID() session."""

    HEADERS = {"Content-Type": "application/json"}

    def __init__(self, client: TestClient):
        super().__init__(client, str(uuid.uuid4()))

    def post_json(self, path: str, body: Any = None) -> Any:
        # apiPost / fetch: JSON.stringify(body) when there is one, else no body at all
        kwargs = {} if body is None else {"json": body}
        return self.post(path, headers=self.HEADERS, **kwargs)


def js_parse_int(cell: str | None) -> int | None:
    """JavaScript's parseInt(cell) for the cells a CSV holds: the leading integer, or NaN (None)."""
    match = re.match(r"\s*([+-]?\d+)", cell or "")
    return int(match.group(1)) if match else None


def dashboard_csv_queue(text: str, queue: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """uploadCSV (dashboard.html:1393-1434) in Python: the queue the dashboard holds after reading `text`."""
    queue = list(queue or [])
    lines = [line for line in text.strip().split("\n") if line.strip()]
    headers = [h.strip() for h in lines[0].lower().split(",")]
    index = {name: headers.index(name) if name in headers else -1 for name in ("priority", "latency", "cpu", "memory")}
    counter = max((j.get("job_id") or 0 for j in queue), default=0)
    for line in lines[1:]:
        cols = line.split(",")

        def cell(name: str, cols: list[str] = cols) -> str | None:
            return cols[index[name]] if 0 <= index[name] < len(cols) else None

        payload = {
            "priority": (cell("priority") or "balanced").strip(),
            "latency": (cell("latency") or "medium").strip() if index["latency"] >= 0 else "medium",
            "cpu": (js_parse_int(cell("cpu")) or 50) if index["cpu"] >= 0 else 50,
            "memory": (js_parse_int(cell("memory")) or 50) if index["memory"] >= 0 else 50,
        }
        counter += 1
        queue.append({"job_id": counter, **payload, "mem": payload["memory"]})
    return queue


def decision_problems(row: dict[str, Any]) -> list[str]:
    """conform() against the recorded decision, whose rl_q_values name the recorded green job's pool: the
    reference keys them by the job's own pool servers (api.py's rl_q), which score_breakdown's in_pool gives."""
    pool = [name for name, part in row.get("score_breakdown", {}).items() if part.get("in_pool")]
    problems = conform({**DECISION_SCHEMA, "rl_q_values": dict.fromkeys(pool, "float")}, row)
    return problems + (
        [] if len(pool) == 3 and set(row.get("rl_q_values", {})) == set(pool) else [f"pool {pool}: rl_q_values {row.get('rl_q_values')}"]
    )


def run_problems(body: dict[str, Any]) -> list[str]:
    """Where a /run answer departs from the recorded reference shape, for jobs of any tier."""
    problems = conform({"server_loads": RUN_SCHEMA["server_loads"]}, body)
    rows = body.get("scheduled_jobs")
    if not isinstance(rows, list):
        return [*problems, "$.scheduled_jobs: not an array"]
    return problems + [f"[{i}] {p}" for i, row in enumerate(rows) for p in decision_problems(row)]


def run_ok(dashboard: Dashboard, queue: list[dict[str, Any]]) -> dict[str, Any]:
    response = dashboard.post_json("/run", queue)
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert run_problems(body) == []
    return body


def test_the_readme_csv_queue_runs_with_its_ids_kept(shared_client: TestClient) -> None:
    dash = Dashboard(shared_client)
    assert (
        dashboard_csv_queue("priority,latency,cpu,memory\ngreen,low,15,39\nperformance,high,80,70\nbalanced,medium,45,55\n")
        == README_CSV_QUEUE
    )
    rows = run_ok(dash, README_CSV_QUEUE)["scheduled_jobs"]
    assert [(r["job_id"], r["client_job_id"], r["priority"], r["latency"]) for r in rows] == [
        (1, 1, "green", "low"),
        (2, 2, "performance", "high"),
        (3, 3, "balanced", "medium"),
    ]
    assert dash.summary()["total_jobs"] == 3


@pytest.mark.parametrize("name", ["demo_jobs.csv", "sample_100_jobs.csv"])
def test_the_references_sample_csvs_run_as_the_dashboard_sends_them(shared_client: TestClient, name: str) -> None:
    """The reference's data/demo_jobs.csv and data/sample_100_jobs.csv (the same bytes as our dataset_rl copies),
    read the way its dashboard reads a CSV, queued behind a New Job the reference had numbered 1."""
    dash = Dashboard(shared_client)
    first = {"job_id": 1, "priority": "green", "latency": "low", "cpu": 20, "memory": 20}  # dashboard.html:1215-1221
    queue = dashboard_csv_queue((ROOT / "dataset_rl" / name).read_text(), [first])
    rows = run_ok(dash, queue)["scheduled_jobs"]
    assert [r["client_job_id"] for r in rows] == list(range(1, len(queue) + 1))
    assert [r["job_id"] for r in rows] == list(range(1, len(queue) + 1))
    with open(ROOT / "dataset_rl" / name, newline="") as f:
        expected = [(row["priority"], row["latency"]) for row in csv.DictReader(f)]
    assert [(r["priority"], r["latency"]) for r in rows[1:]] == expected


def test_client_ids_sit_beside_ours_in_every_answer(shared_client: TestClient) -> None:
    """Our job_id keeps its meaning (the session's count, what /jobs/{id} and /explain look up); the
    client's comes back as client_job_id, only on the jobs that had one."""
    dash = Dashboard(shared_client)
    dash.ok("POST", "/submit_batch", json=[{"priority": "green", "latency": "low", "cpu": 10, "memory": 10}])  # queued, no client id
    queue = [
        {"job_id": 100, "priority": "green", "latency": "low", "cpu": 15, "memory": 39, "mem": 39},
        {"job_id": "ticket-7", "priority": "balanced", "latency": "medium", "cpu": 45, "memory": 55},
    ]
    rows = run_ok(dash, queue)["scheduled_jobs"]
    assert [(r["job_id"], r.get("client_job_id", "absent")) for r in rows] == [(1, "absent"), (2, 100), (3, "ticket-7")]
    one = dash.ok("GET", "/jobs/2")
    assert decision_problems(one) == [] and (one["job_id"], one["client_job_id"]) == (2, 100)
    assert_error(dash.get("/jobs/100"), 404)  # a client's id is not ours
    history = dash.history()["jobs"]
    assert [(r["job_id"], r.get("client_job_id", "absent")) for r in history] == [(1, "absent"), (2, 100), (3, "ticket-7")]
    compact = dash.run([{"job_id": 5, "priority": "performance", "cpu": 80, "memory": 70, "mem": "70"}], detail="compact")
    assert [(r["job_id"], r["client_job_id"], r["memory"]) for r in compact] == [(4, 5, 70.0)]
    dash.ok("POST", "/submit", json={"job_id": "q", "priority": "green", "cpu": 1, "memory": 2})
    assert [(j["job_id"], j["client_job_id"]) for j in dash.ok("GET", "/queue")["jobs"]] == [(5, "q")]


def test_the_xai_tab_explains_a_job_from_the_run_answer(shared_client: TestClient) -> None:
    """dashboard.html:1826 posts the /run object back as it came, client_job_id and all."""
    dash = Dashboard(shared_client)
    rows = run_ok(dash, [{"job_id": 42, "priority": "green", "latency": "low", "cpu": 15, "memory": 39, "mem": 39}])["scheduled_jobs"]
    response = dash.post_json("/explain", rows[0])
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert conform(load_contract("post_explain.json")["schema"], body) == []
    assert body["job_id"] == rows[0]["job_id"] == 1  # our id found the job; 42 is the client's


def test_new_job_panel_then_run_schedules_the_job_once(shared_client: TestClient) -> None:
    """The New Job panel posts only priority and latency to /submit; we need cpu and memory (the reference
    made up 50s), so nothing is queued, the 422 names both, and the dashboard, which does not look at the
    status, keeps the job with its sliders' values and no job_id (dashboard.html:1213-1221). /run then gets
    it in the body and schedules it once; had /submit queued it, /run (queue plus body) would run it twice."""
    dash = Dashboard(shared_client)
    detail = assert_error(dash.post_json("/submit", NEW_JOB_SUBMIT), 422)
    assert sorted(e["field"] for e in detail) == ["cpu", "memory"]
    queue = [{"priority": "performance", "latency": "high", "cpu": 80, "memory": 80}]
    rows = run_ok(dash, queue)["scheduled_jobs"]
    assert [(r["job_id"], "client_job_id" in r) for r in rows] == [(1, False)]
    assert dash.summary()["total_jobs"] == 1


def test_reset_with_the_dashboards_headers_and_no_body(shared_client: TestClient) -> None:
    dash = Dashboard(shared_client)
    run_ok(dash, README_CSV_QUEUE)
    response = dash.post_json("/reset")
    assert response.status_code == 200
    assert conform(load_contract("post_reset.json")["schema"], response.json()) == []
    assert dash.summary()["total_jobs"] == 0


@pytest.mark.parametrize("path", ["/info", "/sustainability"])
def test_the_dashboards_plain_gets(shared_client: TestClient, path: str) -> None:
    response = shared_client.get(path)  # fetch(`${API}${path}`): no headers
    assert response.status_code == 200
    assert conform(load_contract(f"get{path.replace('/', '_')}.json")["schema"], response.json()) == []


@pytest.mark.parametrize(
    ("bad", "field", "alias"),
    [({"memory": 39, "mem": 40}, "memory", "mem"), ({"cpu": 15, "cpu_util": "16"}, "cpu", "cpu_util")],
    ids=["mem", "cpu_util"],
)
def test_an_alias_that_disagrees_is_a_422_naming_both_and_the_index(shared_client: TestClient, bad: dict, field: str, alias: str) -> None:
    dash = Dashboard(shared_client)
    queue = [*README_CSV_QUEUE, {"job_id": 4, "priority": "green", "latency": "low", "cpu": 15, "memory": 39, **bad}]
    detail = assert_error(dash.post_json("/run", queue), 422)
    assert [(e["index"], e["field"]) for e in detail] == [(3, field)]
    assert f"fields {field} and {alias}" in detail[0]["message"]
    assert dash.summary()["total_jobs"] == 0


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"llm_loaded": True}, "llm_loaded"),
        ({"gpu": 1}, "gpu"),
        ({"job_id": 1.5}, "job_id"),
        ({"job_id": True}, "job_id"),
        ({"job_id": ""}, "job_id"),
    ],
    ids=["unknown", "typo", "fractional-id", "boolean-id", "empty-id"],
)
def test_other_unknown_fields_and_bad_ids_stay_errors(shared_client: TestClient, extra: dict, field: str) -> None:
    dash = Dashboard(shared_client)
    detail = assert_error(dash.post_json("/run", [README_CSV_QUEUE[0], {**README_CSV_QUEUE[1], **extra}]), 422)
    assert [(e["index"], e["field"]) for e in detail] == [(1, field)]


def upload(dash: Dashboard, text: str) -> Any:
    return dash.post("/upload", files={"file": ("jobs.csv", text.encode(), "text/csv")})


def test_csv_upload_takes_the_same_columns(shared_client: TestClient) -> None:
    """Our /upload (the reference had none: its dashboard read CSVs itself) takes the same fields as
    columns: a job_id column kept per row, mem beside memory when they agree."""
    dash = Dashboard(shared_client)
    text = "job_id,priority,latency,cpu,memory,mem\n1,green,low,15,39,39\nA-2,performance,high,80,70,70.0\n,balanced,medium,45,55,\n"
    assert upload(dash, text).json()["count"] == 3
    rows = run_ok(dash, [])["scheduled_jobs"]
    assert [(r["job_id"], r.get("client_job_id", "absent")) for r in rows] == [(1, 1), (2, "A-2"), (3, "absent")]
    bad = "priority,cpu,memory,mem\ngreen,1,2,2\ngreen,1,2,3\n"
    detail = assert_error(upload(dash, bad), 422)
    assert [(e["row"], e["field"]) for e in detail] == [(3, "memory")] and "fields memory and mem" in detail[0]["message"]


def test_the_run_answer_is_the_references_shape_field_for_field(shared_client: TestClient) -> None:
    """Beside client_job_id, the sources of its figures and the attribution of its choice, a decision has what
    the reference's has: the dashboard reads those fields only."""
    dash = Dashboard(shared_client)
    (row,) = run_ok(dash, README_CSV_QUEUE[:1])["scheduled_jobs"]
    reference_keys = list(DECISION_SCHEMA)
    assert [k for k in row if k in reference_keys] == reference_keys
    assert set(row) - set(reference_keys) == {"client_job_id", "energy_source", "co2_source", "attribution"}
    assert list(row)[:2] == ["job_id", "client_job_id"]


def test_body_text_is_exactly_what_the_browser_sends(shared_client: TestClient) -> None:
    """JSON.stringify's text (no spaces) of a CSV queue entry, posted as raw bytes."""
    dash = Dashboard(shared_client)
    body = b'[{"job_id":1,"priority":"green","latency":"low","cpu":15,"memory":39,"mem":39}]'
    response = dash.post("/run", content=body, headers=Dashboard.HEADERS)
    assert response.status_code == 200 and run_problems(response.json()) == []
    assert response.json()["scheduled_jobs"][0]["client_job_id"] == 1
