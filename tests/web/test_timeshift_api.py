"""When to run, over HTTP: urgency, deadlines, FAST/ECO and deferral in grid sessions."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import Visitor, assert_error, job, serve
from tests.web.test_scenarios import grid_visitor

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
        assert row.keys() >= WHEN_KEYS and "runs" in row
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
    assert latest["job_id"] in waiting  # the last deferred start is still ahead of the clock...
    assert v.ok("GET", f"/jobs/{latest['job_id']}")["status"] == "deferred"  # ...so it shows as deferred
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
    assert [(e["row"], e["field"], e["loc"]) for e in errors] == [(4, "deadline", ["body", "file", 4, "deadline"])]


def test_a_relative_deadline_shorter_than_the_duration_is_422(shared_client: TestClient) -> None:
    errors = assert_error(Visitor(shared_client).post("/submit", json=job(deadline=20, duration_min=45)), 422)
    assert errors[0]["field"] == "deadline" and "duration_min" in errors[0]["message"]


def test_reference_sessions_accept_the_fields_and_run_every_job_now(shared_client: TestClient) -> None:
    v = Visitor(shared_client)
    rows = v.run([job(urgency="flexible", deadline=600, duration_min=30, interruptible=True, power_w=200)])
    assert not WHEN_KEYS & rows[0].keys()  # the reference's shape, unchanged


def test_full_and_compact_report_what_each_job_draws_and_emits(shared_client: TestClient) -> None:
    """power_kwh / cost / co2 of the full form are the job's own (its mode, its hours), as in the compact
    form and /summary; all_metrics keeps the placement's run-now figures."""
    jobs = [job(urgency="flexible", duration_min=240, deadline=48 * 60, interruptible=True)] * 40 + when_jobs(150)  # some split
    v = grid_visitor(shared_client, seed=5)
    full = v.run(jobs)
    compact = grid_visitor(shared_client, seed=5).run(jobs, detail="compact")
    assert {r["status"] for r in full} == {"scheduled", "deferred"} and {r["mode"] for r in full} == {"fast", "eco"}
    for row, short in zip(full, compact):
        assert (row["power_kwh"], row["cost"], row["co2"]) == (short["energy_kwh"], short["cost"], short["co2_kg"])
        assert row["runs"][0][0] == row["start_at"] and row["runs"][-1][1] == row["finish_at"]
        assert all(a < b for a, b in zip(sum(row["runs"], []), sum(row["runs"], [])[1:]))  # pieces in time order
    assert any(len(r["runs"]) > 1 for r in full)
    eco = next(r for r in full if r["mode"] == "eco")
    assert eco["power_kwh"] != eco["all_metrics"][eco["chosen_dc"]]["energy_kwh"]  # ECO draws less than FAST would
    summary = v.summary()
    assert summary["total_co2_kg"] == pytest.approx(sum(r["co2"] for r in full), abs=1e-4)
    assert summary["total_energy_kwh"] == pytest.approx(sum(r["power_kwh"] for r in full), abs=1e-3)


@pytest.mark.parametrize(
    "extra",
    [
        {"duration_min": 30, "deadline": 45 + 1e-8},  # a deadline within float noise past an hour boundary
        {"duration_min": 30, "deadline": 45 + 1e-8, "interruptible": True},
        {"duration_min": 1e-9, "interruptible": True},  # runs for almost no time at all
        {"size": 1e-200, "interruptible": True},  # the energy model's runtime underflows to 0
        {"duration_min": 10_080, "deadline": 43_200, "interruptible": True},  # the longest of both
    ],
    ids=["deadline-hair-past-hour", "deadline-hair-past-hour-interruptible", "tiny-duration", "zero-runtime", "longest"],
)
def test_odd_flexible_jobs_are_decided_not_500(shared_client: TestClient, extra: dict[str, Any]) -> None:
    # 48 jobs over 12 hours of clock, so some are submitted in the medium band; deadlines step by hours.
    later = [{"deadline": min(extra["deadline"] + 60 * (k % 12), 43_200)} if "deadline" in extra else {} for k in range(48)]
    jobs = [job("green", cpu=20, memory=20, urgency="flexible", **{**extra, **more}) for more in later]
    rows = grid_visitor(shared_client, seed=3).run(jobs)
    assert len(rows) == 48 and all(r["finish_at"] <= r["deadline_at"] for r in rows if r["status"] == "deferred")


