"""No input makes the server answer 5xx, and every answer conforms to the schema it documents.

Schemathesis walks the OpenAPI document: every operation, with data that fits its schema (positive) and data
that breaks it (negative), through its examples, boundary-value (coverage) and random (fuzzing) phases, then
statefully, following the documented links (a /run's job ids to /jobs/{id} and /explain in the same session,
a simulation's id to GET and DELETE /simulate/{id}). Hypothesis also throws arbitrary JSON at the job
endpoints, arbitrary bytes at /upload and odd session ids at every session route.

The seed is fixed, so CI sees the same examples every run. Locally:
    TASKPILOT_FUZZ_SEED=random    a fresh seed (printed with any failure; pass it back to replay the run)
    TASKPILOT_FUZZ_SEED=12345     replay that seed
    TASKPILOT_FUZZ_EXAMPLES=500   more examples per operation and test (default 60: about 30 s here)
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from api import create_app

from .conftest import Visitor, make_settings, mixed_jobs, serve

SEED_ENV, EXAMPLES_ENV = "TASKPILOT_FUZZ_SEED", "TASKPILOT_FUZZ_EXAMPLES"
DEFAULT_SEED = 20_251_206


def fuzz_seed() -> int:
    raw = os.environ.get(SEED_ENV, "").strip()
    if raw == "random":
        return random.SystemRandom().randrange(2**32)
    return int(raw) if raw else DEFAULT_SEED


SEED = fuzz_seed()
EXAMPLES = int(os.environ.get(EXAMPLES_ENV, "60"))
STATEFUL_SCENARIOS = max(10, EXAMPLES)
"""Sequences the stateful phase runs, each up to STATEFUL_STEPS calls long."""
STATEFUL_STEPS = 8


@pytest.fixture(autouse=True)
def _say_the_seed() -> None:
    # Shown with a failing test's captured output (pytest prints it only then): what replays the run.
    print(f"fuzz: {SEED_ENV}={SEED} {EXAMPLES_ENV}={EXAMPLES} replays this run")


def seeded(test: Any) -> Any:
    """A Hypothesis test with this run's seed and example count; its examples are not stored between runs."""
    bounded = hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    return hypothesis.seed(SEED)(bounded(test))


# --- the OpenAPI document, every operation ----------------------------------------------------------


class FuzzedApp:
    """The app under test, made to answer the same request the same way every time, as Hypothesis needs
    when it replays a sequence (a different answer is reported as flakiness, not as a bug).

    Its simulations finish at once with a canned document once POST /simulate has checked them: the
    simulators are tested in test_simulate*.py, and real runs would make the answers depend on timing
    (202 or 429 as a slot frees, a run kept or dropped); enough slots, for the one client too, and kept
    results that every accepted run answers 202 and stays readable. Likewise /plan: a client's slot is given
    back once the answer has gone, which may be after the client has read it and sent its next /plan (a
    429 in one run of a sequence and not in its replay, which Hypothesis reports as FlakyStrategyDefinition).
    Schemathesis starts the app's lifespan on first use."""

    def __init__(self) -> None:
        limits = {"max_sim_runs": 64, "max_client_sims": 64, "max_client_plans": 64, "max_sim_results": 100_000, "max_plan_jobs": 200}
        self.app = create_app(make_settings(**limits))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":  # the lifespan has run: the runner exists
            self.app.state.simulations._study = lambda config, progress, cancel: {"canned": True}
        await self.app(scope, receive, send)

    def forget_sessions(self) -> None:
        """No session left from an earlier sequence: a replayed sequence that names the same session id
        must find it as new as the first time did."""
        store = getattr(self.app.state, "sessions", None)  # None before the lifespan has run: nothing to forget
        if store is None:
            return
        with store._lock:
            store._sessions.clear()
            store._expired.clear()


FUZZED_APP = FuzzedApp()
CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "suppress-health-check": ["all"],
    "generation": {"mode": "all", "max-examples": EXAMPLES, "database": "none"},
    "checks": {
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
        "status_code_conformance": {"enabled": True},
    },
})  # fmt: skip
schema = schemathesis.openapi.from_asgi("/openapi.json", FUZZED_APP, config=CONFIG)


@schema.parametrize()
def test_every_operation_answers_without_5xx_as_documented(case: schemathesis.Case) -> None:
    case.call_and_validate()


