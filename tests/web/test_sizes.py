"""web.sizes.in_slices: a large body is validated SLICE_JOBS jobs per call (one call holds the interpreter
lock throughout), and answers exactly what one call on the whole body answers: the same jobs, or the same
first problems in job order with the same count of the rest."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest

from scheduler.core.errors import JobValidationError
from scheduler.core.job_batch import to_dicts
from scheduler.core.jobs import parse_jobs
from web.sizes import SLICE_JOBS, in_slices

GOOD = {"priority": "green", "cpu": 1, "memory": 1}
BAD = {"priority": "x", "cpu": -1, "memory": 1}  # two problems


def answer(parse: Any, body: bytes, max_errors: int) -> Any:
    try:
        batch = parse(body, max_errors)
    except JobValidationError as exc:
        return exc.errors, exc.omitted, exc.exact
    return to_dicts(batch)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("max_errors", [1, 7, 100])
def test_slices_answer_as_the_whole_body_does(seed: int, max_errors: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2 * SLICE_JOBS + 1, 4 * SLICE_JOBS))
    jobs: list[Any] = [GOOD] * n
    for i in rng.choice(n, size=int(rng.choice([1, 3, 150])), replace=False):
        jobs[int(i)] = BAD
    body = orjson.dumps(jobs)
    assert answer(in_slices(parse_jobs), body, max_errors) == answer(parse_jobs, body, max_errors)


@pytest.mark.parametrize("bad_at", [None, 0, SLICE_JOBS + 1])
def test_each_call_gets_one_slice(bad_at: int | None) -> None:
    """With or without problems: a body with one bad job was validated whole, in one call."""
    seen: list[int] = []
    sliced = in_slices(lambda body, max_errors: (seen.append(len(orjson.loads(body))), parse_jobs(body, max_errors))[1])
    jobs = [GOOD] * (2 * SLICE_JOBS + 3)
    if bad_at is not None:
        jobs[bad_at] = BAD
    result = answer(sliced, orjson.dumps(jobs), 100)
    assert seen == [SLICE_JOBS, SLICE_JOBS, 3]
    if bad_at is not None:
        assert [e["index"] for e in result[0]] == [bad_at, bad_at]


def test_a_body_that_is_not_json_is_named_where_it_breaks() -> None:
    body = orjson.dumps([GOOD] * (2 * SLICE_JOBS)).replace(b"}", b"},,", 1)
    assert answer(in_slices(parse_jobs), body, 100) == answer(parse_jobs, body, 100)
