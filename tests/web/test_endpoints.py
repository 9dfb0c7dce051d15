"""Every endpoint's normal behaviour: what it answers and what it changes in the session."""

from __future__ import annotations

import math
import re

import pytest
from fastapi.testclient import TestClient

from .conftest import (
    ROOT,
    SESSION_HEADER,
    TIERS,
    Visitor,
    assert_error,
    job,
    mixed_jobs,
    new_sid,
)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PER_SERVER_TABLES = ("scores", "score_breakdown", "all_metrics", "rl_q_values", "state")


# --- page, health, session -------------------------------------------------------------------------


def test_dashboard_page(shared_client: TestClient) -> None:
    response = shared_client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()


def test_health_get_and_head(shared_client: TestClient) -> None:
    got = shared_client.get("/health")
    assert got.status_code == 200
    assert got.json()["status"] == "ok" and got.json()["run_accepts_body"] is True
    head = shared_client.head("/health")
    assert head.status_code == 200 and head.content == b""


def test_session_issues_fresh_usable_ids(shared_client: TestClient) -> None:
    first, second = shared_client.get("/session"), shared_client.get("/session")
    ids = [r.json()["session_id"] for r in (first, second)]
    assert ids[0] != ids[1]
    for response, sid in zip((first, second), ids, strict=True):
        assert SESSION_ID.match(sid) and len(sid) >= 32  # unguessable: a uuid4
        assert response.headers[SESSION_HEADER] == sid
    visitor = Visitor(shared_client, ids[0])
    assert visitor.ok("POST", "/submit", json=job()) == {"job_id": 1}
    assert visitor.summary()["queued_jobs"] == 1
    assert Visitor(shared_client, ids[1]).summary()["queued_jobs"] == 0


def test_session_seed_replays_decisions(shared_client: TestClient) -> None:
    a, b = (shared_client.get("/session?seed=1234").json() for _ in range(2))
    assert a["seed"] == b["seed"] == 1234 and a["session_id"] != b["session_id"]
    jobs = mixed_jobs(300)
    runs = []
    for sid in (a["session_id"], b["session_id"]):
        visitor = Visitor(shared_client, sid)
        visitor.ok("POST", "/submit_batch", json=jobs[:100])
        runs.append(visitor.run(jobs[100:200]) + visitor.run(jobs[200:], detail="compact"))
    assert runs[0] == runs[1]
    assert len(runs[0]) == 300


@pytest.mark.parametrize("seed", ["-1", "abc", "1.5", str(2**63)], ids=["negative", "text", "fraction", "too-big"])
def test_session_bad_seed(shared_client: TestClient, seed: str) -> None:
    assert_error(shared_client.get(f"/session?seed={seed}"), 422)


# --- submit, submit_batch, run, reset --------------------------------------------------------------


def test_submit_and_submit_batch_number_jobs_in_order(shared_client: TestClient) -> None:
    v = Visitor(shared_client)
    assert v.ok("POST", "/submit", json=job()) == {"job_id": 1}
    assert v.ok("POST", "/submit", json=job("performance")) == {"job_id": 2}
    assert v.ok("POST", "/submit_batch", json=mixed_jobs(3)) == {"job_ids": [3, 4, 5], "count": 3}
    assert v.ok("POST", "/submit_batch", json=[]) == {"job_ids": [], "count": 0}
    assert v.summary()["queued_jobs"] == 5
    assert v.summary()["total_jobs"] == 0


def test_run_schedules_queue_then_body(shared_client: TestClient) -> None:
    v = Visitor(shared_client)
    queued = [job("performance", 80, 70), job("green", 10, 20)]
    body = [job("balanced", 50, 50), job("green", 5, 5)]
    v.ok("POST", "/submit_batch", json=queued)
    rows = v.run(body)
    assert [r["job_id"] for r in rows] == [1, 2, 3, 4]
    assert [r["priority"] for r in rows] == ["performance", "green", "balanced", "green"]
    assert v.summary()["queued_jobs"] == 0
    assert v.run() == []  # the queue was emptied


@pytest.mark.parametrize("body", [None, b"", b"[]", b"  \n"], ids=["no-body", "empty-bytes", "empty-array", "whitespace"])
def test_run_without_body_jobs_runs_the_queue(shared_client: TestClient, body: bytes | None) -> None:
    v = Visitor(shared_client)
    v.ok("POST", "/submit_batch", json=mixed_jobs(3))
    kwargs = {} if body is None else {"content": body, "headers": {"content-type": "application/json"}}
    data = v.ok("POST", "/run", **kwargs)
    assert [r["job_id"] for r in data["scheduled_jobs"]] == [1, 2, 3]
    assert sum(data["server_loads"].values()) == 3


