"""The facts an explanation is built from, and the explanations themselves (template text, the "When:"
sentence, the short reason of compact answers), from the server's own records.
"""

from functools import lru_cache

import numpy as np
import orjson

from scheduler.core.bands import carbon_band
from scheduler.core.fleet import Fleet
from scheduler.core.scoring import METRICS, TIER_WEIGHTS
from scheduler.core.states import TIERS
from scheduler.placement.engine import BatchRecord, World, meets_deadline
from scheduler.service.rows import LATENCY_NAMES, RowDetail, row_detail
from xai.templates import DecisionFacts, render_many, short_reason
from xai.when import describe as describe_when


@lru_cache(maxsize=8)
def _reason_table(fleet: Fleet) -> list[bytes]:
    """xai.short_reason for every (server, dominant metric or none, is best, explored), JSON-encoded."""
    tier_of = {int(s): tier for tier, pool in enumerate(fleet.pools) for s in pool}
    return [
        orjson.dumps(short_reason(TIERS[tier_of[s]], fleet.names[s], None if m == len(METRICS) else m, bool(best), bool(explored)))
        for s in range(fleet.n_servers)
        for m in range(len(METRICS) + 1)
        for best in (0, 1)
        for explored in (0, 1)
    ]


def reasons(world: World, record: BatchRecord, start: int, stop: int) -> tuple[list[bytes], np.ndarray]:
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
            TIERS[tier],
            fleet.pool_names(tier),
            tuple(TIER_WEIGHTS[tier].tolist()),
            job_id=record.job_ids[sl][rows],
            latency=[LATENCY_NAMES[x] for x in record.jobs.latency[sl][rows].tolist()],
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
        )
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
        timing,
        [zone_names[c] for c in record.chosen[start:stop].tolist()],
        labels(timing.start_h).tolist(),
        labels(timing.finish_h).tolist(),
        labels(np.nan_to_num(timing.deadline_h)).tolist(),
        scenario.when,
        excluded,
    )


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
            rows.tolist(),
            record.job_ids[sl][rows].tolist(),
            record.jobs.latency[sl][rows].tolist(),
            record.chosen[sl][rows].tolist(),
            detail.parts[rows][:, :, pool].tolist(),
            record.loads_before[sl][rows][:, pool].tolist(),
            record.q_values[sl][rows, : len(pool)].tolist(),
            record.explored[sl][rows].tolist(),
            record.carbon_factor[sl][rows].tolist(),
            record.energy_kwh[sl][rows].tolist(),
            record.co2_kg[sl][rows].tolist(),
            record.cost[sl][rows].tolist(),
            now_g[rows].tolist(),
            [when[r] for r in rows.tolist()],
        )
        for row, job_id, latency, chosen, (
            perf,
            cost,
            co2,
            lat,
            final,
        ), loads, q, explored, cf, energy, co2_kg, price, grid_g, when_text in columns:
            facts[row] = DecisionFacts(
                job_id,
                priority,
                LATENCY_NAMES[latency],
                fleet.names[chosen],
                names,
                tuple(final),
                tuple(perf),
                tuple(cost),
                tuple(co2),
                tuple(lat),
                weights,
                tuple(loads),
                tuple(q),
                explored,
                cf,
                carbon_band(cf),
                energy,
                co2_kg,
                price,
                grid_g,
                when_text,
            )
    return facts  # type: ignore[return-value]
