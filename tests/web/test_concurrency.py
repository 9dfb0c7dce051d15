"""A real uvicorn server under concurrent load: a 100,000-job run does not stall the event loop, and
sessions running at the same time each get exactly their own results."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx

from .conftest import (
    SESSION_HEADER,
    TIERS,
    Visitor,
    decision_core,
    mixed_jobs,
    new_sid,
    serve,
)

BIG_BATCH = 100_000
MAX_HEALTH_LATENCY_S = 2.0


def post_in_thread(base: str, sid: str, path: str, body: bytes, out: dict[str, Any]) -> threading.Thread:
    def send() -> None:
        try:
            with httpx.Client(base_url=base, timeout=180) as client:
                out["response"] = client.post(path, content=body, headers={SESSION_HEADER: sid, "content-type": "application/json"})
        except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in the thread
            out["error"] = exc

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_health_answers_while_a_100k_job_run_is_scheduled(live_server: str) -> None:
    body = json.dumps(mixed_jobs(BIG_BATCH)).encode()
    sid = new_sid()
    out: dict[str, Any] = {}
    thread = post_in_thread(live_server, sid, "/run?detail=compact", body, out)
    statuses, latencies = [], []
    deadline = time.monotonic() + 180
    with httpx.Client(base_url=live_server, timeout=30) as client:
        while thread.is_alive() and time.monotonic() < deadline:
            start = time.perf_counter()
            response = client.get("/health")
            latencies.append(time.perf_counter() - start)
            statuses.append(response.status_code)
            time.sleep(0.02)
    thread.join(timeout=5)
    assert "error" not in out, out.get("error")
    assert len(statuses) >= 5, "the run finished before /health was polled; the check proved nothing"
    assert set(statuses) == {200}
    assert max(latencies) < MAX_HEALTH_LATENCY_S, f"slowest /health: {max(latencies):.2f} s over {len(latencies)} polls"
    response = out["response"]
    assert response.status_code == 200 and response.headers[SESSION_HEADER] == sid
    rows = response.json()["scheduled_jobs"]
    assert len(rows) == BIG_BATCH
    assert rows[0]["job_id"] == 1 and rows[-1]["job_id"] == BIG_BATCH
    assert [r["priority"] for r in rows[:6]] == list(TIERS) * 2
    with httpx.Client(base_url=live_server, timeout=30) as client:
        assert Visitor(client, sid).summary()["total_jobs"] == BIG_BATCH


def test_concurrent_sessions_each_get_their_own_results(live_server: str) -> None:
    """Two sessions run at once on the server; each gets exactly the decisions a quiet, sequential
    run of the same session id makes in a fresh in-process app with the same settings."""
    plans = {new_sid(): (mixed_jobs(2_000, salt=1), mixed_jobs(8_000, salt=2)), new_sid(): (mixed_jobs(500, salt=3), mixed_jobs(9_000, salt=4))}
    outs: dict[str, dict[str, Any]] = {sid: {} for sid in plans}
    with httpx.Client(base_url=live_server, timeout=60) as client:
        for sid, (queued, _) in plans.items():
            Visitor(client, sid).ok("POST", "/submit_batch", json=queued)
    threads = [post_in_thread(live_server, sid, "/run?detail=compact", json.dumps(body).encode(), outs[sid]) for sid, (_, body) in plans.items()]
    for thread in threads:
        thread.join(timeout=120)
    with serve() as control:
        for sid, (queued, body) in plans.items():
            out = outs[sid]
            assert "error" not in out, out.get("error")
            assert out["response"].status_code == 200
            rows = out["response"].json()["scheduled_jobs"]
            n = len(queued) + len(body)
            assert [r["job_id"] for r in rows] == list(range(1, n + 1))
            quiet = Visitor(control, sid)
            quiet.ok("POST", "/submit_batch", json=queued)
            assert decision_core(rows) == decision_core(quiet.run(body, detail="compact"))
    with httpx.Client(base_url=live_server, timeout=60) as client:
        for sid, (queued, body) in plans.items():
            assert Visitor(client, sid).summary()["total_jobs"] == len(queued) + len(body)


def test_concurrent_requests_in_one_session_never_share_a_job_id(live_server: str) -> None:
    sid = new_sid()
    outs: list[dict[str, Any]] = [{} for _ in range(6)]
    threads = [post_in_thread(live_server, sid, "/submit_batch" if i % 2 else "/run?detail=compact", json.dumps(mixed_jobs(300, salt=i)).encode(), outs[i]) for i in range(6)]
    for thread in threads:
        thread.join(timeout=60)
    queued_ids: list[int] = []  # ids given by /submit_batch
    scheduled_ids: list[int] = []  # jobs each /run scheduled: its body and whatever was queued
    for i, out in enumerate(outs):
        assert "error" not in out, out.get("error")
        assert out["response"].status_code == 200
        data = out["response"].json()
        if i % 2:
            queued_ids += data["job_ids"]
        else:
            scheduled_ids += [r["job_id"] for r in data["scheduled_jobs"]]
    assert len(set(queued_ids)) == len(queued_ids) == 900
    assert len(set(scheduled_ids)) == len(scheduled_ids)  # no job scheduled twice
    assert set(queued_ids) | set(scheduled_ids) == set(range(1, 1801))
    with httpx.Client(base_url=live_server, timeout=60) as client:
        s = Visitor(client, sid).summary()
    assert s["total_jobs"] == len(scheduled_ids)
    assert s["queued_jobs"] + s["total_jobs"] == 1800


def test_health_answers_while_a_request_waits_for_its_busy_session(live_server: str) -> None:
    """A /submit to a session whose lock a long /run holds waits off the event loop."""
    sid = new_sid()
    run_out: dict[str, Any] = {}
    run = post_in_thread(live_server, sid, "/run?detail=compact", json.dumps(mixed_jobs(BIG_BATCH)).encode(), run_out)
    time.sleep(0.5)  # the run is being parsed or scheduled now
    submit_out: dict[str, Any] = {}
    submit = post_in_thread(live_server, sid, "/submit_batch", json.dumps(mixed_jobs(3)).encode(), submit_out)
    latencies = []
    with httpx.Client(base_url=live_server, timeout=30) as client:
        while run.is_alive():
            start = time.perf_counter()
            assert client.get("/health").status_code == 200
            latencies.append(time.perf_counter() - start)
            time.sleep(0.02)
    run.join(timeout=5)
    submit.join(timeout=30)
    assert "error" not in run_out and "error" not in submit_out
    assert len(latencies) >= 3 and max(latencies) < MAX_HEALTH_LATENCY_S
    assert run_out["response"].status_code == submit_out["response"].status_code == 200
    # The submit queued either before the run took the session (and ran with it) or after it.
    assert submit_out["response"].json()["job_ids"] in ([1, 2, 3], [BIG_BATCH + 1, BIG_BATCH + 2, BIG_BATCH + 3])