def test_run_on_empty_session(shared_client: TestClient) -> None:
    v = Visitor(shared_client)
    data = v.ok("POST", "/run", json=[])
    assert data["scheduled_jobs"] == []
    info = shared_client.get("/info").json()
    assert data["server_loads"] == dict.fromkeys(info["server_ids"], 0)


def test_server_loads_count_every_scheduled_job(shared_client: TestClient) -> None:
    v = Visitor(shared_client)
    v.run(mixed_jobs(10))
    data = v.ok("POST", "/run", json=mixed_jobs(7, salt=1))
    loads = data["server_loads"]
    assert sum(loads.values()) == 17
    assert loads == v.summary()["jobs_by_server"]


def test_run_compact_has_the_essentials_only(shared_client: TestClient) -> None:
    sids = [shared_client.get("/session?seed=99").json()["session_id"] for _ in range(2)]
    jobs = mixed_jobs(12)
    full = Visitor(shared_client, sids[0]).run(jobs)
    compact = Visitor(shared_client, sids[1]).run(jobs, detail="compact")
    assert len(compact) == 12
    for f, c in zip(full, compact, strict=True):
        assert not set(PER_SERVER_TABLES) & set(c)
        for key in ("job_id", "chosen_dc", "priority", "reward", "rl_reward"):
            assert c[key] == f[key], key
        assert c["cpu"] == jobs[c["job_id"] - 1]["cpu"]


def test_run_bad_detail(shared_client: TestClient) -> None:
    assert_error(Visitor(shared_client).post("/run?detail=everything", json=[]), 422)


def test_reset_empties_queue_history_and_ids(shared_client: TestClient) -> None:
    v = Visitor(shared_client)
    v.run(mixed_jobs(4))
    v.ok("POST", "/submit", json=job())
    assert v.ok("POST", "/reset") == {"status": "reset ok"}
    summary = v.summary()
    assert (summary["total_jobs"], summary["queued_jobs"], summary["sustainability_score"]) == (0, 0, 0.0)
    assert v.history()["total"] == 0
    assert v.ok("POST", "/submit", json=job()) == {"job_id": 1}


# --- explain ----------------------------------------------------------------------------------------


def test_explain_known_job_uses_the_server_record(shared_client: TestClient) -> None:
    v = Visitor(shared_client)
    (decision,) = v.run([job("green", 15, 39, latency="low")])
    wrong = "Server 9" if decision["chosen_dc"] != "Server 9" else "Server 8"
    # the client's copy of the decision is ignored: only job_id counts
    body = {**decision, "chosen_dc": wrong, "priority": "performance", "explanation": "made up"}
    data = v.ok("POST", "/explain", json=body)
    assert data["job_id"] == decision["job_id"]
    assert decision["chosen_dc"] in data["explanation"] and wrong not in data["explanation"]
    assert data["source"] == "template"
    assert data["explanation"] == v.ok("GET", f"/jobs/{decision['job_id']}/explanation?llm=true")["explanation"]


@pytest.mark.parametrize("priority", ["green", "BALANCED", " performance "], ids=["lower", "upper", "spaces"])
def test_explain_unknown_job_with_priority_gets_tier_text(shared_client: TestClient, priority: str) -> None:
    v = Visitor(shared_client)
    data = v.ok("POST", "/explain", json={"job_id": 77, "priority": priority})
    tier = priority.strip().lower()
    pool = shared_client.get("/info").json()["tier_pools"][tier]
    assert data["source"] == "template" and "job_id" not in data
    assert tier in data["explanation"].lower()
    assert all(server in data["explanation"] for server in pool)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"priority": "purple"}, 422),
        ({"job_id": 5}, 404),
        ({"job_id": "5"}, 404),
        ({"job_id": True}, 404),
        ({"job_id": 5, "priority": 3}, 404),
        ([{"job_id": 1}], 422),
        ("green", 422),
        (None, 422),
    ],
    ids=["empty-object", "bad-priority", "unknown-id", "id-as-text", "id-as-bool", "unknown-id-bad-priority", "array", "string", "null"],
)
def test_explain_nothing_usable(shared_client: TestClient, body: object, status: int) -> None:
    v = Visitor(shared_client)
    v.run([job()])  # job 1 exists, so only the id's form decides
    assert_error(v.post("/explain", json=body), status)


def test_explain_queued_job_is_not_explained_yet(shared_client: TestClient) -> None:
    v = Visitor(shared_client)
    v.ok("POST", "/submit", json=job())
    assert_error(v.post("/explain", json={"job_id": 1}), 404)