class Workflow(schema.as_state_machine()):  # type: ignore[misc]
    def setup(self) -> None:
        FUZZED_APP.forget_sessions()

    def before_call(self, case: schemathesis.Case) -> None:
        # A session started without a seed gets a fresh one, so its decisions (which jobs are deferred,
        # hence whether GET /queue links to one) would differ when Hypothesis replays the sequence.
        if case.operation.label == "GET /session":
            case.query = {"seed": 0, **(case.query or {})}


hypothesis.seed(SEED)(Workflow)


def test_linked_sequences_answer_without_5xx_as_documented() -> None:
    """Sequences that follow the documented links: the same session from call to call, real job and
    simulation ids instead of random ones (so /jobs/{id}, /explain and /simulate/{id} answer 200, not 404)."""
    Workflow.run(settings=hypothesis.settings(max_examples=STATEFUL_SCENARIOS, stateful_step_count=STATEFUL_STEPS, deadline=None,
                                              database=None, suppress_health_check=list(HealthCheck)))  # fmt: skip


# --- arbitrary JSON -------------------------------------------------------------------------------

JOB_KEYS = ("priority", "latency", "cpu", "memory", "cpu_util", "mem", "estimated_kwh", "co2_kg", "job_id")
scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20) | st.sampled_from(["green", "BALANCED", " performance", "low", "nan", "inf", "1e400", "-0", "50", "", "1_0"])
)  # fmt: skip
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12
)
# objects that look like jobs (known keys, odd values) reach deeper than random keys do
job_like = st.dictionaries(st.sampled_from(JOB_KEYS) | st.text(max_size=6), json_values, max_size=7)
bodies = json_values | job_like | st.lists(job_like, max_size=5)
JSON_PATHS = ["/submit", "/submit_batch", "/run", "/run?detail=compact", "/explain"]


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[TestClient]:
    """One app whose crashes come back as 500s, with a session that has scheduled jobs 1..6."""
    with serve(raise_server_exceptions=False) as client:
        Visitor(client, "fuzz").run(mixed_jobs(6))
        yield client


def assert_handled(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    body = response.json()  # always JSON
    if response.status_code >= 400:
        assert "detail" in body


@pytest.mark.parametrize("path", JSON_PATHS)
@seeded
@given(body=bodies)
def test_arbitrary_json_is_never_a_server_error(fuzzed: TestClient, path: str, body: Any) -> None:
    assert_handled(Visitor(fuzzed, "fuzz").post(path, content=json.dumps(body).encode(), headers={"content-type": "application/json"}))


@pytest.mark.parametrize("path", JSON_PATHS)
@seeded
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_are_never_a_server_error(fuzzed: TestClient, path: str, data: bytes) -> None:
    assert_handled(Visitor(fuzzed, "fuzz").post(path, content=data, headers={"content-type": "application/json"}))


csv_cells = st.sampled_from(
    ["green", "Balanced", "performance", "low", "HIGH", "", "nan", "50", "100.5", "-1", '"', '"a,b"', "\t", "ä"]
) | st.text(max_size=6)
csv_header = st.lists(
    st.sampled_from(["priority", "latency", "cpu", "memory", "cpu_util", "mem", "estimated_kwh", "co2_kg", "gpu", ""]), max_size=7
)
csv_texts = st.builds(
    lambda header, rows, eol: eol.join([",".join(header)] + [",".join(r) for r in rows]) + eol,
    csv_header, st.lists(st.lists(csv_cells, max_size=8), max_size=6), st.sampled_from(["\n", "\r\n", "\r"]),
)  # fmt: skip


@seeded
@given(data=st.binary(max_size=500) | csv_texts.map(str.encode))
def test_arbitrary_uploads_are_never_a_server_error(fuzzed: TestClient, data: bytes) -> None:
    assert_handled(Visitor(fuzzed, "fuzz").post("/upload", files={"file": ("fuzz.csv", data)}))


@seeded
@given(
    sid=st.text(max_size=70).filter(lambda s: s.isascii() and s.isprintable()),
    path=st.sampled_from(["/summary", "/history", "/agents", "/sustainability"]),
)
def test_arbitrary_session_ids_are_never_a_server_error(fuzzed: TestClient, sid: str, path: str) -> None:
    assert_handled(fuzzed.get(path, headers={"X-Session-ID": sid}))


@pytest.mark.parametrize("path", JSON_PATHS)
@pytest.mark.parametrize(
    "body", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000], ids=["deep-array", "deep-object"]
)
def test_deeply_nested_json_is_a_client_error(fuzzed: TestClient, path: str, body: bytes) -> None:
    response = Visitor(fuzzed, "fuzz").post(path, content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500
    assert_handled(response)
