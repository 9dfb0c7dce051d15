"""Every sentence true: each explanation of a 10,000-job reference run and a 10,000-job grid run is parsed back
into its claims, and every claim is re-derived from the record, independently of the code that wrote it.

Re-derived here: the servers each job could take (the deadline rule), the server the choice is explained
against (the best-scored other one), the agent's per-feature terms (the recorded weight gap times phi rebuilt
from the loads and the job, checked to add up to the recorded Q-values' difference), the kind of cause
(exploration, best quality, tie, or the agent's values against the better score), the metric behind a lead,
the two largest terms, the pool's energy for the job, the band on its one scale, the When sentence's band and
the `carbon_band` field. Every name must be the right server, metric or feature and every figure the right
value at its printed precision. A text that does not parse whole fails. The texts are parsed once; the
figures are then compared with their values all at once.
"""

import dataclasses
import re

import numpy as np
import orjson
import pytest

from scheduler.core.job_batch import JobBatch
from scheduler.core.scoring import TIER_WEIGHTS
from scheduler.core.states import BANDS
from scheduler.service import decisions
from scheduler.service.facts import explanations
from scheduler.service.rows import row_detail
from scheduler.service.sessions import Session

N = 10_000
TIE = 1e-9
"""Quality scores this close are equal (min-max normalisation ties exactly, give or take rounding): a tie."""
S = r"Server \d+"
F = r"-?\d+\.\d+(?:e-\d+)?"  # a printed figure
TERM = (
    rf"the (?:load on ({S}), (\d+) jobs?|(carbon factor), ({F})|(energy price), ([\d.e+-]+)|job's (cpu|memory), ([\d.e+-]+))"
    rf" \(\+({F})\)"
)
TERMS = "(?:, the largest terms? in its favour being {0}(?: and {0})?)?".format(re.sub(r"(?<!\\)\((?!\?)", "(?:", TERM))
STANDING = (
    rf"(?:(?P<c3>{S}) has the best quality score of the servers the job could take, (?P<x1>{F}) \((?P<r1>{S}): (?P<y1>{F})\)"
    rf"|(?P<c4>{S}) ties with (?P<r2>{S}) for the best quality score \((?P<x2>{F})\)"
    rf"|(?P<r3>{S}) scored (?P<d3>{F}) higher on quality \((?P<y3>{F}) against (?P<x3>{F}) for (?P<c5>{S})\))"
)
Q_TIE = r"ties go to the first server in pool order, "
CAUSES = {
    "only": (
        rf" (?P<c>{S}) was chosen with a quality score of (?P<x>{F}): it is the only server"
        r" (?:in the pool|of its pool that could finish by the deadline)\."
        r"(?: The agent was on an exploration step, with no other server to pick\.)?"
    ),
    "explored": (
        rf" (?P<c>{S}) was picked at random: this was an exploration step, which the agent takes on a small share of jobs to keep"
        r" learning, and (?:its own choice would have been the same server"
        rf"|without exploring it would have chosen (?P<g>{S}) \(Q (?P<qg>{F}) against (?P<qa>{F}) for (?P<c2>{S})\))\. {STANDING}\."
    ),
    "top": (
        rf" (?P<c>{S}) was chosen and has the best quality score of the servers the job could take, (?P<x>{F}) against (?P<y>{F})"
        rf" for the runner-up, (?P<r>{S}) \((?P<lead>{F}) ahead\), above all for its (?P<metric>performance|cost|CO2|latency) score"
        rf" \((?P<own>{F}) against (?P<other>{F}), weighted (?P<w>\d+)%: \+(?P<wl>{F})\)\. The agent's learned values"
        rf" (?:rated it higher too \(Q (?P<qa>{F}) against (?P<qr>{F}) for (?P<r2>{S})\)"
        rf"|tie for the two \(Q (?P<qt>{F})\), and {Q_TIE}(?P<c2>{S}))\."
    ),
    "tie": (
        rf" (?P<c>{S}) and (?P<r>{S}) tie for the best quality score of the servers the job could take \((?P<x>{F})\)"
        rf"(?:; the agent's learned values broke the tie, rating (?P<c2>{S}) (?P<dq>{F}) higher"
        rf" \(Q (?P<qa>{F}) against (?P<qr>{F})\)(?P<terms>{TERMS})"
        rf"|, and so do the agent's learned values \(Q (?P<qt>{F})\): {Q_TIE}(?P<c3>{S}))\."
    ),
    "agent": (
        rf" (?P<r>{S}) had the better quality score \((?P<y>{F}) against (?P<x>{F}) for (?P<c>{S}), (?P<deficit>{F}) more\),"
        rf" but the agent's learned values (?:rated (?P<c2>{S}) (?P<dq>{F}) higher \(Q (?P<qa>{F}) against (?P<qr>{F})\)(?P<terms>{TERMS})"
        rf"|tie \(Q (?P<qt>{F}) for both\), and {Q_TIE}(?P<c3>{S}))\."
    ),
}
OPENING = (
    r"Job (?P<job>\d+) has (?P<tier>\w+) priority(?: and \w+ latency needs)?, so it was restricted to the \w+ pool \([^)]*\), [^;]+;"
    rf" run now, this job would use (?:(?P<gkwh>{F}) kWh on any server, the energy it gave \(estimated_kwh\)"
    rf"|(?:(?P<each>{F}) kWh on each|(?P<lo>{F})-(?P<hi>{F}) kWh on them),"
    rf" (?:the least in the fleet on (?P<own_least>{S})|against (?P<least_kwh>{F}) kWh on (?P<least>{S}), the least in the fleet))\."
)
LATE = rf" (?P<late>(?:{S}, )*{S}) scored higher but could not finish by the deadline\."
PROXY = (
    rf" The carbon proxy was (?P<band>\w+) \(factor (?P<factor>{F});"
    r" fixed scale of the unitless 0-1 proxy: low below 0\.35, high from 0\.65\);"
)
BAND = r"(?P<band>\w+) band \((?P<scale>[^:]+): low below (?P<blo>\d+), high from (?P<bhi>\d+) gCO2eq/kWh\)"
GRID = (
    rf" The (?P<zone>[\w-]+) grid, which (?P<draws>{S}) draws from, read (?P<g>\d+) gCO2eq/kWh in the hour before submission: the {BAND};"
)
USE = (
    rf" on (?P<on>{S}) the job uses (?P<kwh>{F}) kWh(?P<ge>, from the energy it gave,)? and emits (?P<co2>{F}) kg CO2"
    r"(?P<gc>, the figure it gave \(co2_kg\))?\."
)
WHEN = rf" When: [^;]*?the (?P<zone>[\w-]+) grid's latest reading is (?P<g>\d+) gCO2eq/kWh, {BAND}"


