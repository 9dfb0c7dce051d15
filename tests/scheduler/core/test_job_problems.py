"""Bounded job errors (scheduler/core/job_problems.py, jobs.parse_jobs): with a cap of N, the problems listed
are exactly the first N of all of them in job order, whichever check found each, and the rest are counted;
and the raw body's fast path, which skips unknown keys and finds them by counting `":`, decides every body
as the decoded jobs' slow path does."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from scheduler.core.errors import JobValidationError
from scheduler.core.job_csv import parse_csv_rows
from scheduler.core.jobs import parse_jobs

GOOD = {"priority": "green", "cpu": 10, "memory": 20}
FLAWS: list[dict[str, Any]] = [
    {"cpu": -1},  # pydantic
    {"priority": "x", "memory": 101},  # pydantic, two fields
    {"cpu": True},  # the boolean check
    {"memory": 5, "mem": 6},  # the alias check
    {"nope": 1},  # an unknown key
    {"nope": 1, "also": 2, "cpu": 500},  # unknown keys and a bad field
    {"deadline": "2023-01-01T06:00Z", "job_id": 1.5},  # a bad client id
]


def batch(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    """n jobs, a third of them with one of FLAWS."""
    return [{**GOOD, **FLAWS[rng.integers(len(FLAWS))]} if rng.random() < 0.35 else dict(GOOD) for _ in range(n)]


def problems(jobs: list[dict[str, Any]] | bytes, cap: int) -> tuple[list[tuple[Any, ...]], int]:
    try:
        parse_jobs(jobs if isinstance(jobs, bytes) else [dict(j) for j in jobs], cap)
    except JobValidationError as exc:
        return [(e["index"], e["field"], e["message"]) for e in exc.errors], exc.omitted
    return [], 0


@pytest.mark.parametrize("seed", range(8))
def test_the_first_n_of_all_problems_in_job_order_and_the_rest_counted(seed: int) -> None:
    rng = np.random.default_rng(seed)
    jobs = batch(rng, int(rng.integers(20, 400)))
    everything, none_left = problems(jobs, 10**6)
    assert none_left == 0 and [p[0] for p in everything] == sorted(p[0] for p in everything)
    for cap in (1, 3, 17, 100):
        listed, omitted = problems(jobs, cap)
        assert listed == everything[:cap], cap
        assert omitted == max(0, len(everything) - cap)
        raw_listed, raw_omitted = problems(json.dumps(jobs).encode(), cap)  # the raw body's path: the same answer
        assert (raw_listed, raw_omitted) == (listed, omitted)


def test_chunks_keep_the_order_when_a_later_check_finds_an_earlier_job() -> None:
    """Booleans are found before pydantic runs, for every job; the cap still takes the first jobs' problems."""
    jobs = [{**GOOD, "cpu": True} if i >= 5 else {**GOOD, "memory": -1} for i in range(40)]
    listed, omitted = problems(jobs, 8)
    assert [i for i, _, _ in listed] == list(range(8)) and omitted == 32


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        (b'[{"priority":"green","cpu":1,"memory":1}]', True),
        (b'[{"priority" : "green", "cpu" :1, "memory"\n:1}]', True),  # keys spaced from their colons
        (b'[{"priority":"green","cpu":1,"memory":1,"job_id":"a\\":b"}]', True),  # `":` inside a string
        (b'[{"priority":"green","cpu":1,"memory":1,"job_id":"x", "zz" :1}]', False),  # a spaced unknown key
        (b'[{"priority":"green","cpu":1,"memory":1,"zz":1}]', False),
        (b'[{"priority":"green","cpu":1,"memory":1,"cpu":2}]', True),  # a repeated key: the last one, as JSON readers do
        (b'[{"priority":"green","cpu_util":1,"cpu":1,"memory":1}]', True),  # an alias beside its field, agreeing
        (b'[{"priority":"green","cpu_util":2,"cpu":1,"memory":1}]', False),
    ],
    ids=["plain", "spaced", "quote-colon-in-string", "spaced-unknown", "unknown", "repeated", "alias-agrees", "alias-disagrees"],
)
def test_the_raw_fast_path_misses_no_unknown_key(text: bytes, valid: bool) -> None:
    assert (problems(text, 100)[0] == []) is valid
    assert (problems(json.loads(text), 100)[0] == []) is valid


def test_a_file_lists_its_first_problems_in_row_order_across_chunks() -> None:
    """Rows are validated 10,000 at a time: a cell-count problem in a later chunk does not jump a bad field."""
    lines = ["green,1,1"] * 25_000
    lines[3] = "green,1"  # row 5: cells
    lines[12_000] = "green,-1,1"  # row 12,002: a field, in the second chunk
    lines[24_000] = "green,1"  # row 24,002: cells, third chunk
    data = ("priority,cpu,memory\n" + "\n".join(lines) + "\n").encode()
    with pytest.raises(JobValidationError) as err:
        parse_csv_rows(data, 2)
    assert [(e["row"], e["field"]) for e in err.value.errors] == [(5, None), (12_002, "cpu")] and err.value.omitted == 1
