"""Deterministic plain-English explanation of one scheduling decision.

An explanation names the pool and what this job would use on it, then the actual cause of the choice
(xai.causes: the agent's per-feature terms, exploration, or the metric that made the server the best scored),
then the carbon band on the decision's one scale (xai.carbon) and, in grid sessions, the "When:" sentence.
Every number comes from the facts the service built from its own record (scheduler.service.facts).

`render_many` runs for every job of a batch (10,000 jobs must stay cheap): per-row f-strings over columns
turned into plain lists once. `render` (one job, for the LLM path and POST /explain) calls the same per-row
functions, so the two always agree.
"""

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from xai.carbon import carbon_clause, pool_energy_clause
from xai.causes import KINDS, STANDING, Cause, cause_sentence, late_sentence


class DecisionFacts(NamedTuple):
    """Everything needed to explain one placement; per-server tuples follow `pool` order.

    A NamedTuple rather than a frozen dataclass: a batch builds one per job, and tuple construction is
    several times cheaper than a frozen dataclass's per-field __setattr__.
    """

    job_id: int
    priority: str
    """The job's tier: "green" | "balanced" | "performance"."""
    latency: str | None
    """The job's latency need: "low" | "medium" | "high", or None when not given."""
    chosen: str
    """Name of the server the job was placed on, e.g. "Server 2"."""
    pool: tuple[str, ...]
    """The tier pool's server names, in order."""
    final: tuple[float, ...]
    """Weighted quality score per pool server, 0..1."""
    perf: tuple[float, ...]
    """Performance score per pool server, min-max normalised over the pool (1 = most compute)."""
    cost: tuple[float, ...]
    """Cost score per pool server (1 = cheapest in pool)."""
    co2: tuple[float, ...]
    """CO2 score per pool server (1 = least CO2 in pool)."""
    lat: tuple[float, ...]
    """Latency score per pool server (1 = fastest)."""
    weights: tuple[float, float, float, float]
    """Tier weights for (perf, cost, co2, lat)."""
    loads: tuple[int, ...]
    """Jobs already placed on each pool server in this session, before this job."""
    q_values: tuple[float, ...]
    """The RL agent's Q-value per pool server: its estimate of discounted return."""
    explored: bool
    """True when epsilon-greedy picked a random server instead of the best Q."""
    carbon_factor: float
    """Carbon factor at decision time, 0..1 (the agent's feature)."""
    carbon_band: str
    """The decision's carbon band, "low" | "medium" | "high", on the scale `band_scale` names."""
    energy_kwh: float
    """Energy of the job on the chosen server."""
    co2_kg: float
    """CO2 of the job on the chosen server."""
    price_cost: float
    """Cost of the job on the chosen server, in currency units."""
    intensity_g_per_kwh: float = float("nan")
    """Grid sessions: the chosen server's zone's latest reading before submission, gCO2eq/kWh (what the band
    compares); NaN for the proxy."""
    when: str = ""
    """The "When:" sentence (xai.when.describe) of a grid decision: when and how it runs; empty otherwise."""
    cause: Cause | None = None
    """Why the choice went where it did (xai.causes); None for facts built without it."""
    band_scale: str = ""
    """The scale `carbon_band` was read on, with its thresholds (xai.carbon.scale_text)."""
    zone: str | None = None
    """Grid sessions: the chosen server's grid zone."""
    pool_energy_kwh: tuple[float, ...] = ()
    """kWh the job would use on each pool server, run now."""
    least_energy: tuple[str, float] = ("", float("nan"))
    """The fleet server on which the job would use the least energy, run now, and that energy."""
    given: str = ""
    """Whose figure the energy or CO2 is (xai.carbon.GIVEN): "" the model's, "energy" or "co2" the job's own."""


class TierColumns(NamedTuple):
    """m decisions of one tier, column-wise: what render_many reads, and DecisionFacts row by row (facts_of).
    Positions (chosen, rival, greedy, terms) index the pool; F = pool size + 4 features."""

    priority: str
    pool: tuple[str, ...]
    weights: tuple[float, float, float, float]
    features: tuple[str, ...]  # (F,) labels (xai.causes.feature_labels)
    job_id: np.ndarray
    latency: list[str | None]
    chosen: np.ndarray
    parts: np.ndarray  # (m, 5, P) perf, cost, co2, lat, final
    loads: np.ndarray  # (m, P)
    q_values: np.ndarray  # (m, P)
    explored: np.ndarray
    standing: np.ndarray  # (m,) xai.causes TOP / TIE / AGENT
    rival: np.ndarray  # (m,) -1: none
    greedy: np.ndarray
    metric: np.ndarray  # (m,) -1: none
    terms: np.ndarray  # (m, 2) feature indices, -1: none
    phi: np.ndarray  # (m, F)
    contributions: np.ndarray  # (m, F)
    static: np.ndarray  # (m, 4) carbon factor, price, cpu, memory as given
    allowed: np.ndarray  # (m, P) bool
    late: np.ndarray  # (m, P) bool
    pool_energy_kwh: np.ndarray  # (m, P)
    least_server: list[str]
    least_kwh: np.ndarray
    carbon_factor: np.ndarray
    carbon_band: list[str]
    band_scale: list[str]
    intensity_g_per_kwh: np.ndarray  # NaN in reference sessions
    zone: list[str | None]
    energy_kwh: np.ndarray
    co2_kg: np.ndarray
    price_cost: np.ndarray
    when: list[str]
    given: list[str] | None = None  # xai.carbon.GIVEN per row; None: the model's figures throughout


