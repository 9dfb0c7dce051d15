"""Uploads, /run and /submit_batch count their rows before parsing any: a body over TASKPILOT_MAX_BATCH_JOBS
is refused for the price of a scan (a valid 16 MB CSV was parsed for 13-19 s, at 1.3-1.7 GB, before its
row count answered 413). The count never exceeds what a parser would find, so nothing that fits is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.web.conftest import serve
from web.routes import jobs as jobs_routes

from .conftest import refused

LIMIT = 1_000


@pytest.fixture(scope="module")
def client() -> Any:
    with serve(max_batch_jobs=LIMIT) as c:
        yield c


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the parsers that ran (the CSV reader, the JSON job validator)."""
    calls: list[str] = []
    for name in ("parse_csv_rows", "parse_jobs"):
        real = getattr(jobs_routes, name)
        monkeypatch.setattr(jobs_routes, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    return calls


def session(client: Any) -> dict[str, str]:
    return {"X-Session-ID": client.get("/session").json()["session_id"]}


def test_a_valid_16_mb_csv_is_refused_by_its_row_count_before_it_is_parsed(client: Any, parsed: list[str]) -> None:
    csv = b"priority,cpu,memory\n" + b"green,1,1\n" * 1_600_000
    assert len(csv) > 16_000_000
    with serve(max_batch_jobs=100_000, max_body_bytes=17 * 1024 * 1024) as big:
        response = big.post("/upload", files={"file": ("jobs.csv", csv, "text/csv")}, headers=session(big))
    refused(response, 413, "1600000 rows", "TASKPILOT_MAX_BATCH_JOBS")
    assert parsed == [], "the file was parsed before its rows were counted"


@pytest.mark.parametrize("path", ["/run", "/submit_batch"])
def test_a_json_array_over_the_limit_is_refused_before_it_is_parsed(client: Any, parsed: list[str], path: str) -> None:
    body = json.dumps([{"priority": "green", "cpu": 1, "memory": 1}] * (LIMIT + 1)).encode()
    response = client.post(path, content=body, headers={**session(client), "content-type": "application/json"})
    refused(response, 413, f"{LIMIT + 1} jobs", "TASKPILOT_MAX_BATCH_JOBS")
    assert parsed == []


def test_rows_at_the_limit_pass_and_text_inside_cells_does_not_count(client: Any) -> None:
    """Commas, brackets, quotes and newlines inside strings or quoted cells are not rows."""
    tricky = 'a,"[{,\\"\\\\'
    body = json.dumps([{"priority": "green", "cpu": 1, "memory": 1, "job_id": f"{tricky}{i}"} for i in range(LIMIT)]).encode()
    response = client.post("/submit_batch", content=body, headers={**session(client), "content-type": "application/json"})
    assert response.status_code == 200, response.text[:300]
    assert response.json()["count"] == LIMIT
    csv = b"priority,cpu,memory\n\n" + b"green,1,1\n  \n" * LIMIT
    response = client.post("/upload", files={"file": ("jobs.csv", csv, "text/csv")}, headers=session(client))
    assert response.status_code == 200, response.text[:300]
    assert response.json()["count"] == LIMIT
