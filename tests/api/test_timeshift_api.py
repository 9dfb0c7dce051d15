"""When to run, over HTTP: urgency, deadlines, FAST/ECO and deferral in grid sessions."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Visitor, assert_error, job
from tests.api.test_scenarios import grid_visitor

WHEN_KEYS = {"urgency", "status", "mode", "carbon_band", "start_at", "finish_at", "deadline_at", "co2_saved_kg", "co2_run_now_kg"}


def when_jobs(n: int) -> list[dict[str, Any]]:
    """A mix of urgencies, with and without deadlines, some interruptible."""
    out = []
    for i in range(n):
        urgency = ("critical", "normal", "flexible")[i % 3]
        extra: dict[str, Any] = {"urgency": urgency, "duration_min": 30 + 15 * (i % 5)}
        if i % 4 == 0:
            extra["deadline"] = extra["duration_min"] + 60 * (1 + i % 13)
        if i % 2:
            extra["interruptible"] = True
        out.append(job(("green", "balanced", "performance")[i % 3], cpu=10 + i % 50, memory=20, **extra))
    return out


def test_grid_decisions_say_when_and_how_each_job_runs(shared_client: TestClient) -> None:
    v = grid_visitor(shared_client, seed=5)
    jobs = when_jobs(120)
    full = v.run(jobs)
    compact = grid_visitor(shared_client, seed=5).run(jobs, detail="compact")
    for row, short in zip(full, compact):
        assert WHEN_KEYS <= row.keys() and "runs" in row
        assert {k: short[k] for k in WHEN_KEYS} == {k: row[k] for k in WHEN_KEYS}
        assert "When:" in row["explanation"]
        assert row["status"] in ("scheduled", "deferred") and row["mode"] in ("fast", "eco")
        if row["deadline_at"] is not None:
            assert row["finish_at"] <= row["deadline_at"]  # ISO text of one format compares in time order
    statuses = {r["status"] for r in full}
    assert statuses == {"scheduled", "deferred"} and {r["mode"] for r in full} == {"fast", "eco"}
    for sent, row in zip(jobs, full):
        if sent["urgency"] == "critical":  # never deferred, never slowed
            assert row["status"] == "scheduled" and row["mode"] == "fast" and row["start_at"] == row["state"]["clock_utc"]
        if row["status"] == "deferred":
            assert sent["urgency"] == "flexible" and row["carbon_band"] == "medium" and row["start_at"] > row["state"]["clock_utc"]
            assert row["co2_saved_kg"] > 0  # expected by the forecast
        if row["mode"] == "eco":
            assert row["carbon_band"] == "high" and sent["urgency"] != "critical"


def test_a_deferred_job_is_released_when_the_session_clock_reaches_its_start(shared_client: TestClient) -> None:
    v = grid_visitor(shared_client, seed=5)
    rows = v.run(when_jobs(120), detail="compact")
    deferred = [r for r in rows if r["status"] == "deferred"]
    assert deferred
    queue = v.ok("GET", "/queue")
    waiting = {r["job_id"] for r in queue["deferred"]}
    ahead = {r["job_id"] for r in deferred if r["start_at"] > queue["clock_utc"]}
    assert waiting == ahead and queue["deferred_total"] == len(ahead)
    assert all(r["status"] == "deferred" for r in queue["deferred"])
    latest = max(deferred, key=lambda r: r["start_at"])
    if latest["job_id"] in waiting:
        assert v.ok("GET", f"/jobs/{latest['job_id']}")["status"] == "deferred"
    v.run([job()] * (4 * 48), detail="compact")  # 48 hours of clock
    assert v.ok("GET", f"/jobs/{latest['job_id']}")["status"] == "released"
    assert v.ok("GET", "/queue")["deferred_total"] == 0
    history = {r["job_id"]: r for r in v.history()["jobs"]}
    assert history[latest["job_id"]]["status"] == "released"


def test_summary_counts_what_the_policy_did(shared_client: TestClient) -> None:
    v = grid_visitor(shared_client, seed=5)
    rows = v.run(when_jobs(120), detail="compact")
    timing = v.summary()["timing"]
    assert timing["deferred_jobs"] == sum(r["status"] == "deferred" for r in rows)
    assert timing["eco_jobs"] == sum(r["mode"] == "eco" for r in rows)
    assert timing["fast_jobs"] + timing["eco_jobs"] == len(rows) and timing["deadline_misses"] == 0
    assert timing["co2_run_now_kg"] == pytest.approx(sum(r["co2_run_now_kg"] for r in rows), abs=1e-4)
    assert timing["co2_saved_kg"] == pytest.approx(timing["co2_run_now_kg"] - sum(r["co2_kg"] for r in rows), abs=1e-4)
    assert "timing" not in Visitor(shared_client).summary()  # reference sessions have no clock


def test_same_seed_same_timing(shared_client: TestClient) -> None:
    a = grid_visitor(shared_client, seed=9).run(when_jobs(60), detail="compact")
    b = grid_visitor(shared_client, seed=9).run(when_jobs(60), detail="compact")
    assert a == b


def test_deadline_times_are_read_on_the_session_clock(shared_client: TestClient) -> None:
    v = grid_visitor(shared_client)  # the clock starts at 2023-01-01T00:00Z
    ok = v.ok("POST", "/submit_batch", json=[job(urgency="flexible", duration_min=60, deadline="2023-01-01T12:00Z")])
    assert ok["count"] == 1
    assert v.ok("GET", "/queue")["jobs"][0]["deadline"] == "2023-01-01T12:00Z"
    (row,) = v.run(detail="compact")
    assert row["deadline_at"] == "2023-01-01T12:00Z" and row["finish_at"] <= "2023-01-01T12:00Z"
    # Now the clock reads 00:15; the second job of the batch is submitted after the first, at 00:30.
    errors = assert_error(v.post("/submit_batch", json=[job(), job(duration_min=60, deadline="2023-01-01T00:30Z")]), 422)
    assert errors[0]["index"] == 1 and errors[0]["field"] == "deadline"
    assert "duration_min" in errors[0]["message"] and "submission (2023-01-01T00:30Z" in errors[0]["message"]
    assert v.ok("GET", "/queue")["total"] == 0  # nothing half-queued
    csv = b"priority,cpu,memory,deadline\ngreen,1,1,2023-01-02T00:00Z\n\ngreen,1,1,2022-12-31T00:00Z\n"
    errors = assert_error(v.post("/upload", files={"file": ("jobs.csv", csv)}), 422)
    assert errors == [{"row": 4, "field": "deadline", "message": errors[0]["message"]}]


def test_a_relative_deadline_shorter_than_the_duration_is_422(shared_client: TestClient) -> None:
    errors = assert_error(Visitor(shared_client).post("/submit", json=job(deadline=20, duration_min=45)), 422)
    assert errors[0]["field"] == "deadline" and "duration_min" in errors[0]["message"]


def test_reference_sessions_accept_the_fields_and_run_every_job_now(shared_client: TestClient) -> None:
    v = Visitor(shared_client)
    rows = v.run([job(urgency="flexible", deadline=600, duration_min=30, interruptible=True, power_w=200)])
    assert not WHEN_KEYS & rows[0].keys()  # the reference's shape, unchanged