def _plain(pattern: str) -> str:
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


WHOLE = {kind: re.compile(_plain(f"{OPENING}{cause}(?:{LATE})?(?:{PROXY}|{GRID}){USE}(?:{WHEN}.*)?")) for kind, cause in CAUSES.items()}
PARTS = {
    name: re.compile(p)
    for name, p in (("opening", OPENING), ("late", LATE), ("proxy", PROXY), ("grid", GRID), ("use", USE), ("when", WHEN))
}
CAUSE = {kind: re.compile(p) for kind, p in CAUSES.items()}


def close(printed: str, value: float) -> bool:
    """The printed figure is `value` at its printed precision."""
    if "e" in printed:
        return abs(float(printed) - value) <= 0.05 * 10 ** float(printed.split("e")[1]) * 1.0001
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return abs(float(printed) - value) <= 0.5 * 10**-decimals * 1.0001 + 1e-12


class Truth:
    """What each row's explanation must say, re-derived from the record: arrays or lists over all rows."""

    def __init__(self, world, record) -> None:
        fleet, n = world.fleet, len(record)
        self.detail = row_detail(world, record, 0, n)
        self.names = np.array(fleet.names, dtype=object)
        self.chosen = self.names[record.chosen]
        self.kind, self.standing = np.empty(n, object), np.empty(n, object)
        self.rival, self.greedy, self.metric = np.empty(n, object), np.empty(n, object), np.empty(n, object)
        self.x, self.y, self.qa, self.qr, self.qg = (np.zeros(n) for _ in range(5))
        self.own, self.other, self.weight = np.zeros(n), np.zeros(n), np.zeros(n)
        self.terms: list[list[tuple[str, float, float]]] = [[] for _ in range(n)]
        self.late: list[list[str]] = [[] for _ in range(n)]
        self.lo, self.hi = np.zeros(n), np.zeros(n)
        energy = self.detail.metrics.energy_kwh
        self.least, self.least_kwh = self.names[energy.argmin(axis=1)], energy.min(axis=1)
        for tier, pool in enumerate(fleet.pools):
            self._tier(record, tier, pool)

    def _tier(self, record, tier: int, pool: np.ndarray) -> None:
        detail, names = self.detail, self.names
        rows = np.flatnonzero(record.jobs.tier == tier)
        m, size, every = len(rows), len(pool), np.arange(len(rows))
        a = np.searchsorted(pool, record.chosen[rows])
        final, parts, q = detail.parts[rows, 4][:, pool], detail.parts[rows, :4][:, :, pool], record.q_values[rows, :size]
        self.lo[rows], self.hi[rows] = (
            detail.metrics.energy_kwh[rows][:, pool].min(axis=1),
            detail.metrics.energy_kwh[rows][:, pool].max(axis=1),
        )
        deadline, allowed = record.jobs.deadline_min[rows], np.ones((m, size), bool)
        if detail.step.runtime_min is not None:  # run now in FAST mode, the job must finish by its deadline
            allowed = detail.step.runtime_min[rows][:, pool] <= deadline[:, None] + 1e-9
            allowed[np.isnan(deadline) | ~allowed.any(axis=1)] = True
        others = allowed.copy()
        others[every, a] = False
        r = np.where(others.any(axis=1), np.where(others, final, -np.inf).argmax(axis=1), -1)
        assert (np.where(r >= 0, pool[np.maximum(r, 0)], -1) == record.rival[rows]).all(), "the recorded rival is not the best other server"
        rr, has = np.maximum(r, 0), r >= 0
        loads = record.loads_before[rows][:, pool]
        raw = np.column_stack((record.carbon_factor[rows], detail.step.price[rows], record.jobs.cpu[rows], record.jobs.memory[rows]))
        phi = np.hstack((loads / np.maximum(loads.max(axis=1, keepdims=True), 1), 1 - raw[:, :1], raw[:, 1:2], raw[:, 2:] / 100))
        width = record.weight_gap.shape[1] - 4
        terms = np.hstack((record.weight_gap[rows, :size], record.weight_gap[rows, width:])) * phi
        # The terms are the agent's own values: they add up to the difference of the Q-values it recorded.
        np.testing.assert_allclose(terms[has].sum(axis=1), (q[every, a] - q[every, rr])[has], rtol=1e-9, atol=1e-9)
        gap = final[every, a] - final[every, rr]
        standing = np.where(gap > TIE, "top", np.where(gap >= -TIE, "tie", "agent"))
        self.standing[rows] = standing
        self.kind[rows] = np.where(~has, "only", np.where(record.explored[rows], "explored", standing))
        self.rival[rows] = np.where(has, names[pool[rr]], None)
        self.x[rows], self.y[rows], self.qa[rows], self.qr[rows] = final[every, a], final[every, rr], q[every, a], q[every, rr]
        greedy = np.where(allowed, q, -np.inf).argmax(axis=1)
        self.greedy[rows], self.qg[rows] = names[pool[greedy]], q[every, greedy]
        metric = (TIER_WEIGHTS[tier] * (parts[every, :, a] - parts[every, :, rr])).argmax(axis=1)
        self.metric[rows] = np.array(["performance", "cost", "CO2", "latency"], dtype=object)[metric]
        self.own[rows], self.other[rows] = parts[every, metric, a], parts[every, metric, rr]
        self.weight[rows] = TIER_WEIGHTS[tier][metric]
        labels = [f"load on {names[s]}" for s in pool] + ["carbon factor", "energy price", "job's cpu", "job's memory"]
        amounts = np.hstack((loads, raw))
        order = np.argsort(-terms, axis=1, kind="stable")[:, :2]
        late = ~allowed & (final > final[every, a][:, None] + TIE)
        for i, row in enumerate(rows.tolist()):
            self.terms[row] = [(labels[j], amounts[i, j], terms[i, j]) for j in order[i].tolist() if terms[i, j] > 0]
            self.late[row] = [names[pool[k]] for k in np.flatnonzero(late[i]).tolist()]


