"""No input makes the server answer 500: schemathesis walks the OpenAPI schema, and Hypothesis throws
arbitrary JSON at the job endpoints and arbitrary bytes at /upload. Both are bounded and derandomized so
CI sees the same examples every run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from api import create_app

from .conftest import Visitor, make_settings, mixed_jobs, serve

BOUNDED = settings(max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))

# Schemathesis starts (and keeps) this app's lifespan itself on first use.
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(make_settings()))


@schema.parametrize()
@BOUNDED
def test_schema_operations_never_answer_5xx(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error])


# --- arbitrary JSON -------------------------------------------------------------------------------

JOB_KEYS = ("priority", "latency", "cpu", "memory", "cpu_util", "mem", "estimated_kwh", "co2_kg", "job_id")
scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20) | st.sampled_from(["green", "BALANCED", " performance", "low", "nan", "inf", "1e400", "-0", "50", "", "1_0"])
)  # fmt: skip
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
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
@BOUNDED
@given(body=bodies)
def test_arbitrary_json_is_never_a_server_error(fuzzed: TestClient, path: str, body: Any) -> None:
    assert_handled(Visitor(fuzzed, "fuzz").post(path, content=json.dumps(body).encode(), headers={"content-type": "application/json"}))


@pytest.mark.parametrize("path", JSON_PATHS)
@BOUNDED
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_are_never_a_server_error(fuzzed: TestClient, path: str, data: bytes) -> None:
    assert_handled(Visitor(fuzzed, "fuzz").post(path, content=data, headers={"content-type": "application/json"}))


csv_cells = st.sampled_from(["green", "Balanced", "performance", "low", "HIGH", "", "nan", "50", "100.5", "-1", '"', '"a,b"', "\t", "ä"]) | st.text(max_size=6)
csv_header = st.lists(st.sampled_from(["priority", "latency", "cpu", "memory", "cpu_util", "mem", "estimated_kwh", "co2_kg", "gpu", ""]), max_size=7)
csv_texts = st.builds(
    lambda header, rows, eol: eol.join([",".join(header)] + [",".join(r) for r in rows]) + eol,
    csv_header, st.lists(st.lists(csv_cells, max_size=8), max_size=6), st.sampled_from(["\n", "\r\n", "\r"]),
)  # fmt: skip


@BOUNDED
@given(data=st.binary(max_size=500) | csv_texts.map(str.encode))
def test_arbitrary_uploads_are_never_a_server_error(fuzzed: TestClient, data: bytes) -> None:
    assert_handled(Visitor(fuzzed, "fuzz").post("/upload", files={"file": ("fuzz.csv", data)}))


@BOUNDED
@given(sid=st.text(max_size=70).filter(lambda s: s.isascii() and s.isprintable()), path=st.sampled_from(["/summary", "/history", "/agents", "/sustainability"]))
def test_arbitrary_session_ids_are_never_a_server_error(fuzzed: TestClient, sid: str, path: str) -> None:
    assert_handled(fuzzed.get(path, headers={"X-Session-ID": sid}))


@pytest.mark.parametrize("path", JSON_PATHS)
@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000], ids=["deep-array", "deep-object"])
def test_deeply_nested_json_is_a_client_error(fuzzed: TestClient, path: str, body: bytes) -> None:
    response = Visitor(fuzzed, "fuzz").post(path, content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500
    assert_handled(response)
