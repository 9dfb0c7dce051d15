"""Shared fixtures of the HTTP tests: apps built from explicit Settings, a live uvicorn server, job helpers.

Every app is built with `create_app(make_settings(...))` inside `with TestClient(app)`, so the lifespan
runs. Settings are spelled out in full, so a TASKPILOT_* or GROQ_API_KEY variable in the environment
cannot change what a test sees (and no test ever calls the real LLM).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api import create_app
from bench import live
from scheduler.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_DIR = ROOT / "tests" / "contract"
FAST_EPISODES = 50
"""Pretraining episodes for tests where the defaults do not matter (start-up stays well under a second)."""
TIERS = ("green", "balanced", "performance")
LATENCIES = ("low", "medium", "high")
SESSION_HEADER = "X-Session-ID"
NOTICE_HEADER = "X-Session-Notice"
LIVE_MAX_BODY_BYTES = 8 * 1024 * 1024
"""Body cap of the live server: a 100,000-job batch (about 5 MB) fits, a 9 MB stream does not."""


def make_settings(**overrides: Any) -> Settings:
    """Test settings: every field that matters given explicitly, then `overrides`."""
    base: dict[str, Any] = {
        "seed": 42,
        "data_dir": ROOT / "dataset_rl",
        "session_ttl_s": 3600.0,
        "max_sessions": 1000,
        "max_body_bytes": 16 * 1024 * 1024,
        "max_batch_jobs": 100_000,
        "max_session_jobs": 200_000,
        "pretrain_episodes": FAST_EPISODES,
        "groq_api_key": None,
        "llm_base_url": None,
        "log_level": "WARNING",
        "database": ":memory:",  # workflows: a throw-away store per app, never a file in the repository
        # Request rates depend on how fast a test runs: off here, on in tests/abuse, which sets its own.
        "rate_limit_client": "",
        "rate_limit_session": "",
        "rate_limit_new_sessions": "",
        # The job, simulation and plan caps the tests were written against, larger than the defaults (which
        # fit a 512 MB instance): every test client is one address, and some hold or run more than its share.
        "max_total_jobs": 2_000_000,
        "max_client_jobs": 2_000_000,
        "max_sim_jobs": 200_000,
        "plan_workers": 2,
    }
    return Settings(**{**base, **overrides})


@contextmanager
def serve(raise_server_exceptions: bool = True, **overrides: Any) -> Iterator[TestClient]:
    """A TestClient on a fresh app whose lifespan has run. With raise_server_exceptions=False a crash
    comes back as the 500 a real client would see."""
    with TestClient(create_app(make_settings(**overrides)), raise_server_exceptions=raise_server_exceptions) as client:
        yield client


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A fresh app for one test."""
    with serve() as c:
        yield c


@pytest.fixture(scope="module")
def shared_client() -> Iterator[TestClient]:
    """One app for a whole module, for tests that each work in their own new session."""
    with serve() as c:
        yield c


def new_sid() -> str:
    return "t-" + uuid.uuid4().hex


def hdr(sid: str) -> dict[str, str]:
    return {SESSION_HEADER: sid}


class Visitor:
    """A client bound to one session id: every request carries its X-Session-ID."""

    def __init__(self, client: TestClient | httpx.Client, sid: str | None = None):
        self.client = client
        self.sid = sid or new_sid()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}), SESSION_HEADER: self.sid}
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON of a request that must answer 200."""
        response = self.request(method, path, **kwargs)
        assert response.status_code == 200, (method, path, response.status_code, response.text[:500])
        return response.json()

    def run(self, jobs: list[dict[str, Any]] | None = None, detail: str = "full") -> list[dict[str, Any]]:
        """POST /run and return its scheduled_jobs."""
        path = "/run" if detail == "full" else f"/run?detail={detail}"
        kwargs = {} if jobs is None else {"json": jobs}
        return self.ok("POST", path, **kwargs)["scheduled_jobs"]

    def summary(self) -> dict[str, Any]:
        return self.ok("GET", "/summary")

    def history(self, offset: int = 0, limit: int = 1000) -> dict[str, Any]:
        return self.ok("GET", f"/history?offset={offset}&limit={limit}")


def job(priority: str = "green", cpu: Any = 15, memory: Any = 39, **extra: Any) -> dict[str, Any]:
    return {"priority": priority, "cpu": cpu, "memory": memory, **extra}


def mixed_jobs(n: int, salt: int = 0) -> list[dict[str, Any]]:
    """n deterministic jobs cycling through the tiers and latencies, with varied cpu and memory."""
    return [
        {"priority": TIERS[(i + salt) % 3], "latency": LATENCIES[(i * 7 + salt) % 3],
         "cpu": (i * 37 + salt) % 101, "memory": (i * 53 + 11 * salt) % 101}
        for i in range(n)
    ]  # fmt: skip


def decision_core(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What a decision is made of: id, server, the agent's Q-values and both rewards."""
    return [(r["job_id"], r["chosen_dc"], r.get("rl_q_values"), r["reward"], r["rl_reward"]) for r in rows]


def assert_error(response: httpx.Response, status: int) -> Any:
    """The response has `status`, is JSON and carries `detail` in the one error shape (web/errors.py: a list
    of entries with loc, field, message, msg, type); returns the detail."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert "detail" in body, body
    assert isinstance(body["detail"], list) and body["detail"], body
    for entry in body["detail"]:
        assert {"loc", "field", "message", "msg", "type"} <= set(entry) and entry["msg"] == entry["message"], entry
    return body["detail"]


def messages(detail: list[dict[str, Any]]) -> str:
    """An error answer's messages and hints, as one text to look for words in."""
    return " | ".join(f"{e['message']} {e.get('hint') or ''}" for e in detail)


def load_contract(name: str) -> dict[str, Any]:
    return json.loads((CONTRACT_DIR / name).read_text())


# --- a real uvicorn server --------------------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without TaskPilot's own variables and the Groq key, plus `extra`."""
    return live.clean_env(extra)


LIVE_TEST_SETTINGS = {"TASKPILOT_SEED": "42", "TASKPILOT_PRETRAIN_EPISODES": str(FAST_EPISODES), "TASKPILOT_LOG_LEVEL": "WARNING",
                      "TASKPILOT_DATABASE": ":memory:", "TASKPILOT_RATE_LIMIT_CLIENT": "", "TASKPILOT_RATE_LIMIT_SESSION": "",
                      "TASKPILOT_RATE_LIMIT_NEW_SESSIONS": "", "TASKPILOT_MAX_SESSION_JOBS": "200000",
                      "TASKPILOT_MAX_TOTAL_JOBS": "2000000", "TASKPILOT_MAX_CLIENT_JOBS": "2000000", "TASKPILOT_MAX_SIM_JOBS": "200000",
                      "TASKPILOT_PLAN_WORKERS": "2"}  # fmt: skip
"""The live test servers' settings, as TASKPILOT_* variables: make_settings()'s seed, short pretraining, caps and no rate
limits; the rest are defaults."""


@contextmanager
def uvicorn_server(**env: str) -> Iterator[str]:
    """A real uvicorn (bench.live: 127.0.0.1, a free port, ready on /health, always stopped) with test
    settings plus `env` (TASKPILOT_* strings); yields its base URL."""
    with live.live_server({**LIVE_TEST_SETTINGS, **env}) as server:
        yield server.base_url


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """One real server for the whole test session; yields its base URL."""
    with uvicorn_server(TASKPILOT_MAX_BODY_BYTES=str(LIVE_MAX_BODY_BYTES)) as base:
        yield base