def check(world, record) -> None:
    """Fails on any explanation of `record` whose claims the record contradicts."""
    texts = explanations(world, record, 0, len(record))
    t = Truth(world, record)
    grid = record.timing is not None
    names: list[tuple[int, str, object, object]] = []  # (row, what, said, record)
    figures: list[tuple[int, str, float]] = []  # (row, printed, value)
    for row, text in enumerate(texts):
        kind = t.kind[row]
        if WHOLE[kind].fullmatch(text) is None:
            raise AssertionError(f"row {row}: not a whole '{kind}' explanation, as the record has it:\n{text}")
        cause = CAUSE[kind].search(text).groupdict()
        names += _cause_claims(row, kind, cause, t, figures)
        names += _setting_claims(row, text, record, t, figures)
    wrong = [f"row {r}: {what} is {said!r}, the record says {truth!r}" for r, what, said, truth in names if said != truth]
    assert not wrong, f"{len(wrong)} names contradict the record:\n" + "\n".join(wrong[:10])
    rows, printed, values = zip(*figures)
    off = [f"row {r}: prints {p}, the record says {v!r}" for r, p, v in zip(rows, printed, values) if not close(p, v)]
    assert not off, f"{len(off)} figures contradict the record:\n" + "\n".join(off[:10])
    assert not any("clean" in text for text in texts)
    if grid:  # the carbon_band field is the band the text gives
        compact = orjson.loads(b"[" + decisions.encode_compact(world, record, 0, len(record), with_text=False) + b"]")
        bands = [PARTS["grid"].search(text)["band"] for text in texts]
        assert [c["carbon_band"] for c in compact] == bands


