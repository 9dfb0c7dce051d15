"""Configured limits: body bytes, jobs per request, jobs per session. Each answers 413 with the setting's
name, and nothing of the refused request is applied."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from .conftest import LIVE_MAX_BODY_BYTES, Visitor, assert_error, job, messages, mixed_jobs, serve

BODY_LIMIT = 1024  # the smallest Settings allows


@pytest.fixture(scope="module")
def small() -> Iterator[TestClient]:
    """An app with tiny limits: 1 KiB bodies, 5 jobs per request, 8 jobs per session."""
    with serve(max_body_bytes=BODY_LIMIT, max_batch_jobs=5, max_session_jobs=8) as client:
        yield client


def state(v: Visitor) -> tuple[int, int]:
    s = v.summary()
    return s["queued_jobs"], s["total_jobs"]


def big_batch(n_bytes: int) -> bytes:
    """A valid JSON job array of at least n_bytes (whitespace padded, so only the size is wrong)."""
    body = json.dumps([job()]).encode()
    return body[:-1] + b" " * max(0, n_bytes - len(body)) + b"]"


def chunks(body: bytes, size: int = 100) -> Iterator[bytes]:
    """The body as a stream: the client sends it chunked, without Content-Length."""
    for i in range(0, len(body), size):
        yield body[i : i + size]


BODY_PATHS = ["/submit_batch", "/run", "/submit"]


@pytest.mark.parametrize("path", BODY_PATHS)
def test_body_at_the_limit_is_accepted(small: TestClient, path: str) -> None:
    v = Visitor(small)
    body = big_batch(BODY_LIMIT) if path != "/submit" else json.dumps(job()).encode().ljust(BODY_LIMIT)
    assert len(body) == BODY_LIMIT
    response = v.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", BODY_PATHS)
def test_body_over_the_limit(small: TestClient, path: str, streamed: bool) -> None:
    v = Visitor(small)
    v.ok("POST", "/submit", json=job())
    body = big_batch(BODY_LIMIT + 1)
    response = v.post(path, content=chunks(body) if streamed else body, headers={"content-type": "application/json"})
    detail = assert_error(response, 413)
    assert "TASKPILOT_MAX_BODY_BYTES" in messages(detail)
    assert state(v) == (1, 0)


def multipart(csv: bytes) -> tuple[bytes, str]:
    boundary = "taskpilot-test-boundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="jobs.csv"\r\nContent-Type: text/csv\r\n\r\n'.encode()
    return head + csv + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def padded_csv(n_bytes: int) -> bytes:
    return b"priority,cpu,memory\ngreen,1,2\n" + b"\n" * n_bytes  # blank lines: valid, just big


def test_upload_over_the_limit_with_content_length(small: TestClient) -> None:
    v = Visitor(small)
    body, content_type = multipart(padded_csv(BODY_LIMIT))
    detail = assert_error(v.post("/upload", content=body, headers={"content-type": content_type}), 413)
    assert "TASKPILOT_MAX_BODY_BYTES" in messages(detail)
    assert state(v) == (0, 0)


def test_upload_over_the_limit_streamed(small: TestClient) -> None:
    v = Visitor(small)
    body, content_type = multipart(padded_csv(BODY_LIMIT))
    response = v.post("/upload", content=chunks(body), headers={"content-type": content_type})
    assert state(v) == (0, 0)
    assert_error(response, 413)


def test_streamed_body_over_the_limit_on_a_real_server(live_server: str) -> None:
    """uvicorn passes a chunked body on piece by piece; the cap counts the pieces."""
    body = big_batch(LIVE_MAX_BODY_BYTES + 1)
    with httpx.Client(base_url=live_server, timeout=60) as client:
        v = Visitor(client)
        v.ok("POST", "/submit", json=job())
        response = v.post("/run", content=chunks(body, 64 * 1024), headers={"content-type": "application/json"})
        assert "TASKPILOT_MAX_BODY_BYTES" in messages(assert_error(response, 413))
        assert state(v) == (1, 0)
        # a streamed body under the cap is fine
        rows = v.ok("POST", "/run", content=chunks(json.dumps(mixed_jobs(50)).encode()), headers={"content-type": "application/json"})
        assert len(rows["scheduled_jobs"]) == 51


# --- jobs per request -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [("submit_batch", {"json": [job()] * 6}), ("run", {"json": [job()] * 6}),
     ("upload", {"files": {"file": ("a.csv", b"priority,cpu,memory\n" + b"green,1,1\n" * 6)}})],
    ids=["submit_batch", "run", "upload"],
)  # fmt: skip
def test_more_than_max_batch_jobs(small: TestClient, method: str, kwargs: dict[str, Any]) -> None:
    v = Visitor(small)
    v.ok("POST", "/submit", json=job())
    detail = assert_error(v.post(f"/{method}", **kwargs), 413)
    assert "TASKPILOT_MAX_BATCH_JOBS" in messages(detail) and "6" in messages(detail)
    assert state(v) == (1, 0)


def test_max_batch_jobs_is_inclusive(small: TestClient) -> None:
    assert Visitor(small).ok("POST", "/submit_batch", json=[job()] * 5)["count"] == 5
    assert len(Visitor(small).run([job()] * 5)) == 5
    v = Visitor(small)
    v.ok("POST", "/upload", files={"file": ("a.csv", b"priority,cpu,memory\n" + b"green,1,1\n" * 5)})
    assert len(v.run()) == 5


def test_run_counts_only_its_body_against_max_batch_jobs(small: TestClient) -> None:
    v = Visitor(small)
    v.ok("POST", "/submit_batch", json=mixed_jobs(3))
    detail = assert_error(v.post("/run", json=mixed_jobs(6)), 413)  # the body alone is over the cap
    assert "TASKPILOT_MAX_BATCH_JOBS" in messages(detail)
    assert state(v) == (3, 0)  # the queue is intact, nothing ran
    # Queued jobs were accepted batch by batch; with a body within the cap the whole queue runs.
    assert [r["job_id"] for r in v.run(mixed_jobs(3))] == [1, 2, 3, 4, 5, 6]


def test_an_accepted_queue_can_always_be_run(small: TestClient) -> None:
    v = Visitor(small)
    v.ok("POST", "/submit_batch", json=mixed_jobs(4))
    v.ok("POST", "/submit_batch", json=mixed_jobs(3))  # each batch is within the limit, 7 queued
    response = v.post("/run")  # a request with no jobs in it
    assert response.status_code == 200, response.text
    assert len(response.json()["scheduled_jobs"]) == 7


# --- jobs per session -----------------------------------------------------------------------------


def test_max_session_jobs(small: TestClient) -> None:
    v = Visitor(small)
    v.run(mixed_jobs(5))
    v.ok("POST", "/submit_batch", json=mixed_jobs(3))  # 5 scheduled + 3 queued = 8 held: the limit
    refused = [
        v.post("/submit", json=job()),
        v.post("/submit_batch", json=[job()]),
        v.post("/run", json=[job()]),
        v.post("/upload", files={"file": ("a.csv", b"priority,cpu,memory\ngreen,1,1\n")}),
    ]
    for response in refused:
        detail = assert_error(response, 413)
        assert "TASKPILOT_MAX_SESSION_JOBS" in messages(detail) and "/reset" in messages(detail)
    assert state(v) == (3, 5)
    assert [r["job_id"] for r in v.run()] == [6, 7, 8]  # the queue still runs
    assert v.history()["total"] == 8
    assert_error(v.post("/submit", json=job()), 413)
    v.ok("POST", "/reset")
    assert v.ok("POST", "/submit_batch", json=mixed_jobs(5))["job_ids"] == [1, 2, 3, 4, 5]


def test_max_session_jobs_is_inclusive(small: TestClient) -> None:
    v = Visitor(small)
    v.ok("POST", "/submit_batch", json=mixed_jobs(4))
    v.ok("POST", "/submit_batch", json=mixed_jobs(4))
    assert_error(v.post("/submit_batch", json=[job()]), 413)
    assert state(v) == (8, 0)


def test_max_total_jobs_across_sessions() -> None:
    with serve(max_total_jobs=10, max_batch_jobs=100, max_session_jobs=100) as client:
        a, b = Visitor(client), Visitor(client)
        a.run(mixed_jobs(6))
        b.ok("POST", "/submit_batch", json=mixed_jobs(4))  # 10 held in all: the limit
        refused = [
            b.post("/submit", json=job()),
            b.post("/run", json=[job()]),
            a.post("/upload", files={"file": ("a.csv", b"priority,cpu,memory\ngreen,1,1\n")}),
        ]
        for response in refused:
            detail = assert_error(response, 503)
            assert "TASKPILOT_MAX_TOTAL_JOBS" in messages(detail)
        assert state(b) == (4, 0) and state(a) == (0, 6)
        a.ok("POST", "/reset")  # frees 6
        assert b.ok("POST", "/submit_batch", json=mixed_jobs(6))["count"] == 6
