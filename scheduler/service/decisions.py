"""Decisions as the API shows them: the reference's full per-job object, a compact form, and the facts
an explanation is built from.

Records keep only what was decided; the per-server tables (scores, breakdown, all_metrics) are
recomputed from the record's series position, which is exact because they depend on nothing else.
Encoding goes through JsonRows (column-wise, no per-job dicts). Rounding follows the reference:
scores and energy to 4 decimals, cost and CO2 to 6, Q-values to 6.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import orjson

from scheduler.core.energy import MODES
from scheduler.placement.engine import BatchRecord, World, meets_deadline, step_at
from scheduler.core.fleet import Fleet
from scheduler.core.states import TIERS
from scheduler.core.states import LATENCIES, URGENCIES
from scheduler.service.jsonrows import JsonRows
from scheduler.placement.scenario import StepMetrics
from scheduler.core.scoring import METRICS, TIER_WEIGHTS, ServerMetrics, pool_scores
from scheduler.data.signals import Signals, StepIndex
from scheduler.core.bands import carbon_band
from scheduler.core.timing import Timing
from xai.templates import DecisionFacts, render_many, short_reason
from xai.when import describe as describe_when
from scheduler.core import states
from scheduler.core.states import STATUSES

_LATENCY_JSON = [orjson.dumps(x) for x in (*LATENCIES, None)]  # code -1 -> null
_LATENCY_NAMES: tuple[str | None, ...] = (*LATENCIES, None)
_TIER_JSON = [orjson.dumps(t) for t in TIERS]
_BOOL_JSON = [b"false", b"true"]
_STATE_TEXT = ("load_type", "week_status", "day_of_week")


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


def encode_full(world: World, record: BatchRecord, start: int, stop: int, clock_h: float | None = None) -> bytes | memoryview:
    """Reference-compatible JSON objects for record rows start..stop-1, comma-separated (grid records
    add when and how each job runs; see encode_compact)."""
    fleet, signals = world.fleet, world.signals
    n = stop - start
    sl = slice(start, stop)
    detail = row_detail(world, record, start, stop)
    idx = signals.positions(record.pointer + start, n)
    names = [orjson.dumps(name) for name in fleet.names]
    tiers = record.jobs.tier[sl]
    chosen = record.chosen[sl]
    in_pool = np.zeros((len(TIERS), fleet.n_servers), np.intp)
    for tier, pool in enumerate(fleet.pools):
        in_pool[tier, pool] = 1
    parts = detail.parts
    m = detail.metrics

    out = JsonRows(n)
    out.lit('{"job_id":')
    out.num(record.job_ids[sl], 0)
    _client_job_ids(out, record, sl)
    out.lit(',"chosen_dc":')
    out.pick(names, chosen)
    out.lit(',"scores":{')
    for s, name in enumerate(names):
        out.lit((b"," if s else b"") + name + b":")
        out.num(parts[:, 4, s], 4)
    out.lit('},"score_breakdown":{')
    for s, name in enumerate(names):
        out.lit((b"," if s else b"") + name + b':{"perf_score":')
        for k, key in enumerate(("cost_score", "co2_score", "lat_score")):
            out.num(parts[:, k, s], 4)
            out.lit(f',"{key}":')
        out.num(parts[:, 3, s], 4)
        out.lit(f',"capacity_score":{round(float(fleet.capacity_tier[s]), 4)},"final":')
        out.num(parts[:, 4, s], 4)
        out.lit(',"in_pool":')
        out.pick(_BOOL_JSON, in_pool[tiers, s])
        out.lit(',"server_load":')
        out.num(record.loads_before[sl, s], 0)
        out.lit("}")
    out.lit('},"rl_q_values":{')
    pool_width = record.q_values.shape[1]
    for k in range(pool_width):
        # Pools can differ in size (fleets not divisible by 3): absent slots become blank space.
        keys = [(b"," if k else b"") + names[p[k]] + b":" if k < len(p) else b"" for p in fleet.pools]
        out.pick(keys, tiers)
        present = np.array([k < len(p) for p in fleet.pools])[tiers]
        out.num(np.nan_to_num(record.q_values[sl, k]), 6, None if present.all() else present)
    out.lit('},"rl_reward":')
    out.num(record.rl_reward[sl], 4)
    out.lit(',"reward":')
    out.num(record.reward[sl], 4)
    out.lit(',"priority":')
    out.pick(_TIER_JSON, tiers)
    out.lit(',"latency":')
    out.pick(_LATENCY_JSON, record.jobs.latency[sl])
    if record.scenario.name == "reference":
        _reference_state(out, signals, idx)
    else:
        _grid_state(out, record, detail, start, stop)
    # What the job draws and emits as it runs (grid: in its mode, at its start); all_metrics below are
    # the placement's run-now figures on every server.
    out.lit('},"power_kwh":')
    out.num(record.energy_kwh[sl], 4)
    out.lit(',"cost":')
    out.num(record.cost[sl], 6)
    out.lit(',"co2":')
    out.num(record.co2_kg[sl], 6)
    out.lit(',"all_metrics":{')
    for s, name in enumerate(names):
        out.lit((b"," if s else b"") + name + b':{"energy_kwh":')
        out.num(m.energy_kwh[:, s], 4)
        out.lit(',"cost":')
        out.num(m.cost[:, s], 6)
        out.lit(',"co2":')
        out.num(m.co2_kg[:, s], 6)
        if detail.step.intensity_g_per_kwh is not None:
            out.lit(',"carbon_intensity_g_per_kwh":')
            out.num(detail.step.intensity_g_per_kwh[:, s], 2)
            out.lit(',"runtime_min":')
            out.num(detail.step.runtime_min[:, s], 3)
        out.lit(f',"capacity_tier":{round(float(fleet.capacity_tier[s]), 4)}}}')
    out.lit("}")
    if record.timing is not None:
        _timing_fields(out, record, start, stop, clock_h, with_runs=True)
    out.lit(',"explanation":')
    out.text(explanations(world, record, start, stop, detail))
    out.lit("}")
    return out.encode()


def _client_job_ids(out: JsonRows, record: BatchRecord, sl: slice) -> None:
    """`"client_job_id"`, the job_id the client sent with the job, beside ours; only on jobs that came
    with one, so other decisions keep the reference's shape exactly."""
    ids = record.jobs.client_job_id
    if ids is None:
        return
    fragments = [b"" if v is None else b',"client_job_id":' + orjson.dumps(v) for v in ids[sl].tolist()]
    if any(fragments):
        out.fragments(fragments)


