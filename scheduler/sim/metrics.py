"""What the evaluation reports about a simulated run, and the hindsight lower bound on CO2.

Units live in the names: kWh, kg (CO2 totals; per-job arrays are in g), minutes, jobs per hour.
Energy and CO2 totals count what jobs are charged while they run (simulator.account); the idle power of
cores no job holds is reported on its own (`idle_*`), since it is not any job's: it depends on how long
the fleet is kept on (first arrival to last finish), so a policy that stretches the run by queueing
jobs for greener hours raises it.
"""

from dataclasses import dataclass

import numpy as np

from scheduler.core import units
from scheduler.core.states import LATENCIES
from scheduler.sim.config import DEFAULT_STARVATION_MIN
from scheduler.sim.simulator import MILLI, Problem, Run, excess_ratio

SLO_STRETCH: tuple[float, float, float] = (1.5, 3.0, 10.0)
"""Service-level objective per latency class (low, medium, high, as in states.LATENCIES): a job meets it
when its completion time (arrival to finish) is at most this many times its shortest runtime on any
server of its pool. Low-latency jobs may barely wait or run on a slow server; high-latency ones are
batch work that tolerates long queues."""
LOWER_BOUND_MAX_WINDOW_H = 720
"""Longest window (hours) whose minimum mean intensity the lower bound computes exactly; longer runs are
split into windows of this length (still a valid bound, slightly looser)."""

ROUNDING = 1e-9


@dataclass(frozen=True)
class Summary:
    """One policy's figures; `as_dict` gives them flat, in a stable order, for JSON, CSV and the table."""

    policy: str
    jobs: int
    energy_kwh: float
    co2_kg: float
    cost: float
    completion_mean_min: float
    completion_p95_min: float
    wait_mean_min: float
    throughput_per_h: float
    utilisation: float
    starved: int
    slo_miss: float
    slo_miss_low: float
    slo_miss_medium: float
    slo_miss_high: float
    quality_mean: float
    idle_energy_kwh: float
    idle_co2_kg: float
    co2_with_idle_kg: float
    """Jobs' CO2 plus the idle CO2 of a fleet kept on from the first arrival to the last finish."""

    def as_dict(self) -> dict[str, float | int | str]:
        return dict(self.__dict__)


def summarise(problem: Problem, run: Run, starvation_min: float = DEFAULT_STARVATION_MIN) -> Summary:
    """The issue's metric list for one run."""
    wl, fleet = problem.workload, problem.fleet
    rows = np.arange(len(run.server))
    completion = run.finish_min - wl.arrival_min
    wait = run.start_min - wl.arrival_min
    missed = slo_missed(problem, run)
    by_class = [float(missed[wl.latency == c].mean()) if (wl.latency == c).any() else 0.0 for c in range(len(LATENCIES))]
    horizon = max(run.horizon_min, 1e-12)
    return Summary(
        policy=run.policy,
        jobs=len(rows),
        energy_kwh=float(run.energy_kwh.sum()),
        co2_kg=units.kg(float(run.co2_g.sum())),
        cost=float(run.cost.sum()),
        completion_mean_min=float(completion.mean()),
        completion_p95_min=float(np.percentile(completion, 95)),
        wait_mean_min=float(wait.mean()),
        throughput_per_h=len(rows) / (horizon / 60.0),
        utilisation=float(run.busy_core_min.sum() / (fleet.cores.sum() * horizon)),
        starved=int((wait > starvation_min).sum()),
        slo_miss=float(missed.mean()),
        slo_miss_low=by_class[0],
        slo_miss_medium=by_class[1],
        slo_miss_high=by_class[2],
        quality_mean=float(problem.quality[rows, run.server].mean()),
        idle_energy_kwh=float(run.idle_energy_kwh.sum()),
        idle_co2_kg=units.kg(float(run.idle_co2_g.sum())),
        co2_with_idle_kg=units.kg(float(run.co2_g.sum() + run.idle_co2_g.sum())),
    )


def slo_missed(problem: Problem, run: Run) -> np.ndarray:
    """(n,) bool: completion > SLO_STRETCH[latency class] x the job's shortest runtime in its pool."""
    shortest = np.empty(len(problem))
    for tier, pool in enumerate(problem.fleet.pools):
        rows = problem.workload.tier == tier
        shortest[rows] = problem.runtime_min[np.ix_(rows, pool)].min(axis=1)
    limit = np.asarray(SLO_STRETCH)[problem.workload.latency] * shortest
    return run.finish_min - problem.workload.arrival_min > limit


def learning_curve(values: np.ndarray, windows: int) -> list[float]:
    """Mean of `values` (in arrival order) over `windows` consecutive, near-equal windows of jobs."""
    return [float(part.mean()) for part in np.array_split(values, min(windows, len(values))) if len(part)]


