"""The job batch every benchmark sends.

A batch of n jobs is drawn from `np.random.default_rng(SEED)` (PCG64 seeded through a SeedSequence):
priority uniform over green / balanced / performance, latency uniform over low / medium / high, cpu and
memory uniform integers 0..100 (inclusive). The generator is fresh for each batch, so the n-job batch is
identical in every run and on every machine.
"""

import csv
import io
from functools import lru_cache
from typing import Any

import numpy as np
import orjson

from scheduler.core.states import LATENCIES, TIERS

SEED = 20_240_601
DESCRIPTION = (
    "numpy default_rng(SEED), fresh per batch: priority uniform over green/balanced/performance, "
    "latency uniform over low/medium/high, cpu and memory uniform integers 0..100 inclusive"
)


def make_jobs(n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """n job objects as a client sends them to /run."""
    priority = rng.integers(0, len(TIERS), n)  # (n,)
    latency = rng.integers(0, len(LATENCIES), n)  # (n,)
    cpu = rng.integers(0, 101, n)  # (n,)
    memory = rng.integers(0, 101, n)  # (n,)
    return [
        {"priority": TIERS[p], "latency": LATENCIES[lat], "cpu": int(c), "memory": int(m)}
        for p, lat, c, m in zip(priority, latency, cpu, memory)
    ]


@lru_cache(maxsize=8)
def job_body(n: int) -> bytes:
    """The n-job batch as a JSON array, encoded once and reused by every run of that size."""
    return orjson.dumps(make_jobs(n, np.random.default_rng(SEED)))


def jobs_csv(n: int) -> bytes:
    """The same n-job batch as the CSV a person would upload on the dashboard."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["priority", "latency", "cpu", "memory"])
    for job in make_jobs(n, np.random.default_rng(SEED)):
        writer.writerow([job["priority"], job["latency"], job["cpu"], job["memory"]])
    return buf.getvalue().encode()