def _reference_state(out: JsonRows, signals: Signals, idx: StepIndex) -> None:
    """The reference's "state" object: the series values at each job's pointer."""
    columns = (
        ("load", signals.load[idx.task]), ("energy_price", signals.energy_price[idx.price]),
        ("carbon_factor", signals.carbon_factor[idx.steel]), ("energy_factor", signals.energy_factor[idx.steel]),
        ("steel_energy_kwh", signals.steel_usage_kwh[idx.steel]), ("steel_co2", signals.steel_co2_t[idx.steel]),
    )  # fmt: skip
    for i, (key, values) in enumerate(columns):
        out.lit((',"' if i else ',"state":{"') + key + '":')
        out.num(values, 4)
    for key in _STATE_TEXT:
        labels = getattr(signals, key)
        out.lit(f',"{key}":')
        out.pick([orjson.dumps(name) for name in labels.names], labels.codes[idx.steel])


def _grid_state(out: JsonRows, record: BatchRecord, detail: RowDetail, start: int, stop: int) -> None:
    """The grid scenario's "state": clock, price, carbon factor and the chosen server's intensity."""
    step, sl = detail.step, slice(start, stop)
    hours = np.unique(step.hour)
    out.lit(',"state":{"clock_utc":')
    out.pick([orjson.dumps(label) for label in record.scenario.clock_labels(hours).tolist()], np.searchsorted(hours, step.hour))
    out.lit(',"energy_price":')
    out.num(step.price, 4)
    out.lit(',"carbon_factor":')
    out.num(step.carbon_factor, 4)
    out.lit(',"carbon_intensity_g_per_kwh":')
    out.num(record.intensity_g_per_kwh[sl], 2)
    out.lit(',"runtime_min":')
    out.num(record.runtime_min[sl], 3)
    out.lit(f',"signal":{orjson.dumps(record.scenario.describe()["signal"]).decode()}')


_MODE_JSON = [orjson.dumps(m.name) for m in MODES]
_BAND_JSON = [orjson.dumps(b) for b in states.BANDS]
_URGENCY_JSON = [orjson.dumps(u) for u in URGENCIES]
_STATUS_JSON = [orjson.dumps(x) for x in STATUSES]


def status_codes(timing: Timing, clock_h: float | None) -> np.ndarray:
    """Index into STATUSES: a deferred job is "deferred" until the session's clock reaches its start,
    then "released"; `clock_h` None gives the status as decided."""
    deferred = timing.action == states.DEFER
    if clock_h is None:
        return deferred.astype(np.int8)
    return np.where(deferred, np.where(timing.start_h > clock_h, 1, 2), 0).astype(np.int8)