def _cause_claims(row: int, kind: str, g: dict, t: Truth, figures: list) -> list:
    c, r = g["c"], t.rival[row]
    claims = [(row, "the chosen server", said, t.chosen[row]) for key in ("c", "c2", "c3", "c4", "c5") if (said := g.get(key))]
    claims += [(row, "the server compared with", said, r) for key in ("r2",) if kind == "top" and (said := g.get(key))]
    figures.append((row, g.get("x") or g["x1"] or g["x2"] or g["x3"], t.x[row]))
    if kind == "only":
        return claims
    if kind == "explored":
        if g["g"]:
            claims += [(row, "the agent's own choice", g["g"], t.greedy[row])]
            figures += [(row, g["qg"], t.qg[row]), (row, g["qa"], t.qa[row])]
        else:
            claims.append((row, "the agent's own choice", c, t.greedy[row]))
        said = "top" if g["x1"] else "tie" if g["x2"] else "agent"
        claims += [(row, "the standing on quality", said, t.standing[row]), (row, "the rival", g["r1"] or g["r2"] or g["r3"], r)]
        figures += [(row, y, t.y[row]) for y in (g["y1"], g["y3"]) if y] + ([(row, g["d3"], t.y[row] - t.x[row])] if g["d3"] else [])
        return claims
    claims.append((row, "the server compared with", g["r"], r))
    if kind == "top":
        claims.append((row, "the metric that made the lead", g["metric"], t.metric[row]))
        figures += [
            (row, g["y"], t.y[row]),
            (row, g["lead"], t.x[row] - t.y[row]),
            (row, g["own"], t.own[row]),
            (row, g["other"], t.other[row]),
        ]
        figures += [(row, g["w"], 100 * t.weight[row]), (row, g["wl"], t.weight[row] * (t.own[row] - t.other[row]))]
    if kind == "agent":
        figures += [(row, g["y"], t.y[row]), (row, g["deficit"], t.y[row] - t.x[row])]
    if g["qa"]:
        figures += [(row, g["qa"], t.qa[row]), (row, g["qr"], t.qr[row])]
        figures += [(row, g["dq"], t.qa[row] - t.qr[row])] if g.get("dq") else []
        if kind != "top":
            claims += _term_claims(row, g["terms"] or "", t, figures)
    else:  # the text says the Q-values tie, and the first server in pool order won
        claims.append((row, "a tie in Q", t.qa[row] == t.qr[row], True))
        figures.append((row, g["qt"], t.qa[row]))
    return claims


def _term_claims(row: int, said: str, t: Truth, figures: list) -> list:
    named = re.findall(TERM, said)
    labels = [f"load on {m[0]}" if m[0] else m[2] or m[4] or f"job's {m[6]}" for m in named]
    claims = [(row, "the terms named", labels, [label for label, _, _ in t.terms[row]])]
    for m, (_, amount, value) in zip(named, t.terms[row]):
        figures.append((row, m[8], value))
        figures.append((row, m[1] or m[3] or m[5] or m[7], amount))
    return claims


