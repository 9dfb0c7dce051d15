"""When and how a job runs: urgency, carbon bands and the FAST / ECO / defer rule, in one place.

The rule is the Carbon-Aware AI Job Orchestrator seed's (seeds/002), applied to the carbon intensity of
the grid the job's server draws from at the job's submission:

- critical jobs run now in FAST mode, whatever the band: never deferred, never slowed;
- low band: run now in FAST mode;
- high band: non-critical jobs run now in ECO mode (lower power, longer runtime), unless ECO would
  finish after the job's deadline, in which case FAST;
- medium band: flexible jobs are deferred to the greenest window (by the forecast) that still meets
  their deadline; everything else runs now in FAST mode.

A decision is taken at the start of the job's submission slot with what is known then: the band compares
the zone's latest reading (the slot before: an hour's mean is known once it ends) with two thresholds,
fixed gCO2/kWh or percentiles of the zone's signal over the last `window_h` hours (so a clean grid such
as Norway still has its own greener and dirtier hours); deferral reads the forecast issued then. Deferral
leaves the mode at FAST: a deferred job has already been moved to a greener hour.
"""

from dataclasses import dataclass

import numpy as np

from scheduler.core import units
from scheduler.core.bands import BandPolicy
from scheduler.core.series import StepSeries, integral, prefix_sums
from scheduler.core.states import (
    CRITICAL,
    DEFER,
    FLEXIBLE,
    HIGH,
    LOW,
    MEDIUM,
    REASON_CRITICAL,
    REASON_DEFERRED,
    REASON_ECO_LATE,
    REASON_HIGH_ECO,
    REASON_LOW,
    REASON_NO_ROOM,
    REASON_NOT_FLEXIBLE,
    REASON_NOW_GREENEST,
    REASON_TOO_SHORT,
    RUN_ECO,
    RUN_FAST,
)
from scheduler.core.timing import Timing, WhenConfig


def action(band: np.ndarray, urgency: np.ndarray, can_wait: np.ndarray) -> np.ndarray:
    """The seed's rule, vectorised: RUN_FAST, RUN_ECO or DEFER per job. `can_wait`: the job has room
    before its deadline to move at all (the planner may still find "now" the greenest)."""
    band, urgency = np.asarray(band), np.asarray(urgency)
    out = np.full(band.shape, RUN_FAST, np.int8)
    out[(band == HIGH) & (urgency != CRITICAL)] = RUN_ECO
    out[(band == MEDIUM) & (urgency == FLEXIBLE) & np.asarray(can_wait)] = DEFER
    return out


EPS_H = units.EPS
"""Tolerance of comparisons between hours."""
MIN_SHIFT_H = 1e-6
"""A job that runs less than this (3.6 ms) is never deferred: waiting cannot save anything, and the
planner does not cut pieces that fine."""
EDGE_CHUNK = 4096
"""Decision slots whose percentile thresholds are computed together (x window_h: 5.5 MB at a week)."""
PLAN_CELLS = 500_000
"""Jobs x forecast slots planned together: bounds the planner's arrays (4 MB each) when windows are long."""


