"""Decisions as the API shows them: the reference's full per-job object, a compact form, and the facts
an explanation is built from.

Records keep only what was decided; the per-server tables (scores, breakdown, all_metrics) are
recomputed from the record's series position, which is exact because they depend on nothing else.
Encoding goes through JsonRows (column-wise, no per-job dicts). Rounding follows the reference:
scores and energy to 4 decimals, cost and CO2 to 6, Q-values to 6.
"""

import numpy as np
import orjson

from scheduler.core.fleet import Fleet
from scheduler.core.states import TIERS
from scheduler.data.signals import Signals, StepIndex
from scheduler.placement.engine import BatchRecord, World
from scheduler.service.causes import record_terms
from scheduler.service.facts import explanations, reasons
from scheduler.service.jsonrows import JsonRows
from scheduler.service.rows import (
    BOOL_JSON,
    LATENCY_JSON,
    STATE_TEXT,
    TIER_JSON,
    RowDetail,
    client_job_ids,
    given_fields,
    row_detail,
    timing_fields,
)
from xai.causes import feature_labels


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

    out = JsonRows(n)
    out.lit('{"job_id":')
    out.num(record.job_ids[sl], 0)
    client_job_ids(out, record, sl)
    out.lit(',"chosen_dc":')
    out.pick(names, chosen)
    _scores(out, fleet, names, detail.parts, record.loads_before[sl], tiers)
    _q_values(out, fleet, names, record.q_values[sl], tiers)
    out.lit('},"rl_reward":')
    out.num(record.rl_reward[sl], 4)
    out.lit(',"reward":')
    out.num(record.reward[sl], 4)
    out.lit(',"priority":')
    out.pick(TIER_JSON, tiers)
    out.lit(',"latency":')
    out.pick(LATENCY_JSON, record.jobs.latency[sl])
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
    given_fields(out, record, sl)
    _all_metrics(out, fleet, names, detail)
    if record.timing is not None:
        timing_fields(out, record, start, stop, clock_h, with_runs=True)
    _attribution(out, world, record, start, detail, names)
    out.lit(',"explanation":')
    out.text(explanations(world, record, start, stop, detail))
    out.lit("}")
    return out.encode()


def _scores(out: JsonRows, fleet: Fleet, names: list[bytes], parts: np.ndarray, loads: np.ndarray, tiers: np.ndarray) -> None:
    """ "scores" (each server's final score) and "score_breakdown" (its parts, pool membership and load)."""
    in_pool = np.zeros((len(TIERS), fleet.n_servers), np.intp)
    for tier, pool in enumerate(fleet.pools):
        in_pool[tier, pool] = 1
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
        out.pick(BOOL_JSON, in_pool[tiers, s])
        out.lit(',"server_load":')
        out.num(loads[:, s], 0)
        out.lit("}")


def _q_values(out: JsonRows, fleet: Fleet, names: list[bytes], q_values: np.ndarray, tiers: np.ndarray) -> None:
    """ "rl_q_values": the agent's Q-value of each server of the job's pool, by name."""
    out.lit('},"rl_q_values":{')
    for k in range(q_values.shape[1]):
        # Pools can differ in size (fleets not divisible by 3): absent slots become blank space.
        keys = [(b"," if k else b"") + names[p[k]] + b":" if k < len(p) else b"" for p in fleet.pools]
        out.pick(keys, tiers)
        present = np.array([k < len(p) for p in fleet.pools])[tiers]
        out.num(np.nan_to_num(q_values[:, k]), 6, None if present.all() else present)


