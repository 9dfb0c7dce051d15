"""The deferral study's jobs on a region's grid, the schedules its strategies make, and their metrics.

**Jobs.** Lengths and cpu from the workload (the task trace, or GAIA's Azure sample: its real lengths);
arrivals are mapped linearly onto [start, start + span_h] (the task trace has no times of its own, and a
trace's clock has no time of day that would match a grid's), the same jobs in every region. Each job is
critical, normal or flexible (`urgency_mix`), and a flexible one interruptible with
`interruptible_share`, drawn from the run's seed. Deadlines (latest finish): critical = submit + FAST
runtime (no room at all); normal = submit + ECO runtime (they may be slowed, never deferred); flexible =
submit + FAST runtime + slack_h. Every deadline is feasible: FAST at submit meets it. A region's study
window (`place`) is `start` (default: its series start plus the history the bands need,
max(band_window_h, 24) h) through the last deadline; a window outside the series is a ValueError naming
both.

**Energy.** Every job runs on the fleet's middle server (Server 5 in the shipped fleet: 16 cores at
cpu_rate 2.4, the energy model's reference machine, so a job's runtime is its base runtime); its power
in each mode is `energy.power_w` there, ECO's runtime is FAST's x ECO.slowdown. No capacity limit: the
study isolates *when*; contention is the placement study's subject.

**Schedules.** `threshold_modes` is the seed's rule (`timeshift.action`) on what is known at the start of
the decision slot s: the band of the latest published reading (slot s - 1) against thresholds from the
history before s. `build_outcome` runs the jobs not moved at submit in their mode and the moved ones
where `planner.plan` puts them with a forecast (scheduler/timeshift/forecast.py: actual values before s, a
forecast from s on).

**Metrics** (`measure`) per schedule: co2_kg on the actual signal (integrated over the runs),
deadline_misses among feasible_deadlines, delay (finish - (submit + FAST runtime)) mean and p95 in
minutes, energy_kwh, cost (energy x the price of each slot), deferred_jobs (started later or
interrupted), eco_jobs, critical_moved (deferred or slowed).
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scheduler.core import bands, states
from scheduler.core.energy import ECO, MODES, build_machines, power_w, runtime_min
from scheduler.core.fleet import Fleet
from scheduler.core.series import area
from scheduler.data import workloads
from scheduler.data.carbon_series import CarbonSeries, iso
from scheduler.data.power_curves import load_power_curve
from scheduler.sim.config import DeferralConfig
from scheduler.timeshift import planner
from scheduler.timeshift import policy as timeshift
from scheduler.timeshift.forecast import Forecast

CHUNK_JOBS = 2_000
"""Jobs planned per planner call: progress and cancel() are checked between chunks."""
EDGE_CHUNK = 2_048
"""Decision slots whose band thresholds are computed together (x the window: 33 MB at 5-min slots)."""
TOL_SLOTS = 1e-6
"""Slack in slot arithmetic (float sums of minutes / step) below which a time counts as on time."""


@dataclass(frozen=True)
class Jobs:
    """The study's jobs, the same in every region; times in minutes from the first arrival."""

    arrival_min: np.ndarray  # (n,)
    fast_min: np.ndarray  # (n,) runtime in FAST
    deadline_min: np.ndarray  # (n,) latest finish, from the first arrival
    urgency: np.ndarray  # (n,) int8, states.URGENCIES
    interruptible: np.ndarray  # (n,) bool
    power_w: np.ndarray  # (n, 2) watts in FAST and ECO (energy.MODES order)

    def __len__(self) -> int:
        return len(self.arrival_min)


@dataclass(frozen=True)
class Frame:
    """The jobs on one region's slot grid."""

    submit: np.ndarray  # (n,) slots
    fast: np.ndarray  # (n,) FAST runtime in slots
    deadline: np.ndarray  # (n,) slots
    step_min: int


@dataclass(frozen=True)
class Outcome:
    """A schedule: each job's mode and its runs [a, b) in slots (a job has one run unless interrupted)."""

    mode: np.ndarray  # (n,) int8 index into MODES
    job: np.ndarray  # (r,) job of each run
    a: np.ndarray  # (r,)
    b: np.ndarray  # (r,)