def _timing_fields(out: JsonRows, record: BatchRecord, start: int, stop: int, clock_h: float | None, with_runs: bool) -> None:
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


def encode_compact(
    world: World, record: BatchRecord, start: int, stop: int, with_text: bool = True, clock_h: float | None = None
) -> bytes | memoryview:
    """The decision essentials without per-server tables (POST /run?detail=compact, GET /history).
    Grid records also say when and how each job runs; `clock_h` (the session's clock) turns the decided
    status into the current one."""
    sl = slice(start, stop)
    out = JsonRows(stop - start)
    out.lit('{"job_id":')
    out.num(record.job_ids[sl], 0)
    _client_job_ids(out, record, sl)
    out.lit(',"chosen_dc":')
    out.pick([orjson.dumps(name) for name in world.fleet.names], record.chosen[sl])
    out.lit(',"priority":')
    out.pick(_TIER_JSON, record.jobs.tier[sl])
    out.lit(',"latency":')
    out.pick(_LATENCY_JSON, record.jobs.latency[sl])
    out.lit(',"cpu":')
    out.exact(record.jobs.cpu[sl])
    out.lit(',"memory":')
    out.exact(record.jobs.memory[sl])
    for key, values, decimals in (
        ("reward", record.reward, 4), ("rl_reward", record.rl_reward, 4), ("energy_kwh", record.energy_kwh, 4),
        ("cost", record.cost, 6), ("co2_kg", record.co2_kg, 6), ("carbon_factor", record.carbon_factor, 4),
    ):  # fmt: skip
        out.lit(f',"{key}":')
        out.num(values[sl], decimals)
    if record.scenario.name != "reference":
        out.lit(',"carbon_intensity_g_per_kwh":')
        out.num(record.intensity_g_per_kwh[sl], 2)
        out.lit(',"runtime_min":')
        out.num(record.runtime_min[sl], 3)
    if record.timing is not None:
        _timing_fields(out, record, start, stop, clock_h, with_runs=False)
    out.lit(',"explored":')
    out.pick(_BOOL_JSON, record.explored[sl])
    if with_text:
        table, codes = _reasons(world, record, start, stop)
        out.lit(',"reason":')
        out.pick(table, codes)
    out.lit("}")
    return out.encode()


@lru_cache(maxsize=8)
def _reason_table(fleet: Fleet) -> list[bytes]:
    """xai.short_reason for every (server, dominant metric or none, is best, explored), JSON-encoded."""
    tier_of = {int(s): tier for tier, pool in enumerate(fleet.pools) for s in pool}
    return [
        orjson.dumps(short_reason(TIERS[tier_of[s]], fleet.names[s], None if m == len(METRICS) else m, bool(best), bool(explored)))
        for s in range(fleet.n_servers) for m in range(len(METRICS) + 1) for best in (0, 1) for explored in (0, 1)
    ]  # fmt: skip


def _reasons(world: World, record: BatchRecord, start: int, stop: int) -> tuple[list[bytes], np.ndarray]:
    """The short reason of each row: a table and a code per row into it (see _reason_table)."""
    sl = slice(start, stop)
    codes = ((record.chosen[sl] * (len(METRICS) + 1) + record.dominant[sl]) * 2 + record.dominant_is_best[sl]) * 2 + record.explored[sl]
    return _reason_table(world.fleet), codes


def explanations(world: World, record: BatchRecord, start: int, stop: int, detail: RowDetail | None = None) -> list[str]:
    """Template explanations of record rows start..stop-1 (xai.render_many, tier by tier)."""
    fleet = world.fleet
    detail = detail or row_detail(world, record, start, stop)
    sl = slice(start, stop)
    tiers = record.jobs.tier[sl]
    texts = np.empty(stop - start, dtype=object)
    # The placement sentence speaks of the moment of placement; the "When:" sentence of what followed.
    now_g = record.intensity_g_per_kwh[sl] if record.timing is None else record.timing.intensity_now_g[sl]
    for tier, pool in enumerate(fleet.pools):
        rows = np.flatnonzero(tiers == tier)
        if rows.size == 0:
            continue
        position = np.zeros(fleet.n_servers, np.intp)
        position[pool] = np.arange(len(pool))
        carbon = record.carbon_factor[sl][rows]
        texts[rows] = render_many(
            TIERS[tier], fleet.pool_names(tier), tuple(TIER_WEIGHTS[tier].tolist()),
            job_id=record.job_ids[sl][rows],
            latency=[_LATENCY_NAMES[x] for x in record.jobs.latency[sl][rows].tolist()],
            chosen=position[record.chosen[sl][rows]],
            parts=detail.parts[rows][:, :, pool],
            loads=record.loads_before[sl][rows][:, pool],
            q_values=record.q_values[sl][rows, : len(pool)],
            explored=record.explored[sl][rows],
            carbon_factor=carbon,
            carbon_band=[carbon_band(x) for x in carbon.tolist()],
            energy_kwh=record.energy_kwh[sl][rows],
            co2_kg=record.co2_kg[sl][rows],
            intensity_g_per_kwh=now_g[rows],
        )  # fmt: skip
    if record.timing is not None:
        texts = [f"{a} {b}" for a, b in zip(texts.tolist(), when_texts(world, record, start, stop, detail))]
        return texts
    return texts.tolist()