def plan_when(
    config: WhenConfig,
    series: tuple[StepSeries, ...],
    hour: np.ndarray,
    zone: np.ndarray,
    urgency: np.ndarray,
    deadline_min: np.ndarray,
    interruptible: np.ndarray,
    runtime_min: np.ndarray,
    power_fast_w: np.ndarray,
    power_eco_w: np.ndarray,
    eco_slowdown: float,
    rng: np.random.Generator,
) -> Timing:
    """Decide when and how each job runs, on the hourly `series` of each job's zone (the clock wraps
    round them), from its submission `hour`. Emissions are measured on the actual series; choices use
    only what is known at the start of the submission slot: the band the latest reading (the slot
    before), the deferral the forecast (scheduler.timeshift.forecast) issued then.

    runtime_min and the powers are the job's on its chosen server, in FAST mode (ECO runs
    eco_slowdown times longer at power_eco_w)."""
    n = len(hour)
    slot = np.floor(hour).astype(np.int64)
    now_g, low, high = _readings(config.bands, series, slot, zone)
    band = config.bands.band(now_g, low, high)
    run_h = runtime_min / 60.0
    deadline_h = hour + deadline_min / 60.0
    no_deadline = np.isnan(deadline_h) & (urgency == FLEXIBLE)
    deadline_h[no_deadline] = hour[no_deadline] + run_h[no_deadline] + config.flexible_slack_h
    too_short = run_h < MIN_SHIFT_H
    can_wait = (deadline_h - hour > run_h + EPS_H) & ~too_short
    act = action(band, urgency, can_wait)
    reason = np.select(
        [urgency == CRITICAL, band == LOW, band == HIGH, urgency != FLEXIBLE, too_short, ~can_wait],
        [REASON_CRITICAL, REASON_LOW, REASON_HIGH_ECO, REASON_NOT_FLEXIBLE, REASON_TOO_SHORT, REASON_NO_ROOM],
        REASON_DEFERRED,
    ).astype(np.int8)
    eco_late = (act == RUN_ECO) & (hour + run_h * eco_slowdown > deadline_h + EPS_H)
    act[eco_late], reason[eco_late] = RUN_FAST, REASON_ECO_LATE
    mode = (act == RUN_ECO).astype(np.int8)
    start = hour.copy()
    finish = hour + np.where(mode == 1, run_h * eco_slowdown, run_h)
    power = np.where(mode == 1, power_eco_w, power_fast_w)
    forecast_g = np.full(n, np.nan)
    saved = np.zeros(n)
    rows = np.flatnonzero(act == DEFER)
    plan = _defer(config, series, hour[rows], zone[rows], run_h[rows], deadline_h[rows], interruptible[rows], power_fast_w[rows], rng)
    forecast_g[rows] = plan.forecast_g
    stay = rows[~plan.moved]
    act[stay], reason[stay] = RUN_FAST, REASON_NOW_GREENEST
    moved = rows[plan.moved]
    start[moved], finish[moved], saved[moved] = plan.start[plan.moved], plan.finish[plan.moved], plan.saved_kg[plan.moved]
    runs = {int(rows[i]): pieces for i, pieces in plan.runs.items()}
    co2 = np.empty(n)
    co2_now = np.empty(n)
    for z in np.unique(zone).tolist():
        rows = np.flatnonzero(zone == z)
        integral = series[z].integral
        co2_now[rows] = units.co2_kg_of_area(power_fast_w[rows], integral(hour[rows] + run_h[rows]) - integral(hour[rows]))
        co2[rows] = units.co2_kg_of_area(power[rows], integral(finish[rows]) - integral(start[rows]))
    if runs:  # interrupted: only the pieces count
        piece_row = np.repeat(np.fromiter(runs, np.intp, len(runs)), [len(p) for p in runs.values()])
        a, b = np.array([ab for pieces in runs.values() for ab in pieces]).T
        area = np.empty(len(piece_row))
        for z in np.unique(zone[piece_row]).tolist():
            k = zone[piece_row] == z
            area[k] = series[z].integral(b[k]) - series[z].integral(a[k])
        interrupted = np.unique(piece_row)
        co2[interrupted] = units.co2_kg_of_area(power, np.bincount(piece_row, area, n))[interrupted]
    # ECO's expected saving: the energy it saves, at the intensity known at submission.
    eco = mode == 1
    saved[eco] = units.co2_kg_of_area(power_fast_w[eco] * run_h[eco] - power_eco_w[eco] * run_h[eco] * eco_slowdown, now_g[eco])
    run_min = np.where(mode == 1, runtime_min * eco_slowdown, runtime_min)
    energy_kwh = units.kwh(power, run_min)
    intensity = np.where(energy_kwh > 0, co2 * 1e3 / np.where(energy_kwh > 0, energy_kwh, 1.0), now_g)
    return Timing(
        band,
        low,
        high,
        now_g,
        act,
        reason,
        mode,
        start,
        finish,
        deadline_h,
        co2_now,
        saved,
        forecast_g,
        energy_kwh,
        run_min,
        co2,
        intensity,
        runs,
    )


