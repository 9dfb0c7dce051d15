"""/health answers on the event loop while every other resource is saturated at once: both plan workers
busy and their waiting line full, the shared thread pool full of LLM refinements against a provider that
accepts and never answers, and a 100,000-job run in progress. It took 10-12 s with the pool busy with
plans, 4-5 s during a burst of refinements. Each piece of work is held at a gate or on a provider that
never answers, for as long as the test needs; the test asserts that /health answers, never how fast
(its p99 is the `health` benchmark's)."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import httpx
import pytest

from tests.web.conftest import SESSION_HEADER, mixed_jobs
from tests.web.gates import CLIENT_TIMEOUT_S, GATE_TIMEOUT_S, Gate, threaded_server
from tests.xai.groq_standin import GroqStandIn

from .conftest import wait_until
from .test_time_budget import SMALL, HeldPlans

SHARED_POOL = 40
"""Threads of the shared pool (anyio's default, which FastAPI's sync routes use)."""
LLM_SLOTS = 4
"""TASKPILOT_LLM_CONCURRENCY's default."""


def send(base: str, method: str, path: str, out: list[Any], **kwargs: Any) -> threading.Thread:
    def go() -> None:
        with httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT_S) as client:
            out.append(client.request(method, path, **kwargs).status_code)

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread


def test_health_answers_while_plans_llm_calls_and_a_big_run_hold_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    plans, run_gate, refining = HeldPlans(monkeypatch), Gate(), []
    overrides = {"plan_workers": 2, "max_plan_waiting": 2, "max_client_plans": 10, "groq_api_key": "test-key", "llm_timeout_s": 600.0}
    with GroqStandIn(mode="slow") as llm, threaded_server(llm_base_url=llm.base_url, **overrides) as (base, app):
        threads: list[threading.Thread] = []
        out: list[Any] = []
        try:
            with httpx.Client(base_url=base, timeout=GATE_TIMEOUT_S) as client:
                explained = client.post("/run", json=mixed_jobs(3)).headers[SESSION_HEADER]
                running = client.get("/session").json()["session_id"]
            # A 100,000-job run, held inside the scheduler with its session's lock and a shared thread.
            session = app.state.sessions.get(running)[0]
            real_run = session.run
            session.run = lambda extra=None: (run_gate.pass_through(), real_run(extra))[1]
            body = json.dumps(mixed_jobs(100_000)).encode()
            headers = {SESSION_HEADER: running, "content-type": "application/json"}
            threads.append(send(base, "POST", "/run?detail=compact", out, content=body, headers=headers))
            run_gate.wait_arrival("the 100,000-job run")
            # Both plan workers held, and the waiting line full.
            threads += [send(base, "POST", "/plan", out, json=SMALL) for _ in range(4)]
            wait_until(lambda: len(app.state.plans.active) == 2 and app.state.plans._queued == 2, "two plans running and two waiting")
            # Every LLM slot waiting on a provider that never answers.
            real_refine = app.state.explainer.refine
            monkeypatch.setattr(app.state.explainer, "refine", lambda facts: (refining.append(1), real_refine(facts))[1])
            threads += [
                send(base, "GET", "/jobs/1/explanation?llm=true", out, headers={SESSION_HEADER: explained}) for _ in range(LLM_SLOTS)
            ]
            wait_until(lambda: app.state.llm.busy == LLM_SLOTS and len(refining) == LLM_SLOTS, "every LLM slot taken")

            with httpx.Client(base_url=base, timeout=GATE_TIMEOUT_S) as client:
                try:
                    answers = [client.get("/health").status_code for _ in range(5)]
                except httpx.TimeoutException:
                    pytest.fail(f"/health got no answer within {GATE_TIMEOUT_S:g} s while the server was saturated")
            assert answers == [200] * 5
            assert len(out) == 0, "some saturating request answered before /health was asked"
        finally:
            plans.gate.open()
            run_gate.open()
            llm.stopping.set()  # the slow provider answers nothing and lets its callers go
    for thread in threads:
        thread.join(CLIENT_TIMEOUT_S)
    assert len(out) == 1 + 4 + LLM_SLOTS and set(out) == {200}, sorted(set(out))