def win_loss(values: dict[str, np.ndarray], rel_tol: float = 1e-9) -> list[list[float]]:
    """wins[a][b]: share of jobs on which policy a's value is lower than b's (lower is better) by more
    than rel_tol of the larger; wins[a][b] + wins[b][a] <= 1, the rest are ties."""
    names = list(values)
    out = []
    for a in names:
        row = []
        for b in names:
            x, y = values[a], values[b]
            row.append(float((x < y - rel_tol * np.maximum(np.abs(x), np.abs(y))).mean()) if a != b else 0.0)
        out.append(row)
    return out


def co2_lower_bound_g(problem: Problem) -> np.ndarray:
    """(n,) g: a lower bound on each job's CO2 under any placement and start time.

    For job j: the minimum over its pool servers s of the least energy j can be charged on s
    (`least_energy_kwh`) x a lower bound on the mean intensity of s's zone over any window as long as
    the job's runtime there. Since the series wraps, every start time >= the arrival sees every window
    of the series, so the bound holds for any non-preemptive schedule in which each job runs once, on a
    server of its pool, for its modelled runtime, starting at or after its arrival: every policy here
    and the oracle, whatever the capacities and queues (it ignores both, so it is usually not
    reachable). The window bound: a window of L hours holds q = floor(L / k) windows of k =
    min(floor(L), LOWER_BOUND_MAX_WINDOW_H) whole hours, each with mean >= the least k-hour rolling
    mean G(k), and the rest at >= the least hourly value m: mean >= (q k G(k) + (L - q k) m) / L; for
    L < 1 (and L = 0, where the job's energy is 0 too), mean >= m. Less a relative ROUNDING, so float
    rounding in the running sums cannot lift it above a reachable value.
    """
    duration_h = problem.runtime_min / 60.0  # (n, n_servers)
    k = np.minimum(np.floor(duration_h), LOWER_BOUND_MAX_WINDOW_H).astype(np.int64)
    q = np.where(k > 0, np.floor(duration_h / np.maximum(k, 1)), 0.0)
    bound = np.empty_like(duration_h)
    clock = problem.clock
    for z, series in enumerate(clock.carbon):
        cols = np.flatnonzero(clock.server_zone == z)
        if cols.size == 0:
            continue
        least = float(series.values.min())
        kz, length = k[:, cols], duration_h[:, cols]
        g = np.zeros(int(kz.max()) + 1)
        for window in np.unique(kz[kz > 0]).tolist():
            g[window] = _least_rolling_mean(series.values, window)
        whole = q[:, cols] * kz
        total = whole * g[kz] + (length - whole) * least
        bound[:, cols] = np.divide(total, length, out=np.full_like(length, least), where=length > 0)
    per_server = least_energy_kwh(problem) * bound * (1.0 - ROUNDING)  # (n, n_servers) g
    out = np.empty(len(problem))
    for tier, pool in enumerate(problem.fleet.pools):
        rows = problem.workload.tier == tier
        out[rows] = per_server[np.ix_(rows, pool)].min(axis=1)
    return out


def least_energy_kwh(problem: Problem) -> np.ndarray:
    """(n, n_servers) kWh: the least energy a job can be charged on each server, whatever runs beside it.

    While the job (core share s) runs, the server's utilisation U is between s and 1, and its dynamic
    charge is (P_peak - P_idle) x s x curve(U) / U (simulator.sharing); curve(U) / U is monotone between
    the curve's knots, so its least over [s, 1] is at s or at a knot above s. With the linear curve
    every U gives the same charge: the stand-alone energy, unchanged."""
    m = problem.machines
    levels = np.linspace(0.0, 1.0, len(m.curve))
    knots = excess_ratio(m.curve, levels)  # (n_levels,)
    if not knots.any():
        return problem.energy_kwh
    share = problem.cores_milli / (problem.fleet.cores * MILLI)  # (n, n_servers) cores held, as in sharing()
    alone = excess_ratio(m.curve, share)
    from_knot = np.minimum.accumulate(knots[::-1])[::-1]  # (n_levels,) least excess at knots i..end
    least = np.minimum(alone, from_knot[np.searchsorted(levels, share)])
    return problem.energy_kwh + units.kwh((m.p_peak_w - m.p_idle_w) * share * problem.runtime_min * (least - alone), 1.0)


def _least_rolling_mean(values: np.ndarray, window: int) -> float:
    """Least mean of `window` consecutive hours, wrapping around (windows of whole hours are least when
    they start on an hour, so this is the least over every real start time)."""
    cum = np.concatenate(([0.0], np.cumsum(np.concatenate((values, values[: window - 1])))))
    return float((cum[window:] - cum[:-window]).min()) / window
