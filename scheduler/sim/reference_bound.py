"""A lower bound for the constrained reference's problem, by Lagrangian relaxation.

The problem (scheduler/sim/reference.py): run every job once, non-preemptively, for its modelled runtime, on
a server of its pool, starting at or after its arrival, so that the mean completion is at most T (least_loaded's),
with the least CO2 incl. idle. `lower_bound_g(problem, T)` is a figure no such schedule can go below, whatever
decides it (any policy, any queue discipline, deferral included). Relaxed: capacity is dropped (any number of
jobs may run at once on a server), which can only lower the optimum.

CO2 incl. idle = the idle power of every server x its carbon from the first arrival to the run's end, plus each
job's CO2 above its core share of its server's idle power (simulator.account: that share is taken back from
the idle figure). The first term is at least its value up to the earliest end any schedule can have (every
arrival plus its shortest runtime in its pool). For the second, the constraint goes into the objective with a
multiplier lam >= 0 (g per minute): for a schedule meeting it, sum_j co2_j >= sum_j co2_j + lam (sum_j C_j - n T)
>= sum_j min over (server, start) of [co2_j + lam C_j] - lam n T, and each minimum is over one job alone. Every
lam gives a bound; the best of LAMBDAS is reported (weak duality: a bound, not necessarily reachable).

One job's minimum: with the server fixed, co2(t) = least dynamic energy x mean carbon over [t, t + r) is
piecewise linear in the start t, bending only where t or t + r crosses an hour, so co2(t) + lam (t - a + r) is
least at the arrival a or at one of those starts, of which WINDOW_H hours' worth are tried; past them, it is at
least the energy x the zone's least hourly value + lam x the completion there. The least energy is
metrics.least_energy_kwh: the stand-alone energy with the linear curve, what sharing can lower it to with
SPECpower's.
"""

import numpy as np

from scheduler.core import units
from scheduler.sim.metrics import ROUNDING, least_energy_kwh
from scheduler.sim.simulator import MILLI, Problem

LAMBDAS = np.concatenate(([0.0], np.geomspace(1e-4, 1e3, 57)))
"""Multipliers tried, g per minute of completion: 0 (no price on time) and steps of a third from 1e-4 to 1e3."""
WINDOW_H = 24
"""Hours of later starts tried exactly per job and server; beyond, the tail's bound (rarely the least at the
multipliers that matter: at 0.1 g/min a day's wait costs 144 g, more than any job here saves)."""
CHUNK_ROWS = 4096
"""Jobs per block: a block's candidates are (rows, pool servers x ~2 WINDOW_H) arrays, a few MB."""


def lower_bound_g(problem: Problem, target_completion_min: float) -> tuple[float, float]:
    """(bound in g, the multiplier that gave it) for schedules of `problem` with mean completion <= the target."""
    n = len(problem)
    if n == 0:
        return 0.0, 0.0
    clock, fleet, wl = problem.clock, problem.fleet, problem.workload
    held = problem.cores_milli / (fleet.cores * MILLI)
    dynamic = least_energy_kwh(problem) - units.kwh(held * fleet.p_idle_w, problem.runtime_min)  # (n, n_servers) kWh
    inner = np.zeros(len(LAMBDAS))  # sum over jobs of each job's least co2 + lam x completion
    for tier, pool in enumerate(fleet.pools):
        rows_all = np.flatnonzero(wl.tier == tier)
        for first in range(0, len(rows_all), CHUNK_ROWS):
            rows = rows_all[first : first + CHUNK_ROWS]
            co2, completion = _candidates(problem, rows, pool, dynamic)
            for i, lam in enumerate(LAMBDAS.tolist()):
                inner[i] += float((co2 + lam * completion).min(axis=1).sum())
    t0, end = float(wl.arrival_min[0]), earliest_end_min(problem)
    servers = np.arange(fleet.n_servers)
    idle_g = units.kwh(fleet.p_idle_w * clock.carbon_mean(servers, np.full(len(servers), t0), np.full(len(servers), end - t0)), end - t0)
    bounds = float(idle_g.sum()) + inner - LAMBDAS * n * target_completion_min
    best = int(np.argmax(bounds))
    return float(bounds[best]) * (1.0 - ROUNDING), float(LAMBDAS[best])


def earliest_end_min(problem: Problem) -> float:
    """The earliest any placement can end the run: every job's arrival plus its shortest runtime in its pool."""
    if not len(problem):
        return 0.0
    shortest = np.empty(len(problem))
    for tier, pool in enumerate(problem.fleet.pools):
        rows = problem.workload.tier == tier
        shortest[rows] = problem.runtime_min[np.ix_(rows, pool)].min(axis=1)
    return float((problem.workload.arrival_min + shortest).max())


def _candidates(problem: Problem, rows: np.ndarray, pool: np.ndarray, dynamic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(co2 g, completion min), each (len(rows), k): every start the inner minimum may take, on every pool server,
    and the tail's bound past them."""
    clock = problem.clock
    arrival_h = clock.hours(problem.workload.arrival_min[rows])  # (m,)
    last_h = np.floor(arrival_h) + WINDOW_H  # the last start tried exactly
    co2, completion = [], []
    for s in pool.tolist():
        series = clock.carbon[clock.server_zone[s]]
        runtime = problem.runtime_min[rows, s]
        run_h, energy = runtime / 60.0, dynamic[rows, s]
        hours = np.arange(1, WINDOW_H + 2)
        starts = np.concatenate(  # the arrival, starts on an hour, and starts that end on an hour (kept <= last_h)
            (
                arrival_h[:, None],
                np.floor(arrival_h)[:, None] + hours[:-1],
                np.minimum(np.floor(arrival_h + run_h)[:, None] + hours - run_h[:, None], last_h[:, None]),
            ),
            axis=1,
        )
        co2.append(energy[:, None] * series.mean(starts, np.broadcast_to(run_h[:, None], starts.shape)))
        completion.append((starts - arrival_h[:, None]) * 60.0 + runtime[:, None])
        least, most = float(series.values.min()), float(series.values.max())
        co2.append(np.minimum(energy * least, energy * most)[:, None])  # past last_h: any mean carbon is in [least, most]
        completion.append(((last_h - arrival_h) * 60.0 + runtime)[:, None])
    return np.concatenate(co2, axis=1), np.concatenate(completion, axis=1)
