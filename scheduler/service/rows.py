"""What every encoding of a decision shares: the per-server tables of record rows (recomputed from their
series positions), the JSON tables of names, the client's own job id, and when and how grid jobs run.
"""

from dataclasses import dataclass

import numpy as np
import orjson

from scheduler.core import states
from scheduler.core.energy import MODES
from scheduler.core.scoring import ServerMetrics, pool_scores
from scheduler.core.states import LATENCIES, STATUSES, TIERS, URGENCIES
from scheduler.core.timing import Timing
from scheduler.placement import given
from scheduler.placement.engine import BatchRecord, World, step_at
from scheduler.placement.scenario import StepMetrics
from scheduler.service.jsonrows import JsonRows

LATENCY_JSON = [orjson.dumps(x) for x in (*LATENCIES, None)]  # code -1 -> null
LATENCY_NAMES: tuple[str | None, ...] = (*LATENCIES, None)
TIER_JSON = [orjson.dumps(t) for t in TIERS]
BOOL_JSON = [b"false", b"true"]
STATE_TEXT = ("load_type", "week_status", "day_of_week")
_MODE_JSON = [orjson.dumps(m.name) for m in MODES]
_BAND_JSON = [orjson.dumps(b) for b in states.BANDS]
_URGENCY_JSON = [orjson.dumps(u) for u in URGENCIES]
_STATUS_JSON = [orjson.dumps(x) for x in STATUSES]


@dataclass(frozen=True)
class RowDetail:
    """Per-server tables of record rows start..stop-1, recomputed from their series positions."""

    metrics: ServerMetrics  # (rows, n_servers) each
    parts: np.ndarray  # (rows, 5, n_servers): perf, cost, co2, lat scores and final; 0 outside the pool
    step: StepMetrics


def row_detail(world: World, record: BatchRecord, start: int, stop: int) -> RowDetail:
    fleet = world.fleet
    step = step_at(record, start, stop)
    metrics = step.metrics
    parts = np.zeros((stop - start, 5, fleet.n_servers))
    tiers = record.jobs.tier[start:stop]
    for tier, pool in enumerate(fleet.pools):
        rows = np.flatnonzero(tiers == tier)
        if rows.size:
            scores = pool_scores(fleet, tier, metrics.take(rows), None if step.latency is None else step.latency[rows])
            parts[np.ix_(rows, range(4), pool)] = scores.parts
            parts[np.ix_(rows, [4], pool)] = scores.final[:, None, :]
    return RowDetail(metrics, parts, step)


def client_job_ids(out: JsonRows, record: BatchRecord, sl: slice) -> None:
    """`"client_job_id"`, the job_id the client sent with the job, beside ours; only on jobs that came
    with one, so other decisions keep the reference's shape exactly."""
    ids = record.jobs.client_job_id
    if ids is None:
        return
    fragments = [b"" if v is None else b',"client_job_id":' + orjson.dumps(v) for v in ids[sl].tolist()]
    if any(fragments):
        out.fragments(fragments)


_SOURCE_JSON = [b'"model"', b'"given"']


def given_fields(out: JsonRows, record: BatchRecord, sl: slice) -> None:
    """`"energy_source"` and `"co2_source"` ("given" | "model": whose figures the decision's energy and CO2
    are; scheduler/placement/given.py says when a grid session uses a job's own), and, on the jobs that
    sent them, `"given_energy_kwh"` and `"given_co2_kg"` as sent: a figure a client gave is always answered."""
    jobs = record.jobs.take(sl)
    grid = record.scenario.name != "reference"  # reference sessions keep the seed's figures
    out.lit(',"energy_source":')
    out.pick(_SOURCE_JSON, given.energy_given(jobs) & grid)
    out.lit(',"co2_source":')
    out.pick(_SOURCE_JSON, given.co2_given(jobs) & grid)
    for key, values in (("given_energy_kwh", jobs.estimated_kwh), ("given_co2_kg", jobs.co2_kg)):
        sent = ~np.isnan(values)
        if sent.any():
            out.fragments([b',"' + key.encode() + b'":' + orjson.dumps(v) if ok else b"" for v, ok in zip(values.tolist(), sent.tolist())])


def status_codes(timing: Timing, clock_h: float | None) -> np.ndarray:
    """Index into STATUSES: a deferred job is "deferred" until the session's clock reaches its start,
    then "released"; `clock_h` None gives the status as decided."""
    deferred = timing.action == states.DEFER
    if clock_h is None:
        return deferred.astype(np.int8)
    return np.where(deferred, np.where(timing.start_h > clock_h, 1, 2), 0).astype(np.int8)


def timing_fields(out: JsonRows, record: BatchRecord, start: int, stop: int, clock_h: float | None, with_runs: bool) -> None:
    """When and how each job runs (grid records): urgency, status, mode, band, start, finish, deadline,
    expected CO2 saved against running now in FAST mode, and (full detail) the pieces of interrupted jobs."""
    timing, sl = record.timing.take(slice(start, stop)), slice(start, stop)
    labels = record.scenario.clock_labels
    out.lit(',"urgency":')
    out.pick(_URGENCY_JSON, record.jobs.urgency[sl])
    out.lit(',"status":')
    out.pick(_STATUS_JSON, status_codes(timing, clock_h))
    out.lit(',"mode":')
    out.pick(_MODE_JSON, timing.mode)
    out.lit(',"carbon_band":')
    out.pick(_BAND_JSON, timing.band)
    start_at, finish_at = labels(timing.start_h).tolist(), labels(timing.finish_h).tolist()
    out.lit(',"start_at":')
    out.text(start_at)
    out.lit(',"finish_at":')
    out.text(finish_at)
    out.lit(',"deadline_at":')
    has = ~np.isnan(timing.deadline_h)
    out.fragments([orjson.dumps(x) if ok else b"null" for x, ok in zip(labels(np.nan_to_num(timing.deadline_h)).tolist(), has.tolist())])
    out.lit(',"co2_saved_kg":')
    out.num(timing.saved_expected_kg, 6)
    out.lit(',"co2_run_now_kg":')
    out.num(timing.co2_now_kg, 6)
    if with_runs:
        out.lit(',"runs":')
        runs = [orjson.dumps([ab]) for ab in zip(start_at, finish_at)]
        for i, pieces in timing.runs.items():  # interrupted jobs: every piece
            begin, end = np.array(pieces).T
            runs[i] = orjson.dumps(list(zip(labels(begin).tolist(), labels(end).tolist())))
        out.fragments(runs)
