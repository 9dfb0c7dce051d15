"""The facts an explanation is built from, and the explanations themselves (template text, the "When:"
sentence, the short reason of compact answers), from the server's own records.

Each decision is banded on one scale (docs/placement.md): a reference session's proxy factor on the fixed
factor scale; a grid session's chosen zone on the when-policy's BandPolicy, the band its `carbon_band` field
and its "When:" sentence give.
"""

import numpy as np
import orjson

from scheduler.core.bands import carbon_band
from scheduler.core.scoring import TIER_WEIGHTS
from scheduler.core.states import BANDS, TIERS
from scheduler.placement import given
from scheduler.placement.engine import BatchRecord, World, meets_deadline
from scheduler.service.causes import standing_of, tier_causes
from scheduler.service.rows import LATENCY_NAMES, RowDetail, row_detail
from xai.carbon import FACTOR, GIVEN, scale_text
from xai.causes import EXPLORED, ONLY, TOP, feature_labels, short_reason
from xai.templates import DecisionFacts, TierColumns, facts_of, render_many
from xai.when import describe as describe_when


def tier_columns(world: World, record: BatchRecord, start: int, stop: int, detail: RowDetail, tier: int, when: list[str]) -> TierColumns:
    """Record rows start..stop-1 of `tier`, as the columns xai renders (`when`: each row's "When:" sentence)."""
    fleet, sl = world.fleet, slice(start, stop)
    rows = np.flatnonzero(record.jobs.tier[sl] == tier)
    pool = fleet.pools[tier]
    names = fleet.pool_names(tier)
    causes = tier_causes(world, record, start, detail, tier, rows)
    at = start + rows
    energy = detail.metrics.energy_kwh[rows]
    least = energy.argmin(axis=1)
    band, scale, intensity, zone = _bands(world, record, at)
    return TierColumns(
        TIERS[tier],
        names,
        tuple(TIER_WEIGHTS[tier].tolist()),
        feature_labels(names),
        record.job_ids[at],
        [LATENCY_NAMES[x] for x in record.jobs.latency[at].tolist()],
        causes.chosen,
        detail.parts[rows][:, :, pool],
        record.loads_before[at][:, pool],
        record.q_values[at, : len(pool)],
        record.explored[at],
        causes.standing,
        causes.rival,
        causes.greedy,
        causes.metric,
        causes.terms,
        causes.phi,
        causes.contributions,
        causes.static,
        causes.allowed,
        causes.late,
        energy[:, pool],
        [fleet.names[s] for s in least.tolist()],
        energy[np.arange(len(rows)), least],
        record.carbon_factor[at],
        band,
        scale,
        intensity,
        zone,
        record.energy_kwh[at],
        record.co2_kg[at],
        record.cost[at],
        [when[r] for r in rows.tolist()] if when else [""] * len(rows),
        _given(record, at),
    )


def _given(record: BatchRecord, at: np.ndarray) -> list[str] | None:
    """Whose figures each row's energy and CO2 are (xai.carbon.GIVEN), as the record's energy_source and
    co2_source say; None when every figure is the model's."""
    if record.scenario.name == "reference":  # reference sessions keep the seed's figures (scheduler.placement.given)
        return None
    jobs = record.jobs.take(at)
    code = np.where(given.energy_given(jobs), 1, np.where(given.co2_given(jobs), 2, 0))
    return [GIVEN[c] for c in code.tolist()] if code.any() else None


def _bands(world: World, record: BatchRecord, at: np.ndarray) -> tuple[list[str], list[str], np.ndarray, list[str | None]]:
    """Each row's band, the scale it was read on (with its thresholds), the intensity it compared (NaN in
    reference sessions) and the zone (None)."""
    timing = record.timing
    if timing is None:
        return (
            [carbon_band(x) for x in record.carbon_factor[at].tolist()],
            [scale_text(FACTOR, 0, 0.0, 0.0)] * len(at),
            np.full(len(at), np.nan),
            [None] * len(at),
        )
    bands = record.scenario.when.bands
    scales = [
        scale_text(bands.kind, bands.window_h, lo, hi) for lo, hi in zip(timing.band_low_g[at].tolist(), timing.band_high_g[at].tolist())
    ]
    zones = [record.scenario.zone_of(s) for s in range(world.fleet.n_servers)]
    return [BANDS[b] for b in timing.band[at].tolist()], scales, timing.intensity_now_g[at], [zones[s] for s in record.chosen[at].tolist()]


def explanations(world: World, record: BatchRecord, start: int, stop: int, detail: RowDetail | None = None) -> list[str]:
    """Template explanations of record rows start..stop-1 (xai.render_many, tier by tier)."""
    detail = detail or row_detail(world, record, start, stop)
    when = [] if record.timing is None else when_texts(world, record, start, stop, detail)
    texts = np.empty(stop - start, dtype=object)
    tiers = record.jobs.tier[start:stop]
    for tier in range(len(world.fleet.pools)):
        rows = np.flatnonzero(tiers == tier)
        if rows.size:
            texts[rows] = render_many(tier_columns(world, record, start, stop, detail, tier, when))
    return texts.tolist()


def decision_facts(world: World, record: BatchRecord, start: int, stop: int, detail: RowDetail | None = None) -> list[DecisionFacts]:
    """What xai needs to explain each decision, from the server's own record (never from the client)."""
    detail = detail or row_detail(world, record, start, stop)
    when = [] if record.timing is None else when_texts(world, record, start, stop, detail)
    facts: list[DecisionFacts | None] = [None] * (stop - start)
    tiers = record.jobs.tier[start:stop]
    for tier in range(len(world.fleet.pools)):
        rows = np.flatnonzero(tiers == tier)
        if rows.size:
            for row, f in zip(rows.tolist(), facts_of(tier_columns(world, record, start, stop, detail, tier, when))):
                facts[row] = f
    return facts  # type: ignore[return-value]


def reasons(world: World, record: BatchRecord, start: int, stop: int) -> tuple[list[bytes], np.ndarray]:
    """The short reason of each row (compact answers): a table of the distinct reasons and a code per row into
    it. From the record's cause fields alone (no per-server tables): compact answers stay cheap."""
    fleet, sl = world.fleet, slice(start, stop)
    position, tier_of = np.zeros(fleet.n_servers, np.int64), np.zeros(fleet.n_servers, np.int64)
    for tier, pool in enumerate(fleet.pools):
        position[pool], tier_of[pool] = np.arange(len(pool)), tier
    has = record.rival[sl] >= 0
    rival = np.where(has, position[np.maximum(record.rival[sl], 0)], -1)
    kind = np.where(~has, ONLY, np.where(record.explored[sl], EXPLORED, standing_of(record.quality_gap[sl])))
    said = np.where(kind == TOP, record.lead_metric[sl], record.cause_terms[sl, 0])
    base = 64  # > any pool position, feature index or kind (+1)
    chosen = record.chosen[sl]
    keys = (((tier_of[chosen] * base + position[chosen]) * base + kind) * base + rival + 1) * base + said + 1
    unique, codes = np.unique(keys, return_inverse=True)
    table = []
    for key in unique.tolist():
        key, detail = divmod(key, base)
        key, versus = divmod(key, base)
        key, kind_code = divmod(key, base)
        tier, at = divmod(key, base)
        table.append(orjson.dumps(short_reason(TIERS[tier], fleet.pool_names(tier), at, kind_code, versus - 1, detail - 1)))
    return table, codes.reshape(-1)


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
