"""Why each decision went where it did, as numbers, from the record: what xai.causes says in words.

The tier agent's value is linear, Q(s, a) = W[a] . phi(s). The engine records, for every decision, the
server it is explained against (the rival: the best-scored other server the job could take),
W[chosen] - W[rival] as the agent's weights stood when it decided, the quality gap to the rival, the metric
adding most to it and the two largest terms; with phi rebuilt here from the record (the pool's loads before
the job, relative to the busiest, and the job's four static features), (W[chosen] - W[rival]) x phi are one
term per feature, summing exactly to Q(chosen) - Q(rival).
"""

from dataclasses import dataclass

import numpy as np

from rl.features import static_features
from scheduler.placement.engine import BatchRecord, World, meets_deadline
from scheduler.service.rows import RowDetail
from xai.causes import AGENT, TIE, TOP

QUALITY_TIE = 1e-9
"""Quality scores closer than this are a tie (min-max normalisation makes exact ties common, give or take
rounding); a smaller nonzero gap would print as a difference the scores do not really have."""


def standing_of(quality_gap: np.ndarray) -> np.ndarray:
    """TOP, TIE or AGENT: how the chosen server stands against its rival on quality (engine's quality_gap)."""
    return np.where(quality_gap > QUALITY_TIE, TOP, np.where(quality_gap >= -QUALITY_TIE, TIE, AGENT)).astype(np.int8)


@dataclass(frozen=True)
class TierCauses:
    """Causes of the m rows of one tier; positions index the tier's pool (P servers), F = P + 4 features."""

    chosen: np.ndarray  # (m,) pool position
    rival: np.ndarray  # (m,) pool position, -1: the job could take no other server
    standing: np.ndarray  # (m,) TOP, TIE or AGENT: the chosen server against the rival on quality
    greedy: np.ndarray  # (m,) the best-Q server the job could take (lowest position on ties)
    metric: np.ndarray  # (m,) the metric giving the chosen server most of its lead (standing TOP), else -1
    terms: np.ndarray  # (m, 2) features with the largest positive terms, largest first; -1: none
    phi: np.ndarray  # (m, F)
    contributions: np.ndarray  # (m, F) (W[chosen] - W[rival]) x phi; zeros without a rival
    static: np.ndarray  # (m, 4) carbon factor, price, cpu, memory as given
    allowed: np.ndarray  # (m, P) could finish by the deadline
    late: np.ndarray  # (m, P) scored better than the chosen server but could not finish by the deadline


def tier_causes(world: World, record: BatchRecord, start: int, detail: RowDetail, tier: int, rows: np.ndarray) -> TierCauses:
    """The causes of `rows` (positions in the record slice starting at `start` that `detail` describes), all of `tier`."""
    fleet = world.fleet
    pool = fleet.pools[tier]
    size = len(pool)
    at = start + rows  # record rows
    m = len(rows)
    position = np.full(fleet.n_servers, -1, np.intp)
    position[pool] = np.arange(size)
    chosen = position[record.chosen[at]]
    rival = np.where(record.rival[at] >= 0, position[np.maximum(record.rival[at], 0)], -1)
    final = detail.parts[rows, 4][:, pool]
    fits = meets_deadline(detail.step.runtime_min, record.jobs.deadline_min[start : start + len(detail.parts)], rows, pool)
    allowed = np.ones((m, size), bool) if fits is None else fits
    q = record.q_values[at, :size]
    every = np.arange(m)
    standing = standing_of(record.quality_gap[at])
    metric = np.where((standing == TOP) & (rival >= 0), record.lead_metric[at], -1)
    loads = record.loads_before[at][:, pool]
    static = np.column_stack((record.carbon_factor[at], detail.step.price[rows], record.jobs.cpu[at], record.jobs.memory[at]))
    phi = np.hstack((loads / np.maximum(loads.max(axis=1, keepdims=True), 1), static_features(*static.T)))
    width = record.weight_gap.shape[1] - 4
    gap_w = np.hstack((record.weight_gap[at, :size], record.weight_gap[at, width:]))
    contributions = gap_w * phi
    terms = record.cause_terms[at].astype(np.intp)
    late = ~allowed & (final > final[every, chosen][:, None] + QUALITY_TIE)
    greedy = np.where(allowed, q, -np.inf).argmax(axis=1)
    return TierCauses(chosen, rival, standing, greedy, metric, terms, phi, contributions, static, allowed, late)


def record_terms(world: World, record: BatchRecord, start: int, detail: RowDetail) -> tuple[np.ndarray, np.ndarray]:
    """phi and the per-feature terms (W[chosen] - W[rival]) x phi of the rows `detail` describes, in the
    record's layout (the widest pool's load slots, NaN where a pool is smaller, then the four static features)."""
    n = len(detail.parts)
    width = record.weight_gap.shape[1] - 4
    phi = np.full((n, width + 4), np.nan)
    terms = np.full((n, width + 4), np.nan)
    tiers = record.jobs.tier[start : start + n]
    for tier, pool in enumerate(world.fleet.pools):
        rows = np.flatnonzero(tiers == tier)
        if rows.size:
            causes = tier_causes(world, record, start, detail, tier, rows)
            columns = [*range(len(pool)), *range(width, width + 4)]
            phi[np.ix_(rows, columns)] = causes.phi
            terms[np.ix_(rows, columns)] = causes.contributions
    return phi, terms
