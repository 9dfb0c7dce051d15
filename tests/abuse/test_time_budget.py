"""A plan runs on a worker of its own under a time budget: past TASKPILOT_PLAN_TIMEOUT_S it stops at its
next chunk and answers 503 saying so; a client that disconnects stops its plan; at most
TASKPILOT_PLAN_WORKERS plans run and TASKPILOT_MAX_PLAN_WAITING wait, one more is 429. A plan is held at a
gate (tests/web/gates.py) for as long as a test needs it in progress: nothing here waits for a duration."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from scheduler.timeshift import requests as plan_requests
from tests.web.gates import CLIENT_TIMEOUT_S, Gate, threaded_server
from web.work import CLIENT_GONE

from .conftest import jobs, refused, wait_until

SMALL = {
    "carbon": {"times": [f"2023-01-01T{h:02d}:00Z" for h in range(24)], "values": [300.0 - 10 * h for h in range(24)]},
    "jobs": jobs(3, submit="2023-01-01T00:00Z", deadline=12 * 60),
}


class HeldPlans:
    """Every plan passes `gate` before the planner's first chunk; records how each plan's planning ended."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.gate, self.ended = Gate(), []
        real = plan_requests.plan

        def held(*args: Any, **kwargs: Any) -> Any:
            self.gate.pass_through()
            try:
                result = real(*args, **kwargs)
            except Exception as exc:
                self.ended.append(type(exc).__name__)
                raise
            self.ended.append("done")
            return result

        monkeypatch.setattr(plan_requests, "plan", held)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldPlans]:
    plans = HeldPlans(monkeypatch)
    yield plans
    plans.gate.open()  # whatever happened, nothing stays held


def post_plan(base: str, body: dict[str, Any], out: dict[str, Any]) -> threading.Thread:
    def send() -> None:
        with httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT_S) as client:
            out["response"] = client.post("/plan", json=body)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_a_plan_past_its_time_budget_stops_and_says_why(held: HeldPlans) -> None:
    with threaded_server(plan_timeout_s=0.01) as (base, app):
        out: dict[str, Any] = {}
        thread = post_plan(base, SMALL, out)
        held.gate.wait_arrival("the plan")
        work = next(iter(app.state.plans.active))
        wait_until(lambda: time.monotonic() > work.deadline, "the plan's time budget spent")
        held.gate.open()
        thread.join(CLIENT_TIMEOUT_S)
        refused(out["response"], 503, "plan was stopped after its time budget of 0.01 s", "TASKPILOT_PLAN_TIMEOUT_S")
        assert held.ended == ["Stopped"]
        wait_until(lambda: not app.state.plans.active, "the plan worker to be free again")


def test_a_client_that_disconnects_stops_its_plan(held: HeldPlans) -> None:
    with threaded_server() as (base, app):
        host, port = base.removeprefix("http://").split(":")
        body = orjson.dumps(SMALL)
        with socket.create_connection((host, int(port))) as sock:
            head = f"POST /plan HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            sock.sendall(head.encode() + body)
            held.gate.wait_arrival("the plan")
        work = next(iter(app.state.plans.active))
        wait_until(lambda: work.reason == CLIENT_GONE, "the plan to be told its client has gone")
        held.gate.open()
        wait_until(lambda: not app.state.plans.active, "the plan worker to be free again")
        assert held.ended == ["Stopped"], "the plan went on after its client had gone"


def test_plans_beyond_the_workers_and_the_waiting_line_get_429(held: HeldPlans) -> None:
    """45 concurrent small plans filled the shared thread pool: now one worker, one waiting, the next refused."""
    with threaded_server(plan_workers=1, max_plan_waiting=1, max_client_plans=3) as (base, app):
        first, second = {}, {}
        threads = [post_plan(base, SMALL, first)]
        held.gate.wait_arrival("the first plan")
        threads.append(post_plan(base, SMALL, second))
        wait_until(lambda: app.state.plans._queued == 1, "the second plan waiting for the worker")
        with httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT_S) as client:
            third = client.post("/plan", json=SMALL)
        refused(third, 429, "TASKPILOT_PLAN_WORKERS", "TASKPILOT_MAX_PLAN_WAITING")
        assert third.headers["retry-after"].isdigit()
        held.gate.open()
        for thread in threads:
            thread.join(CLIENT_TIMEOUT_S)
        assert first["response"].status_code == second["response"].status_code == 200
        assert held.ended == ["done", "done"]