def _attribution(out: JsonRows, world: World, record: BatchRecord, start: int, detail: RowDetail, names: list[bytes]) -> None:
    """ "attribution": why the agent preferred the chosen server to `versus` (the best-scored other server
    the job could take; null when none): each feature's term (W[chosen] - W[versus]) x its value, the terms
    summing to Q(chosen) - Q(versus). (The values themselves are GET /agents' features, as the job saw them.)"""
    fleet, n = world.fleet, len(detail.parts)
    tiers = record.jobs.tier[start : start + n]
    terms = record_terms(world, record, start, detail)[1]
    width = terms.shape[1] - 4
    labels = [feature_labels(fleet.pool_names(t)) for t in range(len(fleet.pools))]
    slots = [[*lab[: len(p)], *[None] * (width - len(p)), *lab[len(p) :]] for lab, p in zip(labels, fleet.pools)]
    out.lit(',"attribution":{"versus":')
    out.pick([*names, b"null"], np.where(record.rival[start : start + n] >= 0, record.rival[start : start + n], len(names)))
    out.lit(',"terms":{')
    for k in range(width + 4):
        # Pools can differ in size: a smaller pool's missing load slots become blank space, as in rl_q_values.
        present = np.array([slot[k] is not None for slot in slots])[tiers]
        keys = [b"" if slot[k] is None else (b"," if k else b"") + orjson.dumps(slot[k]) + b":" for slot in slots]
        out.pick(keys, tiers)
        out.num(np.nan_to_num(terms[:, k]), 6, None if present.all() else present)
    out.lit("}}")


def _all_metrics(out: JsonRows, fleet: Fleet, names: list[bytes], detail: RowDetail) -> None:
    """ "all_metrics": the placement's run-now energy, cost and CO2 on every server (grid: also intensity and runtime)."""
    m, step = detail.metrics, detail.step
    out.lit(',"all_metrics":{')
    for s, name in enumerate(names):
        out.lit((b"," if s else b"") + name + b':{"energy_kwh":')
        out.num(m.energy_kwh[:, s], 4)
        out.lit(',"cost":')
        out.num(m.cost[:, s], 6)
        out.lit(',"co2":')
        out.num(m.co2_kg[:, s], 6)
        if step.intensity_g_per_kwh is not None:
            out.lit(',"carbon_intensity_g_per_kwh":')
            out.num(step.intensity_g_per_kwh[:, s], 2)
            out.lit(',"runtime_min":')
            out.num(step.runtime_min[:, s], 3)
        out.lit(f',"capacity_tier":{round(float(fleet.capacity_tier[s]), 4)}}}')
    out.lit("}")


def _reference_state(out: JsonRows, signals: Signals, idx: StepIndex) -> None:
    """The reference's "state" object: the series values at each job's pointer."""
    columns = (
        ("load", signals.load[idx.task]),
        ("energy_price", signals.energy_price[idx.price]),
        ("carbon_factor", signals.carbon_factor[idx.steel]),
        ("energy_factor", signals.energy_factor[idx.steel]),
        ("steel_energy_kwh", signals.steel_usage_kwh[idx.steel]),
        ("steel_co2", signals.steel_co2_t[idx.steel]),
    )
    for i, (key, values) in enumerate(columns):
        out.lit((',"' if i else ',"state":{"') + key + '":')
        out.num(values, 4)
    for key in STATE_TEXT:
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
    client_job_ids(out, record, sl)
    out.lit(',"chosen_dc":')
    out.pick([orjson.dumps(name) for name in world.fleet.names], record.chosen[sl])
    out.lit(',"priority":')
    out.pick(TIER_JSON, record.jobs.tier[sl])
    out.lit(',"latency":')
    out.pick(LATENCY_JSON, record.jobs.latency[sl])
    out.lit(',"cpu":')
    out.exact(record.jobs.cpu[sl])
    out.lit(',"memory":')
    out.exact(record.jobs.memory[sl])
    for key, values, decimals in (
        ("reward", record.reward, 4),
        ("rl_reward", record.rl_reward, 4),
        ("energy_kwh", record.energy_kwh, 4),
        ("cost", record.cost, 6),
        ("co2_kg", record.co2_kg, 6),
        ("carbon_factor", record.carbon_factor, 4),
    ):
        out.lit(f',"{key}":')
        out.num(values[sl], decimals)
    given_fields(out, record, sl)
    if record.scenario.name != "reference":
        out.lit(',"carbon_intensity_g_per_kwh":')
        out.num(record.intensity_g_per_kwh[sl], 2)
        out.lit(',"runtime_min":')
        out.num(record.runtime_min[sl], 3)
    if record.timing is not None:
        timing_fields(out, record, start, stop, clock_h, with_runs=False)
    out.lit(',"explored":')
    out.pick(BOOL_JSON, record.explored[sl])
    if with_text:
        table, codes = reasons(world, record, start, stop)
        out.lit(',"reason":')
        out.pick(table, codes)
    out.lit("}")
    return out.encode()