_POOL_REASON = {
    "green": "the fleet's smallest servers by CPU",
    "balanced": "its mid-sized servers",
    "performance": "its largest servers by CPU",
}
_TIER_FOCUS = {
    "green": "weighting CO2 40%, cost 25%, latency 25% and performance 10%",
    "balanced": "weighting performance, cost, CO2 and latency equally",
    "performance": "weighting performance 40%, latency 40%, cost 10% and CO2 10%",
}


def tier_summary(priority: str, pool: tuple[str, ...]) -> str:
    """One sentence on what a tier pool means, for when no decision record exists."""
    reason = _POOL_REASON.get(priority, "a fixed group of servers")
    focus = _TIER_FOCUS.get(priority, "using that tier's weights")
    return f"{priority.capitalize()} jobs only run in the {priority} pool ({', '.join(pool)}), {reason}, {focus}."


@lru_cache(maxsize=256)
def _opening(priority: str, latency: str | None, pool: tuple[str, ...]) -> str:
    """The first sentence after "Job N", up to what the job would use on the pool (a handful of distinct
    values in practice, so cached)."""
    need = "" if latency is None else f" and {latency} latency needs"
    reason = _POOL_REASON.get(priority, "a fixed group of servers")
    return f" has {priority} priority{need}, so it was restricted to the {priority} pool ({', '.join(pool)}), {reason}"


def render(facts: DecisionFacts) -> str:
    """A 3-5 sentence explanation of why `facts.chosen` got the job; same facts give the same text."""
    return placement_text(facts) + setting_text(facts)


def setting_text(facts: DecisionFacts) -> str:
    """The explanation's end: the carbon clause and, in grid sessions, the "When:" sentence (with their
    leading spaces). The LLM's answer, which is reused for other jobs, is followed by this job's own."""
    f = facts
    when = f" {f.when}" if f.when else ""
    carbon = carbon_clause(
        f.carbon_band, f.carbon_factor, f.intensity_g_per_kwh, f.zone, f.band_scale, f.chosen, f.energy_kwh, f.co2_kg, f.given
    )
    return carbon + when


def placement_text(facts: DecisionFacts) -> str:
    """The explanation up to its carbon clause: the pool, what the job would use on it, and the cause."""
    f = facts
    energy = f.pool_energy_kwh or (float("nan"),)
    opening = _opening(f.priority, f.latency, f.pool) + pool_energy_clause(f.pool, min(energy), max(energy), *f.least_energy, f.given)
    c = f.cause
    try:
        i = f.pool.index(f.chosen)
        assert c is not None
        rival = -1 if c.rival is None else f.pool.index(c.rival)
        parts = (f.perf, f.cost, f.co2, f.lat)
        m = c.metric
        metric = (m, parts[m][i], parts[m][rival], f.weights[m]) if m >= 0 else (-1, 0.0, 0.0, 0.0)
        amounts = (*f.loads, *c.static)
        terms = [x for j in (*c.terms, -1, -1)[:2] for x in ((j, amounts[j], c.contributions[j]) if j >= 0 else (-1, 0.0, 0.0))]
        standing = STANDING.get(c.standing, 0)
        cause = cause_sentence(
            f.pool, i, standing, rival, f.pool.index(c.greedy), f.explored, list(f.final), list(f.q_values), metric, tuple(terms)
        )
    except (ValueError, IndexError, AssertionError):
        # Inconsistent facts (chosen outside the pool, short tuples, no cause) still get a truthful text.
        return f"Job {f.job_id}{opening} {f.chosen} was chosen."
    return f"Job {f.job_id}{opening}{cause}{late_sentence(c.late)}"