def test_a_provider_that_never_answers_holds_only_the_llm_slots() -> None:
    """Forty refinements against a provider that never answers: the first LLM_SLOTS wait for it, the rest get
    the template at once, saying why, and /run, which needs a thread of the shared pool, still answers."""
    answers: list[httpx.Response] = []
    with (
        GroqStandIn(mode="slow") as llm,
        threaded_server(llm_base_url=llm.base_url, groq_api_key="test-key", llm_timeout_s=600.0) as (base, app),
    ):
        threads: list[threading.Thread] = []
        try:
            with httpx.Client(base_url=base, timeout=GATE_TIMEOUT_S) as client:
                session = client.post("/run", json=mixed_jobs(3)).headers[SESSION_HEADER]

                def explain() -> None:
                    with httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT_S) as own:
                        answers.append(own.get("/jobs/1/explanation?llm=true", headers={SESSION_HEADER: session}))

                threads = [threading.Thread(target=explain, daemon=True) for _ in range(SHARED_POOL)]
                for thread in threads:
                    thread.start()
                wait_until(lambda: len(answers) == SHARED_POOL - LLM_SLOTS, "every refinement past the slots answered")
                assert app.state.llm.busy == LLM_SLOTS
                for answer in answers:
                    assert answer.status_code == 200 and answer.json()["source"] == "template", answer.text
                    assert "TASKPILOT_LLM_CONCURRENCY" in answer.json()["note"], answer.text
                try:
                    ran = client.post("/run", json=mixed_jobs(5), headers={SESSION_HEADER: session})
                except httpx.TimeoutException:
                    pytest.fail("/run got no answer while LLM refinements waited on a provider that never answers")
                assert ran.status_code == 200, ran.text
        finally:
            llm.stopping.set()
        for thread in threads:
            thread.join(CLIENT_TIMEOUT_S)
    assert len(answers) == SHARED_POOL and {a.status_code for a in answers} == {200}


def on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_a_submit_is_decoded_and_validated_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """/submit decoded and validated its body on the event loop: one job of 1.3 M unknown keys (16 MB) held
    it, and every /health, for over a second."""
    from web.routes import jobs as jobs_routes

    seen: list[bool] = []
    real = jobs_routes.parse_job
    monkeypatch.setattr(jobs_routes, "parse_job", lambda *a, **k: (seen.append(on_loop()), real(*a, **k))[1])
    with threaded_server() as (base, _), httpx.Client(base_url=base, timeout=GATE_TIMEOUT_S) as client:
        bad = {"priority": "green", "cpu": 1, "memory": 1, **{f"k{i}": i for i in range(10_000)}}
        assert client.post("/submit", json={"priority": "green", "cpu": 1, "memory": 1}).status_code == 200
        assert client.post("/submit", json=bad).status_code == 422
    assert seen == [False, False], "a job was validated on the event loop"


def test_a_body_of_escapes_is_searched_for_lone_surrogates_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Searching, decoding and walking a 16 MB body of escapes for a lone surrogate took 3.5 s on the event loop."""
    from web import body_guard

    seen: list[bool] = []
    real = body_guard._first_surrogate
    monkeypatch.setattr(body_guard, "_first_surrogate", lambda *a, **k: (seen.append(on_loop()), real(*a, **k))[1])
    body = b'[{"priority": "green", "cpu": 1, "memory": 1, "job_id": "\\u0041\\ud800"}]'
    with threaded_server() as (base, _), httpx.Client(base_url=base, timeout=GATE_TIMEOUT_S) as client:
        response = client.post("/submit_batch", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert seen == [False], "the body was searched on the event loop"


def test_an_explain_body_is_decoded_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """/explain's body was decoded by FastAPI on the event loop: about 150 ms of it for 16 MB."""
    from web.routes import info

    seen: list[bool] = []
    real = info.decode_object
    monkeypatch.setattr(info, "decode_object", lambda raw: (seen.append(on_loop()), real(raw))[1])
    with threaded_server() as (base, _), httpx.Client(base_url=base, timeout=GATE_TIMEOUT_S) as client:
        session = client.post("/run", json=mixed_jobs(2)).headers[SESSION_HEADER]
        assert client.post("/explain", json={"job_id": 1}, headers={SESSION_HEADER: session}).status_code == 200
        headers = {SESSION_HEADER: session, "content-type": "application/json"}
        assert client.post("/explain", content=b"[1]", headers=headers).status_code == 422
    assert seen == [False, False], "an /explain body was decoded on the event loop"


def test_no_route_lets_fastapi_decode_its_body_on_the_event_loop() -> None:
    """FastAPI decodes a declared body (a model or `Body()` parameter) on the event loop before the route runs:
    150 ms for 16 MB. Every route reads its bytes and decodes them on a thread instead."""
    from api import create_app

    declared = [f"{sorted(r.methods)} {r.path}" for r in create_app().routes if getattr(r, "body_field", None) is not None]
    assert declared == [], f"routes whose body FastAPI decodes on the event loop: {declared}"