def latest_readings(
    bands: BandPolicy, series: tuple[StepSeries, ...], hour: np.ndarray, zone: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What plan_when bands a job submitted at `hour` in `zone` with: the zone's latest reading, the thresholds
    in force, and the band code (the same rule for the page's carbon badge as for every decision)."""
    now_g, low, high = _readings(bands, series, np.floor(np.asarray(hour, dtype=np.float64)).astype(np.int64), np.asarray(zone))
    return now_g, low, high, bands.band(now_g, low, high)


def _readings(
    bands: BandPolicy, series: tuple[StepSeries, ...], slot: np.ndarray, zone: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per job: the zone's latest reading at the start of its decision slot (the slot before: the
    current hour's mean is not known until it ends) and the band thresholds in force then; each
    distinct (zone, slot) is computed once, EDGE_CHUNK slots at a time (the history array is
    (slots, window_h))."""
    now_g, low, high = np.empty(len(slot)), np.empty(len(slot)), np.empty(len(slot))
    for z in np.unique(zone).tolist():
        rows = np.flatnonzero(zone == z)
        values = series[z].values
        slots, at = np.unique(slot[rows], return_inverse=True)
        lo, hi = np.empty(len(slots)), np.empty(len(slots))
        for i in range(0, len(slots), EDGE_CHUNK):
            part = slice(i, i + EDGE_CHUNK)
            lo[part], hi[part] = bands.edges(values, slots[part])
        now_g[rows] = np.take(values, slots - 1, mode="wrap")[at]
        low[rows], high[rows] = lo[at], hi[at]
    return now_g, low, high


@dataclass(frozen=True)
class _Deferral:
    """The planner's choice for m jobs; start and finish in clock hours."""

    moved: np.ndarray  # (m,) bool: the start moved, or the job runs in pieces
    start: np.ndarray  # (m,)
    finish: np.ndarray  # (m,)
    forecast_g: np.ndarray  # (m,) forecast mean intensity over the chosen hours
    saved_kg: np.ndarray  # (m,) forecast emissions of running now minus the plan's
    runs: dict[int, tuple[tuple[float, float], ...]]  # position -> pieces, interrupted jobs only


def _defer(
    config: WhenConfig,
    series: tuple[StepSeries, ...],
    hour: np.ndarray,
    zone: np.ndarray,
    run_h: np.ndarray,
    deadline_h: np.ndarray,
    interruptible: np.ndarray,
    power_w: np.ndarray,
    rng: np.random.Generator,
) -> _Deferral:
    """The greenest start (or pieces, when interruptible) of each job before its deadline, by the
    forecast issued at its submission slot: one forecast per zone over the batch's hours, and the
    jobs planned together (scheduler.timeshift.planner.plan), in groups of at most PLAN_CELLS (jobs x slots)."""
    from scheduler.timeshift import forecast as forecasts  # these load with the first grid batch, not at start-up
    from scheduler.timeshift import planner

    m = len(hour)
    start, finish, forecast_g, saved = hour.copy(), hour + run_h, np.full(m, np.nan), np.zeros(m)
    moved, runs = np.zeros(m, bool), {}
    for z in np.unique(zone).tolist():
        rows = np.flatnonzero(zone == z)
        # Local slots: the excerpt starts a day before the first submission slot (persistence reads
        # it) and covers every deadline; it wraps round the series as the clock does.
        base = int(np.floor(hour[rows]).min()) - 24
        excerpt = np.take(series[z].values, np.arange(base, int(np.ceil(deadline_h[rows].max()))), mode="wrap")
        fc = forecasts.make_forecast(
            config.forecast, excerpt, error=config.forecast_error, rng=rng, period_slots=24, scale=series[z].mean_value
        )
        for group in _groups(rows, np.ceil(deadline_h[rows]) - np.floor(hour[rows]), planner.CHUNK):
            jobs = planner.PlanJobs(group, hour[group] - base, run_h[group], deadline_h[group] - base, interruptible[group], power_w[group])
            plan = planner.plan(excerpt, jobs, fc)
            first = np.searchsorted(plan.run_job, np.arange(len(group)))
            count = np.diff(np.r_[first, len(plan.run_job)])
            last = first + count - 1
            # Forecast g x h of running now and of the plan, from the window each job was decided on.
            s = np.floor(jobs.submit).astype(np.int64)
            window = forecasts.gather_windows(fc, s, int((np.ceil(jobs.deadline) - s).max()))  # (g, L)
            window_cum, each = prefix_sums(window), np.arange(len(group))
            now = integral(window_cum, window, jobs.submit - s + jobs.duration, rows=each) - integral(
                window_cum, window, jobs.submit - s, rows=each
            )
            job = plan.run_job
            ran = integral(window_cum, window, plan.run_end - s[job], rows=job) - integral(
                window_cum, window, plan.run_start - s[job], rows=job
            )
            planned = np.bincount(job, ran, len(group))
            forecast_g[group] = planned / jobs.duration
            shift = (count > 1) | (plan.run_start[first] > jobs.submit + EPS_H)
            moved[group] = shift
            start[group] = np.where(shift, plan.run_start[first] + base, start[group])
            finish[group] = np.where(shift, plan.run_end[last] + base, finish[group])
            saved[group] = np.where(shift, units.co2_kg_of_area(jobs.power_w, now - planned), 0.0)
            for i in np.flatnonzero(count > 1).tolist():
                lo, hi = first[i], first[i] + count[i]
                runs[int(group[i])] = tuple(zip((plan.run_start[lo:hi] + base).tolist(), (plan.run_end[lo:hi] + base).tolist()))
    return _Deferral(moved, start, finish, forecast_g, saved, runs)


def _groups(rows: np.ndarray, span: np.ndarray, chunk: int) -> list[np.ndarray]:
    """`rows` by window length `span` (slots), in groups of at most `chunk` rows and PLAN_CELLS rows x slots."""
    order = np.argsort(span, kind="stable")
    rows, span = rows[order], span[order]
    groups, lo = [], 0
    while lo < len(rows):
        widest = span[min(lo + chunk, len(rows)) - 1]  # spans rise: no row of the group is wider
        size = max(1, min(chunk, int(PLAN_CELLS // max(widest, 1.0))))
        groups.append(rows[lo : lo + size])
        lo += size
    return groups