def build_jobs(config: DeferralConfig, fleet: Fleet, streams: list[np.random.Generator], data_dir: Path) -> Jobs:
    """The jobs from the workload's stream (streams[0]) and the urgency draws' (streams[1])."""
    n = config.jobs
    if config.workload == "task":
        wl = workloads.task_trace(data_dir, n, fleet, streams[0])
    else:
        wl = workloads.gaia(config.workload, n, fleet, streams[0], data_dir)
    span = float(wl.arrival_min[-1] - wl.arrival_min[0])
    arrival = (wl.arrival_min - wl.arrival_min[0]) * (config.span_h * 60.0 / span if span > 0 else 0.0)
    curve = load_power_curve(data_dir) if config.power_curve == "specpower" else None
    machines, work, server = (build_machines(fleet, curve), wl.work(), fleet.n_servers // 2)
    fast = runtime_min(machines, work)[:, server]
    power = np.stack([power_w(machines, work, mode)[:, server] for mode in MODES], axis=1)
    urgency = streams[1].choice(3, size=n, p=np.asarray(config.urgency_mix) / sum(config.urgency_mix)).astype(np.int8)
    interruptible = (streams[1].random(n) < config.interruptible_share) & (urgency == states.FLEXIBLE)
    room = np.select([urgency == states.CRITICAL, urgency == states.NORMAL], [fast, fast * ECO.slowdown], fast + config.slack_h * 60.0)
    return Jobs(arrival, fast, arrival + room, urgency, interruptible, power)


def place(jobs: Jobs, series: CarbonSeries, start: np.datetime64 | None, history_h: int) -> tuple[Frame, np.datetime64]:
    """The jobs on the region's grid from `start` (default: the series start + history_h, on the hour);
    ValueError unless history before and every deadline after fit inside the series."""
    if start is None:
        earliest = series.start + np.timedelta64(history_h * 60, "m")
        first = np.datetime64(earliest, "h") + np.timedelta64(int(earliest > np.datetime64(earliest, "h")), "h")  # on the hour
    else:
        first = np.datetime64(start, "m")
    s0, step = float(series.slot_of(first)), series.step_min
    frame = Frame(s0 + jobs.arrival_min / step, jobs.fast_min / step, s0 + jobs.deadline_min / step, step)
    need_from = first - np.timedelta64(history_h * 60, "m")
    need_to = series.time_of(float(np.ceil(frame.deadline.max())) if len(jobs) else s0)
    if need_from < series.start or need_to > series.end:
        raise ValueError(
            f"{series.name}: the study needs {iso(need_from)} .. {iso(need_to)} ({history_h} h of history, then the jobs' deadlines) "
            f"inside its series, {iso(series.start)} .. {iso(series.end)}; choose another start or a shorter span_h / slack_h"
        )
    return frame, first


def threshold_modes(config: DeferralConfig, jobs: Jobs, frame: Frame, actual: np.ndarray) -> np.ndarray:
    """timeshift.action for every job: the band of the latest reading against the band policy's
    thresholds over the band window (in slots) before the decision slot."""
    policy = bands.BandPolicy.parse(config.bands, config.band_window_h)
    window = int(np.ceil(policy.window_h * 60 / frame.step_min))
    in_slots = bands.BandPolicy(policy.kind, policy.low, policy.high, window)
    s = np.floor(frame.submit).astype(np.int64)
    decision, row = np.unique(s, return_inverse=True)
    low, high = np.empty(len(decision)), np.empty(len(decision))
    for lo in range(0, len(decision), EDGE_CHUNK):  # bounds the (decisions, window) history array
        part = slice(lo, lo + EDGE_CHUNK)
        low[part], high[part] = in_slots.edges(actual, decision[part])
    band = in_slots.band(actual[decision - 1], low, high)[row]
    can_wait = frame.deadline - frame.submit > frame.fast + TOL_SLOTS
    act = timeshift.action(band, jobs.urgency, can_wait)
    eco_late = frame.submit + frame.fast * ECO.slowdown > frame.deadline + TOL_SLOTS
    act[(act == states.RUN_ECO) & eco_late] = states.RUN_FAST
    return act


def planned(
    frame: Frame, rows: np.ndarray, interruptible: np.ndarray, actual: np.ndarray, forecast: Forecast, tick: Callable[[int], None]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs (job, a, b) of the jobs `rows`, planned with `forecast` in chunks (tick(jobs) after each)."""
    job, a, b = [np.empty(0, np.int64)], [np.empty(0)], [np.empty(0)]
    for lo in range(0, len(rows), CHUNK_JOBS):
        part = rows[lo : lo + CHUNK_JOBS]
        plan_jobs = planner.PlanJobs(
            job_id=part.astype(str),
            submit=frame.submit[part],
            duration=frame.fast[part],
            deadline=frame.deadline[part],
            interruptible=interruptible[lo : lo + CHUNK_JOBS],
            power_w=np.ones(len(part)),
            step_min=float(frame.step_min),
        )
        result = planner.plan(actual, plan_jobs, forecast)
        job.append(part[result.run_job])
        a.append(result.run_start)
        b.append(result.run_end)
        tick(len(part))
    return np.concatenate(job), np.concatenate(a), np.concatenate(b)


def build_outcome(
    frame: Frame,
    mode: np.ndarray,
    moved: np.ndarray,
    interruptible: np.ndarray,
    actual: np.ndarray,
    forecast: Forecast | None,
    tick: Callable[[int], None],
) -> Outcome:
    """Jobs not `moved` run at submit in their `mode`; the `moved` ones (FAST) where the planner puts
    them with `forecast`, as one block or, when `interruptible`, in the cheapest slots."""
    rows = np.flatnonzero(moved)
    assert forecast is not None or not rows.size, "jobs to move need a forecast"
    runs = planned(frame, rows, interruptible[rows], actual, forecast, tick) if forecast is not None else (rows, np.empty(0), np.empty(0))
    tick(len(moved) - rows.size)
    now = np.flatnonzero(~moved)
    length = frame.fast[now] * np.where(mode[now] == 1, ECO.slowdown, 1.0)
    job = np.concatenate([now, runs[0]])
    a = np.concatenate([frame.submit[now], runs[1]])
    b = np.concatenate([frame.submit[now] + length, runs[2]])
    order = np.lexsort((a, job))
    return Outcome(mode.astype(np.int8), job[order], a[order], b[order])


def measure(jobs: Jobs, frame: Frame, out: Outcome, actual: np.ndarray, price: np.ndarray) -> dict[str, float]:
    """Metrics of one schedule; CO2 on the actual signal: W x (g/kWh x h) / 1e6 = kg."""
    n, step_h = len(jobs), frame.step_min / 60.0
    power = jobs.power_w[np.arange(n), out.mode]  # (n,)
    run_power = power[out.job]
    finish = np.full(n, -np.inf)
    np.maximum.at(finish, out.job, out.b)
    first = np.full(n, np.inf)
    np.minimum.at(first, out.job, out.a)
    ran = np.bincount(out.job, weights=out.b - out.a, minlength=n)
    length = frame.fast * np.where(out.mode == 1, ECO.slowdown, 1.0)
    assert np.allclose(ran, length, rtol=1e-9, atol=TOL_SLOTS), "a schedule must run every job for its whole runtime"
    moved = (first > frame.submit + TOL_SLOTS) | (finish > first + length + TOL_SLOTS)
    feasible = frame.deadline >= frame.submit + frame.fast - TOL_SLOTS
    delay = (finish - frame.submit - frame.fast) * frame.step_min
    delay[np.abs(delay) < 1e-6] = 0.0  # float noise of slot arithmetic, not a delay
    critical = jobs.urgency == states.CRITICAL
    return {
        "co2_kg": float((run_power * area(actual, out.a, out.b)).sum() * step_h / 1e6),
        "deadline_misses": int((feasible & (finish > frame.deadline + TOL_SLOTS)).sum()),
        "feasible_deadlines": int(feasible.sum()),
        "delay_mean_min": float(delay.mean()) if n else 0.0,
        "delay_p95_min": float(np.percentile(delay, 95)) if n else 0.0,
        "energy_kwh": float((power * ran).sum() * step_h / 1000.0),
        "cost": float((run_power * area(price, out.a, out.b)).sum() * step_h / 1000.0),
        "deferred_jobs": int(moved.sum()),
        "eco_jobs": int((out.mode == 1).sum()),
        "critical_moved": int((critical & (moved | (out.mode != 0))).sum()),
    }
