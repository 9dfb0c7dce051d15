"""A real uvicorn server under concurrent load: a 100,000-job run does not stall the event loop, and
sessions running at the same time each get exactly their own results.

The server runs on a thread of the test process, so the tests can put gates in its sessions: a run held
inside the scheduler is in progress for as long as the test needs, on any machine, and requests meant
to overlap are made to overlap. Nothing here measures or waits for a duration."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from scheduler.service import decisions
from scheduler.service.sessions import Session
from web.routes import jobs as jobs_routes

from .conftest import SESSION_HEADER, TIERS, Visitor, decision_core, mixed_jobs, new_sid, serve
from .gates import CLIENT_TIMEOUT_S, GATE_TIMEOUT_S, Gate, WatchedLock, threaded_server

BIG_BATCH = 100_000


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, FastAPI]]:
    with threaded_server() as served:
        yield served


def post_in_thread(base: str, sid: str, path: str, body: bytes, out: dict[str, Any]) -> threading.Thread:
    def send() -> None:
        try:
            with httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT_S) as client:
                out["response"] = client.post(path, content=body, headers={SESSION_HEADER: sid, "content-type": "application/json"})
        except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in the thread
            out["error"] = exc

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def finish(*threads: threading.Thread) -> None:
    for thread in threads:
        thread.join(GATE_TIMEOUT_S)
        assert not thread.is_alive(), f"a request got no answer within {GATE_TIMEOUT_S:g} s"


def session_of(app: FastAPI, sid: str) -> Session:
    """The server's session for `sid`, created now (as its first request would) so a test can fit gates."""
    return app.state.sessions.get(sid)[0]


def gate_runs(session: Session, before_run: Callable[[], None]) -> None:
    """Every POST /run of `session` calls before_run() inside the session's lock, just before scheduling."""
    real_run = session.run

    def run(extra: Any = None) -> Any:
        before_run()
        return real_run(extra)

    session.run = run  # type: ignore[method-assign]


def on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def record_calls(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, calls: list[tuple[str, bool]]) -> None:
    """owner.name records (name, whether it was called on the event loop) before each call."""
    real = getattr(owner, name)

    def recorded(*args: Any, **kwargs: Any) -> Any:
        calls.append((name, on_event_loop()))
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, recorded)


def health_answers(base: str, times: int = 3) -> list[int]:
    """The statuses of `times` GET /health. A blocked event loop never answers: the generous timeout turns
    that hang into a failure that says so."""
    with httpx.Client(base_url=base, timeout=GATE_TIMEOUT_S) as client:
        try:
            return [client.get("/health").status_code for _ in range(times)]
        except httpx.TimeoutException:
            pytest.fail(f"/health got no answer within {GATE_TIMEOUT_S:g} s: the event loop is blocked")


def test_health_answers_while_a_100k_job_run_is_scheduled(server: tuple[str, FastAPI], monkeypatch: pytest.MonkeyPatch) -> None:
    """The run is held inside the scheduler (after its body was parsed, holding the session) while /health
    is asked; parsing, scheduling and encoding the answer all ran on worker threads, not the event loop."""
    base, app = server
    calls: list[tuple[str, bool]] = []
    record_calls(monkeypatch, jobs_routes, "parse_jobs", calls)
    record_calls(monkeypatch, decisions, "encode_compact", calls)
    sid, gate = new_sid(), Gate()

    def held() -> None:
        calls.append(("run", on_event_loop()))
        gate.pass_through()

    gate_runs(session_of(app, sid), held)
    out: dict[str, Any] = {}
    thread = post_in_thread(base, sid, "/run?detail=compact", json.dumps(mixed_jobs(BIG_BATCH)).encode(), out)
    try:
        gate.wait_arrival("the 100,000-job run")
        assert health_answers(base) == [200, 200, 200]
        assert thread.is_alive() and "response" not in out, "the run answered while held at the gate"
    finally:
        gate.open()
    finish(thread)
    assert "error" not in out, out.get("error")
    response = out["response"]
    assert response.status_code == 200 and response.headers[SESSION_HEADER] == sid
    rows = response.json()["scheduled_jobs"]
    assert len(rows) == BIG_BATCH
    assert rows[0]["job_id"] == 1 and rows[-1]["job_id"] == BIG_BATCH
    assert [r["priority"] for r in rows[:6]] == list(TIERS) * 2
    assert {name for name, _ in calls} == {"parse_jobs", "run", "encode_compact"}
    assert [c for c in calls if c[1]] == [], "work done on the event loop"
    with httpx.Client(base_url=base, timeout=GATE_TIMEOUT_S) as client:
        assert Visitor(client, sid).summary()["total_jobs"] == BIG_BATCH