# --- info, tiers, sustainability --------------------------------------------------------------------


def test_info_pools_partition_the_fleet(shared_client: TestClient) -> None:
    info = shared_client.get("/info").json()
    assert info["n_servers"] == 9 == len(info["server_ids"])
    pools = info["tier_pools"]
    assert list(pools) == list(TIERS)
    assert [s for t in TIERS for s in pools[t]] == info["server_ids"]  # sorted by CPU: green first
    assert all(len(pools[t]) == 3 for t in TIERS)


def test_tiers_agree_with_info(shared_client: TestClient) -> None:
    info = shared_client.get("/info").json()
    tiers = shared_client.get("/tiers").json()
    assert tiers["total_servers"] == 9 and list(tiers["server_tiers"]) == info["server_ids"]
    capacities = [v["capacity_tier"] for v in tiers["server_tiers"].values()]
    assert capacities == sorted(capacities) and capacities[0] == 0.0 and capacities[-1] == 1.0
    for name, flags in tiers["server_tiers"].items():
        member = [t for t in TIERS if flags[f"in_{t}_pool"]]
        assert len(member) == 1 and name in info["tier_pools"][member[0]]


def test_sustainability_is_the_next_jobs_carbon_factor(shared_client: TestClient) -> None:
    anonymous = shared_client.get("/sustainability")
    assert SESSION_HEADER not in anonymous.headers  # reading the hint does not create a session
    v = Visitor(shared_client)
    for _ in range(3):
        hint = v.ok("GET", "/sustainability")
        assert 0.0 <= hint["carbon_factor"] <= 1.0
        band_tier = {"low": "performance", "medium": "balanced", "high": "green"}[hint["carbon_band"]]
        assert hint["recommendation"] == band_tier and hint["message"]
        (row,) = v.run([job()], detail="compact")
        assert row["carbon_factor"] == hint["carbon_factor"]
        v.run(mixed_jobs(5))  # move the session's pointer on
    assert anonymous.json() == Visitor(shared_client).ok("GET", "/sustainability")  # a new session starts at 0


# --- history, jobs, explanations --------------------------------------------------------------------


def test_history_pages_across_runs(shared_client: TestClient) -> None:
    v = Visitor(shared_client)
    sizes = (5, 7, 1, 4)
    for i, n in enumerate(sizes):
        v.run(mixed_jobs(n, salt=i))
    v.ok("POST", "/submit", json=job())  # queued, not history
    total = sum(sizes)
    for limit in (1, 3, 5, 16, 17, 1000):
        seen = []
        for offset in range(0, total + limit, limit):
            page = v.history(offset, limit)
            assert (page["total"], page["offset"], page["limit"]) == (total, offset, limit)
            assert len(page["jobs"]) == max(0, min(limit, total - offset))
            seen += [r["job_id"] for r in page["jobs"]]
        assert seen == list(range(1, total + 1)), limit
    assert v.history(3, 2)["jobs"][0]["job_id"] == 4
    assert v.ok("GET", "/history")["limit"] == 100  # default page
    assert v.history(10**12, 5)["jobs"] == []


@pytest.mark.parametrize(
    "query",
    ["offset=-1", "limit=0", "limit=1001", "limit=x", "offset=1.5"],
    ids=["neg-offset", "zero-limit", "big-limit", "text-limit", "float-offset"],
)
def test_history_bad_paging(shared_client: TestClient, query: str) -> None:
    assert_error(Visitor(shared_client).get(f"/history?{query}"), 422)


def test_history_rows_match_run_decisions(shared_client: TestClient) -> None:
    v = Visitor(shared_client)
    ran = v.run(mixed_jobs(6), detail="compact")
    rows = v.history()["jobs"]
    for h, r in zip(rows, ran, strict=True):
        for key in ("job_id", "chosen_dc", "priority", "latency", "cpu", "memory", "reward", "rl_reward"):
            assert h[key] == r[key], key
        assert "explanation" not in h


def test_job_detail_equals_the_run_row(shared_client: TestClient) -> None:
    v = Visitor(shared_client)
    rows = v.run(mixed_jobs(3)) + v.run(mixed_jobs(2, salt=5))
    for row in rows:
        assert v.ok("GET", f"/jobs/{row['job_id']}") == row


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/jobs/6", 404),
        ("/jobs/0", 422),
        ("/jobs/-3", 422),
        ("/jobs/abc", 422),
        (f"/jobs/{2**70}", 422),
        ("/jobs/4/explanation", 404),
        ("/jobs/1/explanation?llm=maybe", 422),
    ],
    ids=["unknown", "zero", "negative", "text", "huge", "queued-not-run", "llm-not-bool"],
)
def test_job_lookup_errors(shared_client: TestClient, path: str, status: int) -> None:
    v = Visitor(shared_client)
    v.run(mixed_jobs(3))
    v.ok("POST", "/submit", json=job())  # job 4 is queued only
    assert_error(v.get(path), status)