def render_many(cols: TierColumns) -> list[str]:
    """render() for m jobs of one tier at once, from columns (see TierColumns): the per-row choices of
    values (the metric's scores, the named terms) are made with numpy, the text by the same functions."""
    m = len(cols.chosen)
    every = np.arange(m)
    names = np.array(cols.pool, dtype=object)
    late: list[list[str]] = [[]] * m
    for r in np.flatnonzero(cols.late.any(axis=1)).tolist():  # few rows: only jobs with a deadline
        late[r] = names[cols.late[r]].tolist()
    opening = [_opening(cols.priority, latency, cols.pool) for latency in cols.latency]
    given = cols.given or [""] * m
    lo, hi = cols.pool_energy_kwh.min(axis=1).tolist(), cols.pool_energy_kwh.max(axis=1).tolist()
    energy = zip(lo, hi, cols.least_server, cols.least_kwh.tolist(), given)
    carbon = zip(cols.carbon_band, cols.carbon_factor.tolist(), cols.intensity_g_per_kwh.tolist(), cols.zone, cols.band_scale)
    metric = np.maximum(cols.metric, 0)
    rival = np.maximum(cols.rival, 0)
    scores = np.column_stack(
        (cols.metric, cols.parts[every, metric, cols.chosen], cols.parts[every, metric, rival], np.asarray(cols.weights)[metric])
    )
    named = np.maximum(cols.terms, 0)
    amounts = np.take_along_axis(np.hstack((cols.loads, cols.static)), named, axis=1)
    values = np.take_along_axis(cols.contributions, named, axis=1)
    terms = np.stack((cols.terms, amounts, values), axis=2).reshape(m, 6)
    cause = zip(
        cols.chosen.tolist(),
        cols.standing.tolist(),
        cols.rival.tolist(),
        cols.greedy.tolist(),
        cols.explored.tolist(),
        cols.parts[:, 4].tolist(),
        cols.q_values.tolist(),
        [(int(row[0]), *row[1:]) for row in scores.tolist()],
        map(tuple, terms.tolist()),
    )
    rows = zip(cols.job_id.tolist(), opening, energy, cause, late, carbon, cols.energy_kwh.tolist(), cols.co2_kg.tolist(), cols.when, given)
    return [_row(cols.pool, *row) for row in rows]


def _row(
    pool: tuple[str, ...],
    job: int,
    opening: str,
    energy: tuple,
    cause: tuple,
    late: list[str],
    carbon: tuple,
    kwh: float,
    co2: float,
    when: str,
    given: str,
) -> str:
    """One row of render_many: the same per-row functions, in the same order, as render()."""
    because = cause_sentence(pool, *cause)
    place = carbon_clause(*carbon, pool[cause[0]], kwh, co2, given)
    text = f"Job {job}{opening}{pool_energy_clause(pool, *energy)}{because}{late_sentence(late)}{place}"
    return f"{text} {when}" if when else text


def facts_of(cols: TierColumns) -> list[DecisionFacts]:
    """The columns as one DecisionFacts per row (the LLM path and POST /explain read these)."""
    pool = cols.pool
    out = []
    for r in range(len(cols.chosen)):
        rival = int(cols.rival[r])
        standing = int(cols.standing[r])
        cause = Cause(
            KINDS[0 if rival < 0 else 1 if cols.explored[r] else standing],
            "" if rival < 0 else KINDS[standing],
            None if rival < 0 else pool[rival],
            pool[int(cols.greedy[r])],
            int(cols.metric[r]),
            tuple(j for j in cols.terms[r].tolist() if j >= 0),
            cols.features,
            tuple(cols.phi[r].tolist()),
            tuple(cols.contributions[r].tolist()),
            tuple(cols.static[r].tolist()),  # type: ignore[arg-type]
            tuple(cols.allowed[r].tolist()),
            tuple(pool[k] for k in np.flatnonzero(cols.late[r]).tolist()),
        )
        p = cols.parts[r].tolist()
        out.append(
            DecisionFacts(
                int(cols.job_id[r]),
                cols.priority,
                cols.latency[r],
                pool[int(cols.chosen[r])],
                pool,
                tuple(p[4]),
                tuple(p[0]),
                tuple(p[1]),
                tuple(p[2]),
                tuple(p[3]),
                cols.weights,
                tuple(cols.loads[r].tolist()),
                tuple(cols.q_values[r].tolist()),
                bool(cols.explored[r]),
                float(cols.carbon_factor[r]),
                cols.carbon_band[r],
                float(cols.energy_kwh[r]),
                float(cols.co2_kg[r]),
                float(cols.price_cost[r]),
                float(cols.intensity_g_per_kwh[r]),
                cols.when[r],
                cause,
                cols.band_scale[r],
                cols.zone[r],
                tuple(cols.pool_energy_kwh[r].tolist()),
                (cols.least_server[r], float(cols.least_kwh[r])),
                cols.given[r] if cols.given else "",
            )
        )
    return out
