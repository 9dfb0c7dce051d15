"""Sessions over HTTP: ids, expiry, the cap, isolation between visitors, reset, determinism."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import (
    NOTICE_HEADER,
    ROOT,
    SESSION_HEADER,
    Visitor,
    assert_error,
    clean_env,
    decision_core,
    job,
    messages,
    mixed_jobs,
    serve,
)

# Every endpoint that works in a session, with a request that succeeds on a session holding jobs 1..3.
SESSION_ENDPOINTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/submit", {"json": {"priority": "green", "cpu": 1, "memory": 1}}),
    ("POST", "/submit_batch", {"json": [{"priority": "green", "cpu": 1, "memory": 1}]}),
    ("POST", "/upload", {"files": {"file": ("a.csv", b"priority,cpu,memory\ngreen,1,1\n")}}),
    ("POST", "/run", {"json": []}),
    ("POST", "/run?detail=compact", {}),
    ("POST", "/reset", {}),
    ("POST", "/explain", {"json": {"job_id": 1}}),
    ("GET", "/summary", {}),
    ("GET", "/agents", {}),
    ("GET", "/history", {}),
    ("GET", "/jobs/1", {}),
    ("GET", "/jobs/1/explanation", {}),
    ("GET", "/sustainability", {}),
]


def endpoint_params(endpoints: list[tuple[str, str, dict[str, Any]]]) -> list[Any]:
    return [pytest.param(m, p, kw, id=f"{m} {p}") for m, p, kw in endpoints]


@pytest.mark.parametrize(("method", "path", "kwargs"), endpoint_params(SESSION_ENDPOINTS))
def test_session_header_echoed_on_every_session_endpoint(shared_client: TestClient, method: str, path: str, kwargs: dict[str, Any]) -> None:
    v = Visitor(shared_client)
    v.run(mixed_jobs(3))
    response = v.request(method, path, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers[SESSION_HEADER] == v.sid


# /jobs/1 and /explain need a scheduled job; /sustainability only reads a session it is given; a multipart
# /upload must carry X-Session-ID (web.middleware.JsonOnly: no other site's form can send it).
NEW_SESSION_ENDPOINTS = [e for e in SESSION_ENDPOINTS if not e[1].startswith(("/jobs/", "/explain", "/sustainability", "/upload"))]


@pytest.mark.parametrize(("method", "path", "kwargs"), endpoint_params(NEW_SESSION_ENDPOINTS))
def test_request_without_header_gets_a_new_session(shared_client: TestClient, method: str, path: str, kwargs: dict[str, Any]) -> None:
    response = shared_client.request(method, path, **kwargs)
    assert response.status_code == 200, response.text
    sid = response.headers[SESSION_HEADER]
    assert 1 <= len(sid) <= 64
    assert Visitor(shared_client, sid).summary()["total_jobs"] in (0, 1)  # the id names a live session


# Errors raised after the session was resolved: the client still needs to learn its session id.
ERRORS_IN_A_SESSION = [
    ("POST", "/submit_batch", {"json": [{"priority": "nope", "cpu": 1, "memory": 1}]}, 422),
    ("POST", "/run", {"json": [{"cpu": 1}]}, 422),
    ("GET", "/jobs/99", {}, 404),
    ("POST", "/explain", {"json": {"job_id": 99}}, 404),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"), ERRORS_IN_A_SESSION, ids=["422-batch", "422-run", "404-job", "404-explain"]
)
def test_session_header_on_error_responses(shared_client: TestClient, method: str, path: str, kwargs: dict[str, Any], status: int) -> None:
    response = shared_client.request(method, path, **kwargs)  # no header: a new session was made for it
    assert response.status_code == status
    assert SESSION_HEADER in response.headers


@pytest.mark.parametrize(
    "sid",
    ["", "a" * 65, "has space", "dot.ted", "slash/ed", "semi;colon", "quote'", "tab\t", b"\xc3\xa4", "ï".encode("latin-1")],
    ids=["empty", "65-chars", "space", "dot", "slash", "semicolon", "quote", "tab", "utf8", "latin1"],
)
def test_bad_session_ids_get_400(shared_client: TestClient, sid: str | bytes) -> None:
    detail = assert_error(shared_client.get("/summary", headers={SESSION_HEADER: sid}), 400)
    assert "X-Session-ID" in messages(detail)
    assert_error(shared_client.post("/run", headers={SESSION_HEADER: sid}, json=[job()]), 400)


@pytest.mark.parametrize("sid", ["a", "A" * 64, "abc_DEF-123", "-", "_"], ids=["one-char", "64-chars", "mixed", "dash", "underscore"])
def test_good_session_ids(shared_client: TestClient, sid: str) -> None:
    response = shared_client.post("/submit", headers={SESSION_HEADER: sid}, json=job())
    assert response.status_code == 200 and response.headers[SESSION_HEADER] == sid


class FakeClock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clocked() -> Any:
    """A fresh app (TTL 60 s, 3 sessions at most) whose session store runs on a fake clock."""
    with serve(session_ttl_s=60.0, max_sessions=3) as client:
        clock = FakeClock()
        client.app.state.sessions._clock = clock
        yield client, clock


def test_idle_session_expires_with_a_notice(clocked: Any) -> None:
    client, clock = clocked
    v = Visitor(client, "keep")
    v.run(mixed_jobs(3))
    clock.now += 59.0
    assert v.summary()["total_jobs"] == 3  # still alive, and this use renews it
    clock.now += 59.0
    assert v.summary()["total_jobs"] == 3
    clock.now += 61.0
    response = v.get("/summary")
    assert response.headers[SESSION_HEADER] == "keep"
    assert "expired" in response.headers[NOTICE_HEADER]
    assert response.json()["total_jobs"] == 0
    again = v.get("/summary")  # the notice is given once
    assert NOTICE_HEADER not in again.headers


def test_expiry_notice_on_run(clocked: Any) -> None:
    client, clock = clocked
    v = Visitor(client, "runner")
    v.run(mixed_jobs(3))
    clock.now += 61.0
    response = v.post("/run", json=[job()])
    assert response.json()["scheduled_jobs"][0]["job_id"] == 1  # a new, empty session
    assert NOTICE_HEADER in response.headers


def test_cap_evicts_the_least_recently_used_session_without_jobs(clocked: Any) -> None:
    client, clock = clocked
    a, b, c, d, e = (Visitor(client, name) for name in "abcde")
    a.ok("POST", "/submit", json=job())  # a holds a job and is the least recently used of all
    for v in (b, c):
        clock.now += 1
        v.summary()
    c.summary()  # b is now the least recently used of the empty ones
    d.summary()  # the fourth session makes room: b goes, a (older, but holding a job) stays
    assert len(client.app.state.sessions) == 3
    assert a.summary()["queued_jobs"] == 1
    evicted = b.get("/summary")  # a new empty b, for which c, the other empty one, made room
    assert NOTICE_HEADER in evicted.headers and evicted.json()["queued_jobs"] == 0
    for v in (b, d):
        v.ok("POST", "/submit", json=job())
    detail = assert_error(e.get("/summary"), 503)  # every session holds jobs: none is pushed out
    assert "TASKPILOT_MAX_SESSIONS" in messages(detail) and "hold jobs" in messages(detail)
    assert [v.summary()["queued_jobs"] for v in (a, b, d)] == [1, 1, 1]


def test_cap_with_every_session_busy_answers_503(clocked: Any) -> None:
    client, _ = clocked
    for name in "xyz":
        Visitor(client, name).summary()
    sessions = list(client.app.state.sessions._sessions.values())
    for s in sessions:
        s.lock.acquire()  # as if each were running a batch
    try:
        detail = assert_error(client.get("/summary"), 503)
        assert "busy" in messages(detail)
    finally:
        for s in sessions:
            s.lock.release()
    assert client.get("/summary").status_code == 200


def test_expired_sessions_do_not_count_against_the_cap(clocked: Any) -> None:
    client, clock = clocked
    for name in "xyz":
        Visitor(client, name).ok("POST", "/submit", json=job())
    clock.now += 61.0
    fresh = Visitor(client, "fresh")
    fresh.summary()
    assert len(client.app.state.sessions) == 1


# --- isolation ------------------------------------------------------------------------------------


def b_script(client: TestClient, between: Callable[[], None]) -> list[Any]:
    """Session B's requests and everything B can see, with `between()` (another session's activity)
    run between each of B's steps."""
    b = Visitor(client, "visitor-b")
    seen: list[Any] = []

    def look() -> None:
        seen.extend([b.history(), b.summary(), b.ok("GET", "/agents"), b.ok("GET", "/sustainability")])

    between()
    b.ok("POST", "/submit_batch", json=mixed_jobs(20, salt=1))
    between()
    seen.append(b.run(mixed_jobs(10, salt=2)))
    between()
    look()
    seen.append(b.run(mixed_jobs(40, salt=3), detail="compact"))
    between()
    look()
    seen.append(b.ok("POST", "/explain", json={"job_id": 7}))
    return seen


