"""Nothing outlives SIGTERM's grace period: a plan still computing when the server is told to stop is
stopped at its next chunk once uvicorn's graceful shutdown (--timeout-graceful-shutdown, in every start
command) has run out, and the process exits. Before, SIGTERM waited for the plan, which here would
compute for many minutes (the test's hang guard fails long before)."""

from __future__ import annotations

import os
import signal
import threading

import httpx

from bench.live import live_server

from .conftest import jobs, refused, wait_until

LONG = {
    "zone": "ES",
    "start": "2021-01-01T00:00Z",
    "end": "2023-12-31T00:00Z",
    "jobs": jobs(10_000, deadline="2023-12-30T00:00Z"),
    "forecasts": ["perfect", "noisy", "persistence"],
}
"""About 3 G slot evaluations: tens of minutes of one core (its work and time limits are lifted)."""
UNBOUNDED = {"TASKPILOT_MAX_PLAN_WORK": str(10**12), "TASKPILOT_PLAN_TIMEOUT_S": "3600", "TASKPILOT_MAX_PLAN_PIECES": str(10**9)}


def test_sigterm_stops_a_plan_in_progress_and_the_process_exits() -> None:
    settings = {**UNBOUNDED, "TASKPILOT_LOG_LEVEL": "DEBUG", "TASKPILOT_PRETRAIN_EPISODES": "10", "TASKPILOT_DATABASE": ":memory:"}
    with live_server(settings) as server:
        with server.client() as client:
            sid = client.get("/session").json()["session_id"]

        answers: list[httpx.Response] = []

        def post() -> None:
            with server.client() as c:
                answers.append(c.post("/plan", json=LONG, headers={"X-Session-ID": sid}))

        thread = threading.Thread(target=post, daemon=True)
        thread.start()
        wait_until(lambda: "plan started on a worker" in server.log(), "the plan to start")
        os.kill(server.pid, signal.SIGTERM)
        wait_until(server.exited, "the server process to exit after SIGTERM")
        thread.join()
        log = server.log()
    refused(answers[0], 503, "the server is shutting down")
    assert "plan stopped: the server is shutting down" in log, log[-2000:]
    assert "Traceback" not in log, log[-3000:]
