"""JobBatch: jobs as arrays, the form the engine works on, and back to what a client sends.

Every field is a column (`# (n,)` below); a job that did not give an optional field holds that field's
"not given" value (NaN, -1, or the default), so a batch never holds per-job Python objects, except the
client's own ids, and those only when some job has one.
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from scheduler.core.client_fields import client_ids
from scheduler.core.states import LATENCIES, TIERS, URGENCIES


@dataclass(frozen=True)
class JobBatch:
    """Jobs as arrays, the form the engine works on."""

    tier: np.ndarray  # (n,) int8 index into TIERS
    latency: np.ndarray  # (n,) int8 index into LATENCIES, -1 when not given
    cpu: np.ndarray  # (n,) float64, 0..100
    memory: np.ndarray  # (n,) float64, 0..100
    estimated_kwh: np.ndarray  # (n,) float64, NaN when not given
    co2_kg: np.ndarray  # (n,) float64, NaN when not given
    duration_min: np.ndarray  # (n,) float64, NaN when not given
    size: np.ndarray  # (n,) float64, NaN when not given
    intensity: np.ndarray  # (n,) float64, NaN when not given
    power_w: np.ndarray  # (n,) float64, NaN when not given
    deadline_min: np.ndarray  # (n,) float64 minutes after submission, NaN when none (or given as a time)
    urgency: np.ndarray  # (n,) int8 index into URGENCIES, 1 (normal) when not given
    interruptible: np.ndarray  # (n,) bool
    deadline_at: np.ndarray  # (n,) datetime64[m] UTC when given as a time, else NaT
    # (n,) object: the client's own job_id (int or str), None where not given. The whole column is None
    # when no job has one, so batches without client ids carry no per-job Python objects.
    client_job_id: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.tier)

    def take(self, rows: slice | np.ndarray) -> "JobBatch":
        """The jobs at `rows` (a slice or an index array)."""
        ids = None if self.client_job_id is None else self.client_job_id[rows]
        return JobBatch(*(getattr(self, f)[rows] for f in FIELDS), client_job_id=ids)

    @classmethod
    def empty(cls) -> "JobBatch":
        return concat([])

    @classmethod
    def of(cls, tier: np.ndarray, latency: np.ndarray, cpu: np.ndarray, memory: np.ndarray, **optional: Any) -> "JobBatch":
        """A batch from its required columns; optional ones not given take their "not given" value
        (`client_job_id`: a sequence of ids or None per job; all None is stored as no column)."""
        n = len(tier)
        ids = client_ids(optional.pop("client_job_id", None))
        unknown = set(optional) - set(FIELDS)
        if unknown:
            raise TypeError(f"unknown JobBatch fields: {sorted(unknown)}")
        defaults = {f: np.full(n, np.nan) for f in OPTIONAL + ("deadline_min",)}
        defaults |= {
            "urgency": np.full(n, 1, np.int8),
            "interruptible": np.zeros(n, np.bool_),
            "deadline_at": np.full(n, np.datetime64("NaT"), "datetime64[m]"),
        }
        columns = {"tier": tier, "latency": latency, "cpu": cpu, "memory": memory, **defaults, **optional}
        return cls(*(np.asarray(columns[f]).astype(d, copy=False) for f, d in zip(FIELDS, DTYPES)), client_job_id=ids)


FIELDS = (
    "tier",
    "latency",
    "cpu",
    "memory",
    "estimated_kwh",
    "co2_kg",
    "duration_min",
    "size",
    "intensity",
    "power_w",
    "deadline_min",
    "urgency",
    "interruptible",
    "deadline_at",
)
DTYPES = (np.int8, np.int8, *(np.float64,) * 9, np.int8, np.bool_, "datetime64[m]")
OPTIONAL = FIELDS[4:10]
"""Optional numbers, NaN when absent."""


def concat(batches: list[JobBatch]) -> JobBatch:
    ids = None
    if any(b.client_job_id is not None for b in batches):  # else no object column at all
        ids = np.concatenate([np.full(len(b), None, object) if b.client_job_id is None else b.client_job_id for b in batches])
    return JobBatch(
        *(np.concatenate([getattr(b, f) for b in batches] or [np.empty(0, d)]).astype(d, copy=False) for f, d in zip(FIELDS, DTYPES)),
        client_job_id=ids,
    )


def to_dicts(batch: JobBatch) -> list[dict[str, Any]]:
    """The jobs as a client would send them: priority, latency, cpu, memory, urgency, and the optional
    fields given (a deadline as minutes after submission or as the UTC time it was given as). The client's
    own job_id, where given, is `client_job_id`, as in every answer (`job_id` is TaskPilot's)."""
    optional = [getattr(batch, f).tolist() for f in OPTIONAL]
    ids = [None] * len(batch) if batch.client_job_id is None else batch.client_job_id.tolist()
    return [
        {
            "priority": TIERS[t],
            "latency": None if lat < 0 else LATENCIES[lat],
            "cpu": c,
            "memory": m,
            "urgency": URGENCIES[u],
            **{f: v for f, v in zip(OPTIONAL, extra) if v == v},  # NaN (not given) is left out
            **({"deadline": d} if d is not None else {}),
            **({"interruptible": True} if stop else {}),
            **({"client_job_id": cid} if cid is not None else {}),
        }
        for t, lat, c, m, u, d, stop, cid, *extra in zip(
            batch.tier.tolist(),
            batch.latency.tolist(),
            batch.cpu.tolist(),
            batch.memory.tolist(),
            batch.urgency.tolist(),
            deadline_texts(batch),
            batch.interruptible.tolist(),
            ids,
            *optional,
        )
    ]


def deadline_texts(batch: JobBatch) -> list[float | str | None]:
    return [
        f"{at}Z" if not np.isnat(at) else None if math.isnan(minutes) else minutes  # as the client gave it
        for minutes, at in zip(batch.deadline_min.tolist(), batch.deadline_at)
    ]