def test_sessions_are_isolated() -> None:
    with serve() as control:
        expected = b_script(control, lambda: None)
    with serve() as busy:
        a = Visitor(busy, "visitor-a")
        steps = iter(
            [
                lambda: a.run(mixed_jobs(50, salt=9)),
                lambda: a.ok("POST", "/reset"),
                lambda: (a.ok("POST", "/submit_batch", json=mixed_jobs(30)), a.run(mixed_jobs(30, salt=4), detail="compact")),
                lambda: (
                    a.run(mixed_jobs(5)),
                    a.ok("POST", "/reset"),
                    a.ok("POST", "/upload", files={"file": ("x.csv", b"priority,cpu,memory\ngreen,1,1\n")}),
                ),
            ]
        )
        actual = b_script(busy, lambda: next(steps)())
        assert a.summary()["queued_jobs"] == 1  # A's own state went its own way
    assert actual == expected


def test_reset_reproduces_decisions_and_pretrained_weights(client: TestClient) -> None:
    v = Visitor(client, "replay")
    pretrained = v.ok("GET", "/agents")

    def script() -> list[Any]:
        v.ok("POST", "/submit_batch", json=mixed_jobs(150, salt=1))
        first = v.run(mixed_jobs(50, salt=2))
        second = v.run(mixed_jobs(100, salt=3), detail="compact")
        return [decision_core(first), decision_core(second), first, second, v.history(), v.summary()]

    before = script()
    assert any(r["explored"] for r in before[3])  # the exploration stream was used, so it must be rewound too
    assert v.ok("GET", "/agents") != pretrained
    v.ok("POST", "/reset")
    assert v.ok("GET", "/agents") == pretrained
    after = script()
    assert after == before


