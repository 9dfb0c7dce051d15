"""Fair shares: one client cannot push other visitors out, nor take every slot or the whole job cap.

Each test runs a real uvicorn (tests/web/gates.threaded_server) and reaches it from loopback addresses
only: 127.0.0.1 is one client, 127.0.0.2 another. Rate limits are given per hour, so every request of a
test falls in one window however slow the machine is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx

from tests.web.conftest import SESSION_HEADER, job, mixed_jobs, uvicorn_server
from tests.web.gates import CLIENT_TIMEOUT_S, Gate, threaded_server

FLOOD = 1_100
"""GET /session calls in the flood (the issue's probe: 1,100 in 2 s pushed every other session out)."""


@contextmanager
def client_at(base: str, address: str = "127.0.0.1") -> Iterator[httpx.Client]:
    """An HTTP client whose connections come from `address` (a loopback one): the server sees one client per address."""
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=base, transport=transport, trust_env=False, timeout=CLIENT_TIMEOUT_S) as client:
        yield client


def held_by(client: httpx.Client, sid: str) -> tuple[int, int]:
    summary = client.get("/summary", headers={SESSION_HEADER: sid})
    assert summary.status_code == 200 and "x-session-notice" not in summary.headers, summary.headers
    body = summary.json()
    return body["queued_jobs"], body["total_jobs"]


def refusal(response: httpx.Response, status: int, *words: str) -> str:
    assert response.status_code == status, (response.status_code, response.text[:300])
    detail = response.json()["detail"]
    text = detail if isinstance(detail, str) else " ".join(e["message"] for e in detail)  # one sentence, or entries
    assert all(w in text for w in words), text
    return text


# --- sessions ---------------------------------------------------------------------------------------


def test_a_flood_of_new_sessions_never_pushes_out_a_session_holding_jobs() -> None:
    # A server process of its own: a flood through the in-process server would mostly measure its thread hops.
    with uvicorn_server(TASKPILOT_MAX_SESSIONS="1000") as base, client_at(base) as client:
        assert client.post("/submit_batch", json=mixed_jobs(3), headers={SESSION_HEADER: "visitor"}).status_code == 200
        codes = Counter(client.get("/session").status_code for _ in range(FLOOD))
        assert codes == {200: FLOOD}  # empty sessions make room for each other
        assert held_by(client, "visitor") == (3, 0)


def test_at_the_cap_with_every_session_holding_jobs_a_new_session_is_refused() -> None:
    with uvicorn_server(TASKPILOT_MAX_SESSIONS="100") as base, client_at(base) as client:
        assert client.post("/submit", json=job(), headers={SESSION_HEADER: "visitor"}).status_code == 200
        answers = [client.post("/submit", json=job(), headers={SESSION_HEADER: f"flood-{i}"}) for i in range(150)]
        codes = Counter(a.status_code for a in answers)
        assert codes == {200: 99, 503: 51}
        refusal(answers[-1], 503, "TASKPILOT_MAX_SESSIONS", "hold jobs", "TASKPILOT_SESSION_TTL_S")
        assert held_by(client, "visitor") == (1, 0)
        assert held_by(client, "flood-0") == (1, 0)  # nobody's work was pushed out, the flood's own included


def test_new_sessions_are_rate_limited_per_address() -> None:
    with threaded_server(rate_limit_new_sessions="5/hour") as (base, app), client_at(base) as one, client_at(base, "127.0.0.2") as two:
        answers = [one.get("/session") for _ in range(8)]
        assert [a.status_code for a in answers] == [200] * 5 + [429] * 3
        refusal(answers[-1], 429, "TASKPILOT_RATE_LIMIT_NEW_SESSIONS", "X-Session-ID")
        assert int(answers[-1].headers["retry-after"]) >= 1
        # A session made by naming a new id counts too; an existing session goes on working.
        refusal(one.post("/submit", json=job(), headers={SESSION_HEADER: "made-up"}), 429, "new sessions")
        mine = answers[0].json()["session_id"]
        assert one.post("/submit", json=job(), headers={SESSION_HEADER: mine}).status_code == 200
        assert two.get("/session").status_code == 200  # another address has its own count
        assert len(app.state.sessions) == 6


# --- request rates ----------------------------------------------------------------------------------