def when_texts(world: World, record: BatchRecord, start: int, stop: int, detail: RowDetail | None = None) -> list[str]:
    """The "When:" sentence of each grid record row (xai.when), naming the pool servers left out
    because they could not finish by the deadline (engine.meets_deadline, as placement applied it)."""
    fleet, timing, scenario = world.fleet, record.timing.take(slice(start, stop)), record.scenario
    detail = detail or row_detail(world, record, start, stop)
    zone_names = [scenario.zone_of(s) for s in range(fleet.n_servers)]
    excluded: list[list[str]] = [[] for _ in range(stop - start)]
    tiers = record.jobs.tier[start:stop]
    for tier, pool in enumerate(fleet.pools):
        rows = np.flatnonzero(tiers == tier)
        fits = meets_deadline(detail.step.runtime_min, record.jobs.deadline_min[start:stop], rows, pool)
        if fits is not None:
            for row, ok in zip(rows.tolist(), fits.tolist()):
                excluded[row] = [fleet.names[s] for s, keep in zip(pool.tolist(), ok) if not keep]
    labels = scenario.clock_labels
    return describe_when(
        timing, [zone_names[c] for c in record.chosen[start:stop].tolist()], labels(timing.start_h).tolist(),
        labels(timing.finish_h).tolist(), labels(np.nan_to_num(timing.deadline_h)).tolist(), scenario.when, excluded,
    )  # fmt: skip


def decision_facts(world: World, record: BatchRecord, start: int, stop: int, detail: RowDetail | None = None) -> list[DecisionFacts]:
    """What xai needs to explain each decision, from the server's own record (never from the client)."""
    fleet = world.fleet
    detail = detail or row_detail(world, record, start, stop)
    sl = slice(start, stop)
    tiers = record.jobs.tier[sl]
    facts: list[DecisionFacts | None] = [None] * (stop - start)
    now_g = record.intensity_g_per_kwh[sl] if record.timing is None else record.timing.intensity_now_g[sl]
    when = [""] * (stop - start) if record.timing is None else when_texts(world, record, start, stop, detail)
    for tier, pool in enumerate(fleet.pools):
        rows = np.flatnonzero(tiers == tier)
        if rows.size == 0:
            continue
        priority, names, weights = TIERS[tier], fleet.pool_names(tier), tuple(TIER_WEIGHTS[tier].tolist())
        columns = zip(
            rows.tolist(), record.job_ids[sl][rows].tolist(), record.jobs.latency[sl][rows].tolist(),
            record.chosen[sl][rows].tolist(), detail.parts[rows][:, :, pool].tolist(),
            record.loads_before[sl][rows][:, pool].tolist(), record.q_values[sl][rows, : len(pool)].tolist(),
            record.explored[sl][rows].tolist(), record.carbon_factor[sl][rows].tolist(),
            record.energy_kwh[sl][rows].tolist(), record.co2_kg[sl][rows].tolist(), record.cost[sl][rows].tolist(),
            now_g[rows].tolist(), [when[r] for r in rows.tolist()],
        )  # fmt: skip
        for row, job_id, latency, chosen, (perf, cost, co2, lat, final), loads, q, explored, cf, energy, co2_kg, price, grid_g, when_text in columns:
            facts[row] = DecisionFacts(
                job_id, priority, _LATENCY_NAMES[latency], fleet.names[chosen], names, tuple(final), tuple(perf),
                tuple(cost), tuple(co2), tuple(lat), weights, tuple(loads), tuple(q), explored, cf, carbon_band(cf),
                energy, co2_kg, price, grid_g, when_text,
            )  # fmt: skip
    return facts  # type: ignore[return-value]