# --- determinism across processes -----------------------------------------------------------------

DETERMINISM_SCRIPT = textwrap.dedent(
    """
    import hashlib, json, sys
    from fastapi.testclient import TestClient
    from api import create_app
    from scheduler.settings import Settings

    seed = int(sys.argv[1])
    tiers, lat = ("green", "balanced", "performance"), ("low", "medium", "high")
    jobs = [{"priority": tiers[i % 3], "latency": lat[(i * 7) % 3], "cpu": (i * 37) % 101, "memory": (i * 53) % 101} for i in range(200)]
    with TestClient(create_app(Settings(seed=seed, groq_api_key=None, log_level="WARNING"))) as client:
        headers = {"X-Session-ID": "determinism-check"}
        client.post("/submit_batch", headers=headers, json=jobs[:120]).raise_for_status()
        run = client.post("/run", headers=headers, json=jobs[120:])
        run.raise_for_status()
        fields = ("job_id", "chosen_dc", "rl_q_values", "reward", "rl_reward", "scores")
        decisions = [tuple(d[f] for f in fields) for d in run.json()["scheduled_jobs"]]
        assert len(decisions) == 200
        print(hashlib.sha256(json.dumps(decisions, sort_keys=True).encode()).hexdigest())
    """
)


def test_same_seed_same_decisions_across_processes() -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", DETERMINISM_SCRIPT, str(seed)],
            cwd=ROOT,
            env=clean_env(PYTHONHASHSEED=str(hash_seed)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed, hash_seed in ((7, 1), (7, 2), (8, 1))
    ]
    hashes = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        hashes.append(out.strip().splitlines()[-1])
    assert hashes[0] == hashes[1]
    assert hashes[2] != hashes[0]