def _setting_claims(row: int, text: str, record, t: Truth, figures: list) -> list:
    """The pool's energy, the late servers, the band on its scale, the energy and CO2, the When sentence."""
    o = PARTS["opening"].match(text)
    jobs, grid = record.jobs, record.timing is not None
    energy_given = grid and not np.isnan(jobs.estimated_kwh[row])  # grid sessions use a job's own figures
    co2_given = grid and not np.isnan(jobs.co2_kg[row]) and np.isnan(jobs.estimated_kwh[row])
    claims = [(row, "the job", int(o["job"]), int(record.job_ids[row])), (row, "the energy is the job's", bool(o["gkwh"]), energy_given)]
    if o["gkwh"]:  # the same on every server: the job's own figure
        figures += [(row, o["gkwh"], jobs.estimated_kwh[row]), (row, o["gkwh"], t.lo[row]), (row, o["gkwh"], t.hi[row])]
    else:
        claims.append((row, "the least-energy server", o["own_least"] or o["least"], t.least[row]))
        figures += [(row, o["each"] or o["lo"], t.lo[row]), (row, o["each"] or o["hi"], t.hi[row])]
        figures += [(row, o["least_kwh"], t.least_kwh[row])] if o["least_kwh"] else []
    late = PARTS["late"].search(text)
    claims.append((row, "the servers the deadline left out", late["late"].split(", ") if late else [], t.late[row]))
    use = PARTS["use"].search(text)
    claims.append((row, "the server the job runs on", use["on"], t.chosen[row]))
    claims += [(row, "the energy marked given", bool(use["ge"]), energy_given), (row, "the CO2 marked given", bool(use["gc"]), co2_given)]
    figures += [(row, use["kwh"], record.energy_kwh[row]), (row, use["co2"], record.co2_kg[row])]
    figures += [(row, use["co2"], jobs.co2_kg[row])] if co2_given else []
    if record.timing is None:
        p = PARTS["proxy"].search(text)
        cf = record.carbon_factor[row]
        claims.append((row, "the band", p["band"], "low" if cf < 0.35 else "high" if cf >= 0.65 else "medium"))
        return claims + [(row, "the factor", abs(float(p["factor"]) - cf) <= 0.005 + 1e-12, True)]
    timing, bands = record.timing, record.scenario.when.bands
    scale = "fixed scale" if bands.kind == "absolute" else f"percentiles of the zone's last {bands.window_h} h"
    zone = record.scenario.zone_of(int(record.chosen[row]))
    for part in (PARTS["grid"].search(text), PARTS["when"].search(text)):
        if part is None:
            continue
        claims += [
            (row, "the zone", part["zone"], zone),
            (row, "the band", part["band"], BANDS[timing.band[row]]),
            (row, "the scale", part["scale"], scale),
        ]
        figures += [
            (row, part["g"], timing.intensity_now_g[row]),
            (row, part["blo"], timing.band_low_g[row]),
            (row, part["bhi"], timing.band_high_g[row]),
        ]
    return claims


@pytest.mark.parametrize("scenario", ["reference", "grid"])
def test_every_explanation_of_a_10000_job_run_is_true(grid_world, scenario):
    rng = np.random.default_rng(12)
    session = Session("truth", 12, grid_world, 0.0, 0.0, scenario=scenario)
    record = session.run(with_given(grid_jobs(rng, N), np.random.default_rng(13)) if scenario == "grid" else reference_jobs(rng, N))
    assert len(record) == N
    check(grid_world, record)


def grid_jobs(rng: np.random.Generator, n: int) -> JobBatch:
    """Jobs of every urgency, a third with deadlines tight enough that the slowest servers cannot make them."""
    duration = rng.uniform(5, 600, n)
    return JobBatch.of(
        tier=rng.integers(3, size=n).astype(np.int8),
        latency=rng.integers(-1, 3, size=n).astype(np.int8),
        cpu=np.round(rng.uniform(1, 100, n), 1),
        memory=np.round(rng.uniform(1, 100, n), 1),
        duration_min=duration,
        deadline_min=np.where(rng.random(n) < 0.35, duration * rng.uniform(0.8, 3.0, n), np.nan),
        urgency=rng.integers(0, 3, size=n).astype(np.int8),
        interruptible=rng.random(n) < 0.3,
    )


def with_given(jobs: JobBatch, rng: np.random.Generator) -> JobBatch:
    """A tenth of the jobs with their own estimated_kwh, a tenth with co2_kg, a twentieth with both (the sample CSV has both)."""
    n = len(jobs)
    draw = rng.random(n)
    kwh = np.where((draw < 0.1) | (draw >= 0.95), np.round(rng.uniform(0.01, 5.0, n), 3), np.nan)
    co2 = np.where((draw >= 0.1) & (draw < 0.2) | (draw >= 0.95), np.round(rng.uniform(0.001, 2.0, n), 4), np.nan)
    return dataclasses.replace(jobs, estimated_kwh=kwh, co2_kg=co2)


def reference_jobs(rng: np.random.Generator, n: int) -> JobBatch:
    return JobBatch.of(
        tier=rng.integers(3, size=n).astype(np.int8),
        latency=rng.integers(-1, 3, size=n).astype(np.int8),
        cpu=np.round(rng.uniform(1, 100, n)),
        memory=np.round(rng.uniform(1, 100, n)),
    )