def test_requests_are_rate_limited_per_session_and_per_address() -> None:
    limits = {"rate_limit_client": "12/hour", "rate_limit_session": "5/hour"}
    with threaded_server(**limits) as (base, _), client_at(base) as one, client_at(base, "127.0.0.2") as two:
        a = [one.get("/summary", headers={SESSION_HEADER: "a"}).status_code for _ in range(7)]
        assert a == [200] * 5 + [429] * 2  # the session's own rate
        b = [one.get("/summary", headers={SESSION_HEADER: "b"}) for _ in range(6)]
        # 7 + 5 requests of this address were counted (a refused one counts against the address, not the session)
        assert [r.status_code for r in b] == [200] * 5 + [429]
        detail = refusal(b[-1], 429, "TASKPILOT_RATE_LIMIT_CLIENT", "your address")
        assert "12 per 1 hour" in detail and int(b[-1].headers["retry-after"]) >= 1
        assert one.get("/health").status_code == 200  # load balancers are never refused
        assert one.get("/static/app.css").status_code == 200  # nor the page's files
        assert two.get("/summary", headers={SESSION_HEADER: "c"}).status_code == 200  # another address


# --- shares of the caps -----------------------------------------------------------------------------


def test_one_address_cannot_fill_the_total_job_cap() -> None:
    caps = {"max_total_jobs": 100, "max_client_jobs": 40, "max_session_jobs": 30, "max_batch_jobs": 100}
    with threaded_server(**caps) as (base, _), client_at(base) as one, client_at(base, "127.0.0.2") as two:
        assert one.post("/submit_batch", json=mixed_jobs(30), headers={SESSION_HEADER: "one-a"}).status_code == 200
        assert one.post("/run", json=mixed_jobs(10), headers={SESSION_HEADER: "one-b"}).status_code == 200
        for sid in ("one-b", "one-c"):  # its sessions together hold its share, whichever session asks
            refusal(one.post("/submit", json=job(), headers={SESSION_HEADER: sid}), 413, "TASKPILOT_MAX_CLIENT_JOBS", "hold 40 jobs")
        refusal(one.post("/upload", files={"file": ("a.csv", b"priority,cpu,memory\ngreen,1,1\n")}, headers={SESSION_HEADER: "one-c"}), 413)
        assert two.post("/submit_batch", json=mixed_jobs(30), headers={SESSION_HEADER: "two-a"}).status_code == 200
        assert one.post("/reset", headers={SESSION_HEADER: "one-a"}).status_code == 200  # freeing its own share
        assert one.post("/submit", json=job(), headers={SESSION_HEADER: "one-c"}).status_code == 200


@contextmanager
def held_simulations(app: Any) -> Iterator[Gate]:
    """Simulations of `app` stop at their first progress report until the gate opens (tests/web/test_simulate's gate)."""
    runner = app.state.simulations
    study, gate = runner._study, Gate()

    def held(config: Any, progress: Any, cancel: Any) -> Any:
        def report(done: int, total: int, label: str) -> None:
            progress(done, total, label)
            gate.pass_through()

        return study(config, progress=report, cancel=cancel)

    runner._study = held
    try:
        yield gate
    finally:
        gate.open()
        del runner._study


SIMULATION = {"workload": "poisson", "jobs": 50, "seed": 1, "policies": ["round_robin"]}


def test_one_address_cannot_take_every_simulation_slot() -> None:
    servers = threaded_server(max_sim_runs=2, max_client_sims=1)
    with servers as (base, app), held_simulations(app) as gate, client_at(base) as one, client_at(base, "127.0.0.2") as two:
        first = one.post("/simulate", json=SIMULATION)
        assert first.status_code == 202
        gate.wait_arrival("the first simulation")
        refusal(one.post("/simulate", json=SIMULATION), 429, "TASKPILOT_MAX_CLIENT_SIMS", "DELETE /simulate/")
        assert two.post("/simulate", json=SIMULATION).status_code == 202  # the other slot is another client's
        assert one.delete(first.headers["location"]).status_code == 200


def test_one_address_cannot_take_every_plan_worker(monkeypatch: Any) -> None:
    from scheduler.timeshift import requests as planner
    from web.schemas.plan import EXAMPLE

    gate, plan_request = Gate(), planner.plan_request

    def held(*args: Any, **kwargs: Any) -> Any:
        gate.pass_through()
        return plan_request(*args, **kwargs)

    monkeypatch.setattr(planner, "plan_request", held)
    server = threaded_server(max_client_plans=1, plan_workers=2)
    with server as (base, _), client_at(base) as one, client_at(base, "127.0.0.2") as two, ThreadPoolExecutor(2) as pool:
        first = pool.submit(one.post, "/plan", json=EXAMPLE)
        gate.wait_arrival("the first plan")
        refusal(one.post("/plan", json=EXAMPLE), 429, "TASKPILOT_MAX_CLIENT_PLANS")
        second = pool.submit(two.post, "/plan", json=EXAMPLE)  # another address: not refused, held like the first
        gate.open()
        assert first.result().status_code == 200 and second.result().status_code == 200