def test_concurrent_sessions_each_get_their_own_results(server: tuple[str, FastAPI]) -> None:
    """Two sessions run at once on the server (each run waits inside the scheduler until the other has
    arrived too); each gets exactly the decisions a quiet, sequential run of the same session id makes in
    a fresh in-process app with the same settings."""
    base, app = server
    plans = {
        new_sid(): (mixed_jobs(2_000, salt=1), mixed_jobs(8_000, salt=2)),
        new_sid(): (mixed_jobs(500, salt=3), mixed_jobs(9_000, salt=4)),
    }
    both_running = threading.Barrier(len(plans), timeout=GATE_TIMEOUT_S)
    for sid in plans:
        gate_runs(session_of(app, sid), both_running.wait)
    outs: dict[str, dict[str, Any]] = {sid: {} for sid in plans}
    with httpx.Client(base_url=base, timeout=GATE_TIMEOUT_S) as client:
        for sid, (queued, _) in plans.items():
            Visitor(client, sid).ok("POST", "/submit_batch", json=queued)
    threads = [post_in_thread(base, sid, "/run?detail=compact", json.dumps(body).encode(), outs[sid]) for sid, (_, body) in plans.items()]
    finish(*threads)
    with serve() as control:
        for sid, (queued, body) in plans.items():
            out = outs[sid]
            assert "error" not in out, out.get("error")
            assert out["response"].status_code == 200, out["response"].text[:500]
            rows = out["response"].json()["scheduled_jobs"]
            n = len(queued) + len(body)
            assert [r["job_id"] for r in rows] == list(range(1, n + 1))
            quiet = Visitor(control, sid)
            quiet.ok("POST", "/submit_batch", json=queued)
            assert decision_core(rows) == decision_core(quiet.run(body, detail="compact"))
    with httpx.Client(base_url=base, timeout=GATE_TIMEOUT_S) as client:
        for sid, (queued, body) in plans.items():
            assert Visitor(client, sid).summary()["total_jobs"] == len(queued) + len(body)


def test_concurrent_requests_in_one_session_never_share_a_job_id(server: tuple[str, FastAPI]) -> None:
    """Six requests to one session, all in flight at once: the test holds the session until every one of
    them is waiting for it, then lets them through in whatever order the threads take."""
    base, app = server
    sid = new_sid()
    lock = WatchedLock()
    session_of(app, sid).lock = lock
    outs: list[dict[str, Any]] = [{} for _ in range(6)]
    with lock:
        threads = [
            post_in_thread(
                base, sid, "/submit_batch" if i % 2 else "/run?detail=compact", json.dumps(mixed_jobs(300, salt=i)).encode(), outs[i]
            )
            for i in range(6)
        ]
        lock.wait_for_waiters(6, "requests waiting for the session")
    finish(*threads)
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
    with httpx.Client(base_url=base, timeout=GATE_TIMEOUT_S) as client:
        s = Visitor(client, sid).summary()
    assert s["total_jobs"] == len(scheduled_ids)
    assert s["queued_jobs"] + s["total_jobs"] == 1800


def test_health_answers_while_a_request_waits_for_its_busy_session(server: tuple[str, FastAPI]) -> None:
    """A /submit to a session whose lock a long /run holds waits off the event loop: the run is held inside
    the scheduler, the submit is seen waiting for the session's lock, and /health still answers."""
    base, app = server
    sid, gate, lock = new_sid(), Gate(), WatchedLock()
    session = session_of(app, sid)
    session.lock = lock
    gate_runs(session, gate.pass_through)
    run_jobs = 1_000
    run_out: dict[str, Any] = {}
    submit_out: dict[str, Any] = {}
    run = post_in_thread(base, sid, "/run?detail=compact", json.dumps(mixed_jobs(run_jobs)).encode(), run_out)
    try:
        gate.wait_arrival("the run")  # it holds the session's lock from here until the gate opens
        submit = post_in_thread(base, sid, "/submit_batch", json.dumps(mixed_jobs(3)).encode(), submit_out)
        lock.wait_for_waiters(1, "the submit waiting for the busy session")
        assert health_answers(base) == [200, 200, 200]
        assert run.is_alive() and submit.is_alive(), "a request answered while the run was held"
    finally:
        gate.open()
    finish(run, submit)
    assert "error" not in run_out and "error" not in submit_out
    assert run_out["response"].status_code == submit_out["response"].status_code == 200
    assert len(run_out["response"].json()["scheduled_jobs"]) == run_jobs
    # The run took the session first, so the submit queued after it.
    assert submit_out["response"].json()["job_ids"] == [run_jobs + 1, run_jobs + 2, run_jobs + 3]
