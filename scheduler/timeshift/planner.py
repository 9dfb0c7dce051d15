"""Choose when jobs run so that their forecast emissions are lowest, never past their deadline.

Times are in slot units of the carbon series (0.0 = its start; slot k holds values[k] over [k, k+1)),
so a plan is exact for job times that are not on slot boundaries. A job submitted in slot s is decided
at the start of slot s with `forecast.window(s, ...)` (scheduler/timeshift/forecast.py); its emissions are then
measured on the actual series.

- Non-interruptible jobs run as one block. Its forecast cost as a function of the start is piecewise
  linear, with kinks only where the start or the end crosses a slot boundary, so the cheapest start in
  [submit, deadline - duration] is among: submit, the latest start, the slot boundaries, and the starts
  whose end is on a boundary. All of them are scored with prefix sums, for many jobs at once.
- Interruptible jobs take the cheapest pieces of [submit, deadline) totalling their duration (the first
  and last slots only in part), cheapest slot first; only the last piece taken may be a part of a slot,
  and it sits next to a neighbouring piece when there is one.
- Ties go to the earliest start (the lowest slot), within a relative tolerance of TIE.
- With `capacity`, jobs are placed one by one: the fixed ones first, then by deadline (ties: input
  order); a slot is full when `capacity` jobs run in any part of it. A job that cannot avoid full slots
  takes the least overloaded start within its deadline and counts in `Plan.capacity_overflows`.

Jobs without a deadline, or with no slack, start at submission.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scheduler.core import series
from scheduler.core.units import EPS
from scheduler.timeshift.forecast import Forecast, gather_windows

TIE = EPS
"""Relative difference in forecast cost below which two choices tie (then the earliest wins)."""
CHUNK = 512
"""Jobs scored together at most."""
CELLS = 500_000
"""Jobs x window slots scored together at most: bounds the (jobs x candidates) arrays (a few MB each)
however long the windows are. 512 jobs over a three-year window at 30 minutes held 3.1 GB without it."""
Tick = Callable[[int], None]
"""Called with the number of jobs just planned, between chunks; it may raise to stop the plan (a time
budget spent, a client gone, the process shutting down)."""


@dataclass(frozen=True)
class PlanJobs:
    """Jobs in slot units of one series."""

    job_id: np.ndarray  # (n,) str
    submit: np.ndarray  # (n,) float64, slots
    duration: np.ndarray  # (n,) float64, slots, > 0
    deadline: np.ndarray  # (n,) float64, slots, latest finish; NaN = no flexibility
    interruptible: np.ndarray  # (n,) bool
    power_w: np.ndarray  # (n,) float64
    step_min: float = 60.0
    """Minutes per slot: turns slot integrals into hours."""

    def __len__(self) -> int:
        return len(self.submit)

    @property
    def flexible(self) -> np.ndarray:
        """(n,) bool: the job may move (it has a deadline later than submit + duration)."""
        with np.errstate(invalid="ignore"):
            return self.deadline > self.submit + self.duration

    def latest_finish(self) -> np.ndarray:
        """(n,) the deadline, or submit + duration for jobs without one."""
        return np.where(self.flexible, self.deadline, self.submit + self.duration)


@dataclass(frozen=True)
class Plan:
    """Where each job runs, and what it emitted on the actual series."""

    forecast: str
    run_job: np.ndarray  # (m,) intp, job of each run; sorted by job, then start
    run_start: np.ndarray  # (m,) float64, slots
    run_end: np.ndarray  # (m,) float64, slots
    emissions_kg: np.ndarray  # (n,) float64, as planned, on the actual series
    baseline_kg: np.ndarray  # (n,) float64, started at submission, on the actual series
    delay: np.ndarray  # (n,) float64, slots: finish - (submit + duration)
    deadline_misses: int
    capacity_overflows: int = 0

    def runs(self, i: int) -> list[tuple[float, float]]:
        """Job i's (start, end) runs in slots, in time order."""
        lo, hi = np.searchsorted(self.run_job, [i, i + 1])
        return list(zip(self.run_start[lo:hi].tolist(), self.run_end[lo:hi].tolist()))

    @property
    def total_kg(self) -> float:
        return float(self.emissions_kg.sum())

    @property
    def baseline_total_kg(self) -> float:
        return float(self.baseline_kg.sum())


