"""One error shape on every endpoint and status, errors that say what to do, in the order of the input, and
text that is not Unicode refused where it comes in (issues 11 and 12; web/errors.py, web/body_guard.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import Visitor, assert_error, job, serve

JSON = {"content-type": "application/json"}
ZONE_DAY = {"zone": "ES", "start": "2021-01-01T00:00Z", "end": "2021-01-02T00:00Z"}


@pytest.fixture(scope="module")
def small() -> Iterator[TestClient]:
    """An app whose limits are easy to reach: a 1 KiB body, five jobs a request, five problems an answer."""
    with serve(max_body_bytes=1024, max_batch_jobs=5, max_errors=5) as client:
        yield client


# --- one shape -----------------------------------------------------------------------------------------

SHAPES = [
    ("GET", "/summary", {"sid": "not ok!"}, 400),
    ("GET", "/jobs/99", {}, 404),
    ("GET", "/no-such-page", {}, 404),
    ("DELETE", "/run", {}, 405),
    ("POST", "/submit_batch", {"content": b"[" + b'{"priority":"green","cpu":1,"memory":1},' * 40 + b"{}]", "headers": JSON}, 413),
    ("POST", "/submit_batch", {"json": [job()] * 6}, 413),
    ("POST", "/submit", {"content": b"priority=green", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 415),
    ("GET", "/history", {"params": {"limit": -1}}, 422),
    ("POST", "/submit", {"json": job(cpu=101)}, 422),
    ("POST", "/upload", {"files": {"file": ("a.csv", b"priority,cpu,memory\ngreen,1,101\n", "text/csv")}}, 422),
    ("POST", "/plan", {"json": {**ZONE_DAY, "jobs": [{"job_id": "a"}]}}, 422),
    ("POST", "/simulate", {"json": {"jobs": "many"}}, 422),
    ("POST", "/explain", {"json": {"job_id": 12345}}, 404),
    ("POST", "/workflows", {"json": {"tasks": "none"}}, 422),
]
SHAPE_IDS = ["bad-session", "no-job", "no-route", "method", "body-cap", "batch-cap", "form-post", "query", "job", "csv", "plan",
             "simulate", "explain", "workflow"]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), SHAPES, ids=SHAPE_IDS)
def test_every_status_answers_one_shape(small: TestClient, method: str, path: str, kwargs: dict[str, Any], status: int) -> None:
    """{detail: [{loc, field, message, msg, type, hint?}]} (assert_error checks each entry), whoever answers:
    a route, pydantic through FastAPI, a domain error's handler, Starlette's router or a middleware."""
    kwargs = dict(kwargs)
    detail = assert_error(Visitor(small, kwargs.pop("sid", None)).request(method, path, **kwargs), status)
    assert all(isinstance(e["loc"], list) and isinstance(e["message"], str) and e["message"] for e in detail)


def test_the_reference_s_422_fields_are_kept(small: TestClient) -> None:
    """FastAPI's validation error is {loc, msg, type}: a client written for it (the reference's) reads ours."""
    (entry,) = assert_error(Visitor(small).get("/history", params={"offset": -1}), 422)
    assert entry["loc"] == ["query", "offset"] and entry["field"] == "offset" and entry["type"] == "greater_than_equal"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ([job(), job(cpu=-1)], ["body", 1, "cpu"]),
        ([job(nope=1)], ["body", 0, "nope"]),
    ],
    ids=["field", "unknown-key"],
)
def test_loc_names_the_job_and_field(small: TestClient, body: list[Any], loc: list[Any]) -> None:
    (entry,) = assert_error(Visitor(small).post("/submit_batch", json=body), 422)
    assert entry["loc"] == loc and entry["index"] == loc[1] and entry["field"] == loc[2]


def test_one_job_s_fields_are_at_the_body(small: TestClient) -> None:
    (entry,) = assert_error(Visitor(small).post("/submit", json=job(memory=-5)), 422)
    assert entry["loc"] == ["body", "memory"] and entry["index"] == 0


def test_a_plan_job_is_under_jobs(small: TestClient) -> None:
    detail = assert_error(small.post("/plan", json={**ZONE_DAY, "jobs": [{"job_id": "a", "submit_time": "x", "duration_min": 5}]}), 422)
    assert [e["loc"] for e in detail] == [["body", "jobs", 0, "submit_time"]]


def test_past_the_cap_the_rest_are_counted(small: TestClient) -> None:
    detail_and_count = Visitor(small).post("/submit_batch", json=[job(cpu=-1, memory=-1)] * 4).json()
    assert len(detail_and_count["detail"]) == 5 and detail_and_count["truncated"] == {"shown": 5, "more": 3, "exact": True}
    fits = Visitor(small).post("/submit_batch", json=[job(cpu=-1)] * 5).json()
    assert len(fits["detail"]) == 5 and "truncated" not in fits


# --- errors in the input's order ---------------------------------------------------------------------------


def test_a_batch_s_problems_come_in_job_order_whatever_check_found_them() -> None:
    with serve() as client:
        batch = [job(), job(), job(cpu=-1), job(memory=5, mem=6), job(), job(cpu=True), job(nope=1)]
        detail = assert_error(Visitor(client).post("/submit_batch", json=batch), 422)
        assert [(e["index"], e["field"]) for e in detail] == [(2, "cpu"), (3, "memory"), (5, "cpu"), (6, "nope")]


def test_a_file_s_problems_come_in_row_order() -> None:
    csv = b"priority,cpu,memory\ngreen,1,1\ngreen,1\nblue,1,1\ngreen,1,1,1\ngreen,-1,1\n"
    with serve() as client:
        detail = assert_error(Visitor(client).post("/upload", files={"file": ("a.csv", csv, "text/csv")}), 422)
        assert [(e["row"], e["field"]) for e in detail] == [(3, None), (4, "priority"), (5, None), (6, "cpu")]
        assert detail[0]["loc"] == ["body", "file", 3] and detail[1]["loc"] == ["body", "file", 4, "priority"]


# --- errors that say what to do --------------------------------------------------------------------------------

XLSX = b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64


@pytest.mark.parametrize(
    ("data", "message", "hint"),
    [
        (XLSX, "Excel workbook (.xlsx)", "CSV UTF-8"),
        (XLS, "Excel 97-2003 workbook", "CSV UTF-8"),
        ("priority,cpu,memory\n".encode("utf-16"), "UTF-16", "CSV UTF-8"),
        ("priority,cpu,memory\ngr\u00fcn,1,1\n".encode("latin-1"), "not UTF-8", "CSV UTF-8"),
        (b"priority;cpu;memory\ngreen;15;39\n", "separated by semicolons", "detected ';' delimiter"),
        (b"priority\tcpu\tmemory\ngreen\t15\t39\n", "separated by tabs", "detected '\\t' delimiter"),
    ],
    ids=["xlsx", "xls", "utf-16", "latin-1", "semicolons", "tabs"],
)
def test_a_file_that_is_not_a_comma_csv_is_one_problem_saying_what_to_do(small: TestClient, data: bytes, message: str, hint: str) -> None:
    detail = assert_error(Visitor(small).post("/upload", files={"file": ("jobs.csv", data, "text/csv")}), 422)
    assert len(detail) == 1, detail  # not a missing column per required one and an unknown one for the whole line
    assert message in detail[0]["message"] and hint in detail[0]["hint"]


@pytest.mark.parametrize(
    ("path", "body", "status", "field", "words"),
    [
        ("/submit", [job(), job()], 422, None, ["/submit_batch"]),
        ("/submit", b"{priority: green}", 422, None, ["JSON object"]),
        ("/explain", {}, 422, "job_id", ["job_id", "POST /run", "priority"]),
        ("/explain", {"job_id": 777}, 404, "job_id", ["/history"]),
        ("/submit_batch", [job(cpu_usage=5)], 422, "cpu_usage", ["cpu, memory"]),
        ("/upload", b"priority,cpu,memory,gpu\ngreen,1,1,1\n", 422, "gpu", ["priority, latency, cpu, memory"]),
    ],
    ids=["submit-array", "submit-not-json", "explain-no-job-id", "explain-unknown-job", "unknown-field", "unknown-column"],
)  # fmt: skip
def test_hints(small: TestClient, path: str, body: Any, status: int, field: str | None, words: list[str]) -> None:
    v = Visitor(small)
    if path == "/upload":
        response = v.post(path, files={"file": ("a.csv", body, "text/csv")})
    elif isinstance(body, bytes):
        response = v.post(path, content=body, headers=JSON)
    else:
        response = v.post(path, json=body)
    (entry,) = assert_error(response, status)
    assert entry["field"] == field and all(w in entry["hint"] for w in words), entry
    assert "None" not in entry["message"]  # "no scheduled job None" named nothing


def test_explain_with_a_bad_priority_names_both(small: TestClient) -> None:
    detail = assert_error(Visitor(small).post("/explain", json={"priority": "ultra"}), 422)
    assert [e["field"] for e in detail] == ["job_id", "priority"] and "ultra" in detail[1]["message"]


def test_the_reference_s_explain_by_priority_still_answers(small: TestClient) -> None:
    assert Visitor(small).ok("POST", "/explain", json={"priority": "green"})["explanation"]


# --- text that is not Unicode ------------------------------------------------------------------------------------

LONE = "\\ud800"  # as JSON spells it: six characters of the body's text


@pytest.mark.parametrize(
    ("path", "text", "loc"),
    [
        ("/plan", '{"zone":"ES","start":"2021-01-01T00:00Z","end":"2021-01-02T00:00Z","jobs":[{"job_id":"a\\ud800",'
                  '"submit_time":"2021-01-01T00:00Z","duration_min":5}]}', ["body", "jobs", 0, "job_id"]),
        ("/plan", '{"zone":"ES","jobs":[],"\\udc00":1}', ["body", LONE.replace("800", "c00")]),
        ("/submit", '{"priority":"green","cpu":1,"memory":1,"\\ud800":1}', ["body", LONE]),
        ("/submit_batch", '[{"priority":"green","cpu":1,"memory":1},{"priority":"green\\ud800","cpu":1,"memory":1}]',
         ["body", 1, "priority"]),
        ("/run", '[{"priority":"green","cpu":1,"memory":1,"\\ud800":1}]', ["body", 0, LONE]),
        ("/simulate", '{"policies":["\\ud800"]}', ["body", "policies", 0]),
        ("/explain", '{"priority":"\\ud800"}', ["body", "priority"]),
        ("/workflows", '{"tasks":[{"id":"\\ud800","kind":"sleep"}]}', ["body", "tasks", 0, "id"]),
    ],
    ids=["plan-job-id", "plan-key", "submit-key", "batch-value", "run-key", "simulate-item", "explain-value", "workflow-task-id"],
)  # fmt: skip
def test_a_lone_surrogate_is_a_422_naming_where(small: TestClient, path: str, text: str, loc: list[Any]) -> None:
    """It used to reach orjson on the way out: 500 for a /plan job id, and for an unknown key anywhere."""
    with serve(raise_server_exceptions=False) as client:
        (entry,) = assert_error(Visitor(client).post(path, content=text.encode(), headers=JSON), 422)
    assert entry["loc"] == loc and entry["type"] == "unicode_surrogate"


PAIR = '[{"priority":"green","cpu":1,"memory":1,"job_id":"smile \\ud83d\\ude00"}]'
ESCAPED_BACKSLASH = '[{"priority":"green","cpu":1,"memory":1,"job_id":"a\\\\ud800"}]'


@pytest.mark.parametrize("text", [PAIR, ESCAPED_BACKSLASH], ids=["a-pair", "an-escaped-backslash"])
def test_a_surrogate_pair_and_an_escaped_backslash_are_fine(small: TestClient, text: str) -> None:
    assert Visitor(small).ok("POST", "/submit_batch", content=text.encode(), headers=JSON)["count"] == 1


def test_even_a_bug_answers_the_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    from web.routes import info

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug at /work/main/scheduler/x.py")

    monkeypatch.setattr(info, "summarise", broken)
    with serve(raise_server_exceptions=False) as client:
        (entry,) = assert_error(Visitor(client).get("/summary"), 500)
    assert entry["type"] == "internal_error" and "work" not in entry["message"]  # what went wrong stays in the log