def test_deadline_times_at_the_clock_wrap_are_read_on_the_nearest_lap() -> None:
    """Past 2023-12-31T23:00Z the clock (and its labels) wraps to 2021-01-01: a deadline may be given in
    either calendar, and is read on the lap nearest the submission."""
    with serve(grid_start="2023-12-31T22:00Z") as client:
        v = grid_visitor(client)  # the first job is submitted at 22:00, the second at 22:15
        both = [job(duration_min=30, deadline="2021-01-01T01:00Z"), job(duration_min=30, deadline="2024-01-01T01:00Z")]
        ids = v.ok("POST", "/submit_batch", json=both)
        assert ids["count"] == 2
        rows = v.run(detail="compact")
        assert [r["deadline_at"] for r in rows] == ["2021-01-01T01:00Z"] * 2
        errors = assert_error(v.post("/submit", json=job(duration_min=30, deadline="2023-12-31T21:00Z")), 422)  # before submission
        assert "before submission (2023-12-31T22:30Z" in errors[0]["message"]
        v.run([job()] * 8, detail="compact")  # the clock reads 2021-01-01T00:45Z now, on its second lap
        for deadline in ("2021-01-01T06:00Z", "2024-01-01T06:00Z"):
            assert v.ok("POST", "/submit", json=job(duration_min=30, deadline=deadline))
        assert [r["deadline_at"] for r in v.run(detail="compact")] == ["2021-01-01T06:00Z"] * 2
        errors = assert_error(v.post("/submit", json=job(duration_min=30, deadline="2018-01-01T06:00Z")), 422)  # not on the clock
        assert "before submission" in errors[0]["message"]


def test_run_says_the_clock_it_left_and_queue_pages_deferred_jobs_apart(shared_client: TestClient) -> None:
    v = grid_visitor(shared_client, seed=5)
    response = v.post("/run?detail=compact", json=when_jobs(120))
    assert response.status_code == 200
    body = response.json()
    assert body["clock_utc"] == "2023-01-02T06:00Z"  # 120 jobs x 15 min after 2023-01-01T00:00Z
    assert "clock_utc" not in Visitor(shared_client).post("/run", json=[job()]).json()  # the reference shape
    everything = v.ok("GET", "/queue", params={"deferred_limit": 1000})
    assert everything["deferred_total"] == len(everything["deferred"]) >= 2
    page = v.ok("GET", "/queue", params={"limit": 5, "deferred_offset": 1, "deferred_limit": 1})
    assert page["limit"] == 5 and page["deferred_offset"] == 1 and page["deferred"] == everything["deferred"][1:2]


def test_sustainability_states_the_when_policy(shared_client: TestClient) -> None:
    policy = grid_visitor(shared_client).ok("GET", "/sustainability")["when_policy"]
    assert policy["forecast"] == "persistence" and "percentile" in policy["bands"]
    assert policy["modes"]["eco"]["runtime_factor"] == 2.5


def test_placement_keeps_to_servers_that_can_meet_the_deadline(shared_client: TestClient) -> None:
    """A deadline some pool server can meet is met; one none can is late, and the explanation says why."""
    v = grid_visitor(shared_client, seed=3)
    pools = {
        "green": ("Server 1", "Server 2", "Server 3"),
        "balanced": ("Server 4", "Server 5", "Server 6"),
        "performance": ("Server 7", "Server 8", "Server 9"),
    }
    jobs = [
        job(
            ("green", "balanced", "performance")[i % 3],
            cpu=10 + (i * 7) % 90,
            duration_min=30 + (i * 13) % 120,
            urgency=("critical", "normal", "flexible")[(i // 3) % 3],
            deadline=(30 + (i * 13) % 120) * (1.0 + (i % 4) * 0.15),
        )
        for i in range(240)
    ]
    rows = v.run(jobs)
    met = late = 0
    for sent, row in zip(jobs, rows):
        fastest = min(row["all_metrics"][s]["runtime_min"] for s in pools[sent["priority"]])
        if fastest <= sent["deadline"]:
            assert row["finish_at"] <= row["deadline_at"], row["explanation"]
            assert row["all_metrics"][row["chosen_dc"]]["runtime_min"] <= sent["deadline"]
            met += 1
        else:
            assert row["finish_at"] > row["deadline_at"] and "no server of its pool can finish by then" in row["explanation"]
            late += 1
    assert met > 100 and late > 10  # both cases occur
    assert any("Left out because they could not finish by the deadline" in r["explanation"] for r in rows)
    assert v.summary()["timing"]["deadline_misses"] == late