def test_job_explanation_template_and_llm_without_key(shared_client: TestClient) -> None:
    v = Visitor(shared_client)
    (decision,) = v.run([job("balanced", 60, 40)])
    plain = v.ok("GET", "/jobs/1/explanation")
    assert plain["job_id"] == 1 and plain["source"] == "template" and plain["note"] is None
    assert decision["chosen_dc"] in plain["explanation"]
    llm = v.ok("GET", "/jobs/1/explanation?llm=true")
    assert llm["source"] == "template"
    assert "GROQ_API_KEY" in llm["note"]
    assert llm["explanation"] == plain["explanation"]


# --- summary, agents --------------------------------------------------------------------------------


def test_summary_of_empty_session(shared_client: TestClient) -> None:
    s = Visitor(shared_client).summary()
    assert s["total_jobs"] == 0 and s["queued_jobs"] == 0
    assert s["sustainability_score"] == 0.0
    assert all(math.isfinite(v) for v in s["score_parts"].values())


def test_summary_kpis_agree_with_history(shared_client: TestClient) -> None:
    v = Visitor(shared_client)
    v.run(mixed_jobs(40))
    v.run(mixed_jobs(25, salt=2))
    v.ok("POST", "/submit_batch", json=mixed_jobs(3))
    s = v.summary()
    rows = v.history()["jobs"]
    n = len(rows)
    assert s["total_jobs"] == n == 65 and s["queued_jobs"] == 3
    assert 0.0 <= s["sustainability_score"] <= 100.0
    # history rounds each job (4 or 6 decimals), the summary rounds the sums: allow n half-units
    assert s["total_energy_kwh"] == pytest.approx(sum(r["energy_kwh"] for r in rows), abs=n * 5e-5 + 5e-5)
    assert s["total_co2_kg"] == pytest.approx(sum(r["co2_kg"] for r in rows), abs=n * 5e-7 + 5e-7)
    assert s["total_cost"] == pytest.approx(sum(r["cost"] for r in rows), abs=n * 5e-7 + 5e-7)
    assert s["avg_reward"] == pytest.approx(sum(r["reward"] for r in rows) / n, abs=1e-4)
    assert s["jobs_by_priority"] == {t: sum(r["priority"] == t for r in rows) for t in TIERS}
    assert s["green_ratio"] == pytest.approx(s["jobs_by_priority"]["green"] / n, abs=1e-4)
    by_server = dict.fromkeys(shared_client.get("/info").json()["server_ids"], 0)
    for r in rows:
        by_server[r["chosen_dc"]] += 1
    assert s["jobs_by_server"] == by_server
    assert s["co2_avoided_kg"] == pytest.approx(s["co2_baseline_kg"] - s["total_co2_kg"], abs=2e-6)
    weighted = sum(s["score_weights"][k] * s["score_parts"][k] for k in s["score_weights"])
    assert s["sustainability_score"] == pytest.approx(100 * weighted, abs=0.1)


def test_agents_shapes_and_learning(shared_client: TestClient) -> None:
    info = shared_client.get("/info").json()
    v = Visitor(shared_client)
    before = v.ok("GET", "/agents")["agents"]
    assert list(before) == list(TIERS)
    for tier, agent in before.items():
        assert agent["servers"] == info["tier_pools"][tier]
        assert len(agent["weights"]) == len(agent["servers"])
        assert all(len(row) == len(agent["features"]) for row in agent["weights"])
        assert 0.0 <= agent["epsilon"] <= 0.15
    v.run(mixed_jobs(30))
    after = v.ok("GET", "/agents")["agents"]
    for tier in TIERS:
        assert after[tier]["steps"] == before[tier]["steps"] + 10
        assert after[tier]["weights"] != before[tier]["weights"]  # each session learns on its own copy
    assert Visitor(shared_client).ok("GET", "/agents")["agents"] == before  # a new session starts pretrained


# --- upload -----------------------------------------------------------------------------------------


