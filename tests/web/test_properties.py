"""Properties over HTTP: every decision stays inside its tier's pool, and a CSV round trip through
/upload keeps every job."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import LATENCIES, TIERS, Visitor, serve

BOUNDED = settings(max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))

percent = st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False)
percent_6dp = percent.map(lambda x: round(x, 6))  # /history shows cpu and memory to 6 decimals
spelled_tier = st.sampled_from(TIERS).flatmap(lambda t: st.sampled_from([t, t.upper(), t.title(), f" {t} "]))


def job_lists(numbers: st.SearchStrategy[float]) -> st.SearchStrategy[list[dict[str, Any]]]:
    one = st.fixed_dictionaries(
        {"priority": spelled_tier, "cpu": numbers, "memory": numbers}, optional={"latency": st.sampled_from(LATENCIES)}
    )
    return st.lists(one, min_size=1, max_size=40)


jobs = job_lists(percent)


@pytest.fixture(scope="module")
def app_client() -> Iterator[TestClient]:
    with serve() as client:
        yield client


@BOUNDED
@given(batch=jobs, queued=st.integers(min_value=0, max_value=40))
def test_every_decision_stays_in_its_tier_pool(app_client: TestClient, batch: list[dict[str, Any]], queued: int) -> None:
    pools = app_client.get("/info").json()["tier_pools"]
    v = Visitor(app_client)
    v.ok("POST", "/submit_batch", json=batch[:queued])
    rows = v.run(batch[queued:])
    assert len(rows) == len(batch)
    for sent, row in zip(batch, rows, strict=True):
        tier = sent["priority"].strip().lower()
        pool = pools[tier]
        assert row["priority"] == tier
        assert row["chosen_dc"] in pool
        assert list(row["rl_q_values"]) == pool
        for server, parts in row["score_breakdown"].items():
            assert parts["in_pool"] == (server in pool)
            if server not in pool:
                assert row["scores"][server] == 0.0
            assert 0.0 <= parts["final"] <= 1.0
        assert 0.0 <= row["reward"] <= 1.0


def to_csv(batch: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["priority", "latency", "cpu", "memory"])
    for j in batch:
        writer.writerow([j["priority"], j.get("latency", ""), repr(j["cpu"]), repr(j["memory"])])
    return out.getvalue().encode()


def round_trip(client: TestClient, batch: list[dict[str, Any]]) -> None:
    v = Visitor(client)
    uploaded = v.ok("POST", "/upload", files={"file": ("round-trip.csv", to_csv(batch), "text/csv")})
    assert uploaded["count"] == len(batch) and uploaded["job_ids"] == list(range(1, len(batch) + 1))
    v.run()
    shown = v.history()["jobs"]
    assert [(r["priority"], r["latency"], r["cpu"], r["memory"]) for r in shown] == [
        (j["priority"].strip().lower(), j.get("latency"), j["cpu"], j["memory"]) for j in batch
    ]


@BOUNDED
@given(batch=job_lists(percent_6dp))
def test_csv_round_trip_keeps_every_job(app_client: TestClient, batch: list[dict[str, Any]]) -> None:
    round_trip(app_client, batch)


def test_history_echoes_the_exact_cpu_and_memory(app_client: TestClient) -> None:
    round_trip(app_client, [{"priority": "green", "cpu": 12.3456789, "memory": 1.5234375}])
