"""Helpers of the abuse tests: an answer's words, and waiting for a condition (never for a duration)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from tests.web.gates import GATE_TIMEOUT_S, wait_until  # noqa: F401 - the abuse tests' wait (from .conftest)


def detail_text(response: httpx.Response) -> str:
    """The answer's `detail` as one text, whatever its shape (a sentence, or a list of entries)."""
    detail = response.json().get("detail")
    if isinstance(detail, list):
        return " | ".join(str(e.get("message") or e.get("msg") or e) if isinstance(e, dict) else str(e) for e in detail)
    return str(detail)


def refused(response: httpx.Response, status: int, *words: str) -> str:
    """The answer is `status` and its detail says every one of `words`; returns the detail."""
    assert response.status_code == status, (response.status_code, response.text[:800])
    text = detail_text(response)
    missing = [w for w in words if w not in text]
    assert not missing, f"{missing} not in: {text[:800]}"
    return text


def jobs(n: int, submit: str = "2021-01-01T00:00Z", deadline: Any = None, **extra: Any) -> list[dict[str, Any]]:
    return [{"job_id": f"j{i}", "submit_time": submit, "duration_min": 60, "deadline": deadline, **extra} for i in range(n)]


def json_body(value: Any) -> bytes:
    return orjson.dumps(value)