def _candidates(w: np.ndarray, a: np.ndarray, d: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate block starts (n, k) in [a, b] (slots from each row's s) and their forecast cost
    (inf where a column is not a candidate of that row)."""
    cum = series.prefix_sums(w)
    k = np.arange(int(np.ceil((b - a).max())) + 2)
    a_, b_, d_ = a[:, None], b[:, None], d[:, None]
    x = np.concatenate([a_, b_, np.ceil(a_) + k, np.ceil(a_ + d_) + k - d_], axis=1)
    valid = (x >= a_) & (x <= b_)
    x = np.clip(x, a_, b_)
    cost = series.integral(cum, w, x + d_) - series.integral(cum, w, x)
    return x, np.where(valid, cost, np.inf)


def _earliest_min(x: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """(n,) per row, the smallest x among the costs within TIE of the row's minimum."""
    best = cost.min(axis=1, keepdims=True)
    tied = cost <= best + TIE * np.maximum(np.abs(best), 1.0)
    return np.where(tied, x, np.inf).min(axis=1)


def _cheapest_pieces(
    w: np.ndarray,
    a: np.ndarray,
    d: np.ndarray,
    e: np.ndarray,
    rank: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cheapest parts of [a, e) totalling d, per row: (n, L) start and end of the part of each
    slot used, and the time used (0 where unused). `rank` (n, L), when given, orders slots before price."""
    j = np.arange(w.shape[1])
    lo = np.maximum(j, a[:, None])  # (n, L) usable part of each slot
    hi = np.minimum(j + 1, e[:, None])
    cap = np.clip(hi - lo, 0.0, None)
    price = np.where(cap > 0, w, np.inf)
    order = np.argsort(price, axis=1, kind="stable") if rank is None else np.lexsort((price, rank))
    cap_sorted = np.take_along_axis(cap, order, 1)
    taken = np.clip(d[:, None] - (np.cumsum(cap_sorted, axis=1) - cap_sorted), 0.0, cap_sorted)
    # Float residue of the running sum is dropped, but never the first slot taken: a job shorter than
    # EPS slots would otherwise have no run at all.
    taken[:, 1:] = np.where(taken[:, 1:] < EPS, 0.0, taken[:, 1:])
    used = np.empty_like(cap)
    np.put_along_axis(used, order, taken, 1)
    used = np.where((used > 0) & (cap - used < EPS), cap, used)
    on = used > 0
    prev_on, next_on = np.zeros_like(on), np.zeros_like(on)
    prev_on[:, 1:], next_on[:, :-1] = on[:, :-1], on[:, 1:]
    # A part of a slot, joined to the piece after it
    at_end = (used < cap) & ~prev_on & next_on
    start = np.where(at_end, hi - used, lo)
    end = np.where(at_end | (used >= cap), hi, lo + used)
    return start, end, used


def _merge(rows: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pieces sorted by row then time, joined where one ends where the next begins."""
    new = np.r_[True, (rows[1:] != rows[:-1]) | (start[1:] != end[:-1])]
    last = np.r_[new[1:], True]
    return rows[new], start[new], end[last]


def best_block(window: np.ndarray, s: int, submit: float, duration: float, deadline: float) -> float:
    """The start in [submit, deadline - duration] of the contiguous block with the lowest forecast
    integral; `window` is the forecast of slots s, s+1, ... Exact; earliest on ties; submit when
    deadline is NaN (no flexibility)."""
    if not deadline > submit + duration:
        return float(submit)
    w = _window_row(window, s, deadline)
    a = np.array([submit - s])
    x, cost = _candidates(w, a, np.array([duration]), np.maximum(np.array([deadline - duration - s]), a))
    return float(s + _earliest_min(x, cost)[0])


def best_slots(window: np.ndarray, s: int, submit: float, duration: float, deadline: float) -> list[tuple[float, float]]:
    """Interruptible: the cheapest pieces of [submit, deadline) totalling `duration`, merged into
    (start, end) runs in time order; cheapest slot first, earliest on ties."""
    if not deadline > submit + duration:
        return [(float(submit), float(submit + duration))]
    w = _window_row(window, s, deadline)
    start, end, used = _cheapest_pieces(w, np.array([submit - s]), np.array([duration]), np.array([deadline - s]))
    cols = np.flatnonzero(used[0] > 0)
    _, lo, hi = _merge(np.zeros(len(cols), np.intp), start[0, cols], end[0, cols])
    return list(zip((lo + s).tolist(), (hi + s).tolist()))


def _window_row(window: np.ndarray, s: int, deadline: float) -> np.ndarray:
    need = int(np.ceil(deadline)) - s
    if len(window) < need:
        raise ValueError(f"the window covers {len(window)} slots from slot {s}; the deadline {deadline} needs {need}")
    return np.asarray(window[:need], dtype=np.float64)[None, :]


def plan(actual: np.ndarray, jobs: PlanJobs, forecast: Forecast, capacity: int | None = None, tick: Tick | None = None) -> Plan:
    """Every job planned with `forecast`; emissions measured on `actual` (g/kWh per slot). `tick(jobs)`
    after each chunk of jobs may raise to stop planning."""
    actual = np.asarray(actual, dtype=np.float64)
    tick = tick or _no_tick
    if capacity is not None:
        job, start, end, overflows = _plan_with_capacity(len(actual), jobs, forecast, capacity, tick)
    else:
        fixed = np.flatnonzero(~jobs.flexible)
        parts = [(fixed, jobs.submit[fixed], jobs.submit[fixed] + jobs.duration[fixed])]
        for rows in _chunks(jobs, jobs.flexible & ~jobs.interruptible):
            parts.append(_blocks(rows, jobs, forecast))
            tick(len(rows))
        for rows in _chunks(jobs, jobs.flexible & jobs.interruptible):
            parts.append(_pieces(rows, jobs, forecast))
            tick(len(rows))
        job, start, end = (np.concatenate(p) for p in zip(*parts))
        overflows = 0
    return _account(actual, jobs, forecast.name, job.astype(np.intp), start, end, overflows)


def _no_tick(jobs: int) -> None:
    pass


def window_slots(jobs: PlanJobs) -> np.ndarray:
    """(n,) slots each job's forecast window covers (what planning it costs); 0 for jobs that cannot move."""
    span = np.ceil(jobs.deadline) - np.floor(jobs.submit)
    return np.where(jobs.flexible, span, 0.0)


def _chunks(jobs: PlanJobs, mask: np.ndarray) -> list[np.ndarray]:
    """Row groups of similar window length (less padding), of at most CHUNK jobs and CELLS jobs x slots."""
    rows = np.flatnonzero(mask)
    span = window_slots(jobs)[rows]
    order = np.argsort(span, kind="stable")
    rows, span = rows[order], span[order]
    groups, lo = [], 0
    while lo < len(rows):
        widest = span[min(lo + CHUNK, len(rows)) - 1]  # spans rise: no row of the group is wider
        size = max(1, min(CHUNK, int(CELLS // max(widest, 1.0))))
        groups.append(rows[lo : lo + size])
        lo += size
    return groups


def _frame(rows: np.ndarray, jobs: PlanJobs, forecast: Forecast) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Decision slots s, forecast windows (n, L), and submit, duration, deadline in slots from s."""
    s = np.floor(jobs.submit[rows]).astype(np.intp)
    length = int((np.ceil(jobs.deadline[rows]) - s).max())
    w = gather_windows(forecast, s, length)
    return s, w, jobs.submit[rows] - s, jobs.duration[rows], jobs.deadline[rows] - s


def _blocks(rows: np.ndarray, jobs: PlanJobs, forecast: Forecast) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s, w, a, d, e = _frame(rows, jobs, forecast)
    x = _earliest_min(*_candidates(w, a, d, np.maximum(e - d, a))) + s
    return rows, x, x + d


def _pieces(rows: np.ndarray, jobs: PlanJobs, forecast: Forecast) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s, w, a, d, e = _frame(rows, jobs, forecast)
    start, end, used = _cheapest_pieces(w, a, d, e)
    r, c = np.nonzero(used > 0)  # row-major: by job, then slot
    job, lo, hi = _merge(rows[r], start[r, c] + s[r], end[r, c] + s[r])
    return job, lo, hi


def _plan_with_capacity(
    n_slots: int, jobs: PlanJobs, forecast: Forecast, capacity: int, tick: Tick
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Jobs placed one at a time against the running load (module docstring)."""
    if capacity < 1:
        raise ValueError(f"capacity must be >= 1 job per slot, got {capacity}")
    # (n_slots + 1,) jobs running in each slot
    load = np.zeros(n_slots + 1, dtype=np.int64)
    flexible = jobs.flexible
    by_deadline = np.flatnonzero(flexible)[np.argsort(jobs.deadline[flexible], kind="stable")]
    job, start, end, overflows = [], [], [], 0
    for k, i in enumerate(np.r_[np.flatnonzero(~flexible), by_deadline].tolist()):
        if flexible[i]:
            lo, hi = _capacity_runs(i, jobs, forecast, load, capacity)
        else:
            lo, hi = jobs.submit[i : i + 1], jobs.submit[i : i + 1] + jobs.duration[i]
        first, stop = np.floor(lo + EPS).astype(np.intp), np.ceil(hi - EPS).astype(np.intp)
        # Only the job's own span is looked at: a whole-series mask per job cost jobs x slots.
        span = slice(max(int(first.min()), 0), max(int(stop.max()), 0))
        busy = np.zeros(max(span.stop - span.start, 0), dtype=bool)  # a slot the job runs in, even in part
        for a, b in zip(first.tolist(), stop.tolist()):
            busy[max(a - span.start, 0) : max(b - span.start, 0)] = True
        held = load[span]  # a view: the load changes through it
        busy = busy[: len(held)]
        overflows += int((held[busy] >= capacity).any())
        held[busy] += 1
        job += [i] * len(lo)
        start.append(lo)
        end.append(hi)
        if (k + 1) % CHUNK == 0:
            tick(CHUNK)
    return (
        np.array(job, dtype=np.intp),
        np.concatenate(start or [[]]),
        np.concatenate(end or [[]]),
        overflows,
    )


def _capacity_runs(i: int, jobs: PlanJobs, forecast: Forecast, load: np.ndarray, capacity: int) -> tuple[np.ndarray, np.ndarray]:
    s, w, a, d, e = _frame(np.array([i]), jobs, forecast)
    # (1, L) how far over capacity each slot would go; 0 = room left
    over = np.maximum(load[None, s[0] : s[0] + w.shape[1]] - capacity + 1, 0)
    if jobs.interruptible[i]:
        start, end, used = _cheapest_pieces(w, a, d, e, rank=over)
        c = np.flatnonzero(used[0] > 0)
        _, lo, hi = _merge(np.zeros(len(c), np.intp), start[0, c], end[0, c])
        return lo + s[0], hi + s[0]
    x, cost = _candidates(w, a, d, np.maximum(e - d, a))
    first = np.floor(x[0] + EPS).astype(np.intp)
    stop = np.ceil(x[0] + d[0] - EPS).astype(np.intp)
    bounds = np.ravel([first, stop], order="F")
    worst = np.maximum.reduceat(np.r_[over[0], 0], bounds)[::2]  # (k,) over [first, stop)
    least = worst[np.isfinite(cost[0])].min()
    x0 = _earliest_min(x, np.where(worst == least, cost, np.inf))[0]
    return np.array([x0 + s[0]]), np.array([x0 + d[0] + s[0]])


def _account(
    actual: np.ndarray,
    jobs: PlanJobs,
    name: str,
    job: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    overflows: int,
) -> Plan:
    """Sort the runs, measure them on `actual`, and total per job."""
    order = np.lexsort((start, job))
    job, start, end = job[order], start[order], end[order]
    n = len(jobs)
    to_kg = jobs.step_min / 60.0 / 1e6  # W x h = Wh; /1000 kWh; x g/kWh = g; /1000 kg
    cum = series.prefix_sums(actual)
    area = series.integral(cum, actual, end) - series.integral(cum, actual, start)
    emissions = np.bincount(job, weights=area * jobs.power_w[job], minlength=n) * to_kg
    base_area = series.integral(cum, actual, jobs.submit + jobs.duration) - series.integral(cum, actual, jobs.submit)
    last_run = np.searchsorted(job, np.arange(n), side="right") - 1
    finish = end[last_run] if n else np.empty(0)
    delay = np.maximum(finish - (jobs.submit + jobs.duration), 0.0)
    misses = int((finish > jobs.latest_finish() + 1e-6).sum())
    base = base_area * jobs.power_w * to_kg
    return Plan(name, job, start, end, emissions, base, delay, misses, overflows)