def test_upload_queues_every_row(shared_client: TestClient) -> None:
    v = Visitor(shared_client)
    csv = "priority,latency,cpu,memory,estimated_kwh,co2_kg\ngreen,low,15,39,,\nPerformance,HIGH,90.5,80,1.5,0.2\nbalanced,,50,60,,\n"
    data = v.ok("POST", "/upload", files={"file": ("jobs.csv", csv.encode(), "text/csv")})
    assert data == {"job_ids": [1, 2, 3], "count": 3, "filename": "jobs.csv"}
    assert v.summary()["queued_jobs"] == 3
    rows = v.run(detail="compact")
    assert [(r["priority"], r["latency"], r["cpu"], r["memory"]) for r in rows] == [
        ("green", "low", 15.0, 39.0),
        ("performance", "high", 90.5, 80.0),
        ("balanced", None, 50.0, 60.0),
    ]


def test_upload_reference_sample_files(shared_client: TestClient) -> None:
    for name in ("demo_jobs.csv", "sample_100_jobs.csv"):
        v = Visitor(shared_client)
        data = (ROOT / "dataset_rl" / name).read_bytes()
        n_rows = sum(1 for line in data.decode("utf-8-sig").splitlines()[1:] if line.strip())
        assert v.ok("POST", "/upload", files={"file": (name, data)})["count"] == n_rows
        assert len(v.run(detail="compact")) == n_rows


def test_upload_header_aliases_bom_and_crlf(shared_client: TestClient) -> None:
    v = Visitor(shared_client)
    csv = "\ufeffPriority,CPU_UTIL,Mem\r\ngreen,1,2\r\n\r\nbalanced,3,4\r\n"
    assert v.ok("POST", "/upload", files={"file": ("a.csv", csv.encode())})["count"] == 2
    rows = v.run(detail="compact")
    assert [(r["cpu"], r["memory"]) for r in rows] == [(1.0, 2.0), (3.0, 4.0)]


def test_new_session_per_request_without_header(shared_client: TestClient) -> None:
    first = shared_client.post("/submit", json=job())
    second = shared_client.post("/submit", json=job())
    assert first.json() == second.json() == {"job_id": 1}  # each request got its own, empty session
    assert first.headers[SESSION_HEADER] != second.headers[SESSION_HEADER]
    reused = Visitor(shared_client, first.headers[SESSION_HEADER])
    assert reused.summary()["queued_jobs"] == 1


def test_unknown_session_id_is_created_empty(shared_client: TestClient) -> None:
    sid = new_sid()
    response = shared_client.get("/summary", headers={SESSION_HEADER: sid})
    assert response.headers[SESSION_HEADER] == sid
    assert response.json()["total_jobs"] == 0
    assert "X-Session-Notice" not in response.headers


def test_queue_lists_waiting_jobs_in_order_and_empties_on_run(shared_client) -> None:
    v = Visitor(shared_client)
    assert v.ok("GET", "/queue") == {
        "total": 0,
        "offset": 0,
        "limit": 100,
        "jobs": [],
        "deferred_total": 0,
        "deferred_offset": 0,
        "deferred_limit": 100,
        "deferred": [],
        "clock_utc": None,
    }
    v.ok("POST", "/submit_batch", json=[job("green", latency="low"), job("Performance", cpu=" 80 ", memory=50)])
    v.ok("POST", "/submit", json=job("balanced", cpu=1, memory=2))
    page = v.ok("GET", "/queue?offset=1&limit=5")
    assert page["total"] == 3
    assert page["jobs"] == [
        {"job_id": 2, "priority": "performance", "latency": None, "cpu": 80.0, "memory": 50.0, "urgency": "normal"},
        {"job_id": 3, "priority": "balanced", "latency": None, "cpu": 1.0, "memory": 2.0, "urgency": "normal"},
    ]
    v.run()
    assert v.ok("GET", "/queue")["total"] == 0


def test_queue_pages_across_batches_and_keeps_optional_fields(shared_client) -> None:
    v = Visitor(shared_client)
    v.ok("POST", "/submit_batch", json=[job("green", cpu=i, memory=i) for i in range(1, 4)])
    v.ok("POST", "/submit_batch", json=[job("balanced", cpu=9, memory=9, duration_min=30, intensity=0.5)])
    page = v.ok("GET", "/queue?offset=2&limit=2")
    assert page["total"] == 4
    assert page["jobs"] == [
        {"job_id": 3, "priority": "green", "latency": None, "cpu": 3.0, "memory": 3.0, "urgency": "normal"},
        {
            "job_id": 4,
            "priority": "balanced",
            "latency": None,
            "cpu": 9.0,
            "memory": 9.0,
            "urgency": "normal",
            "duration_min": 30.0,
            "intensity": 0.5,
        },
    ]
