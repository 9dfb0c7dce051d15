"""Discrete-event simulation of a workload on the fleet under one placement policy.

Events sit on a heap ordered by (time, priority, sequence), as in SimPy: the sequence number only grows,
so equal times and priorities resolve in the order events were made and a run is the same bit for bit
for the same inputs. At equal times a FINISH comes before an ARRIVAL, so an arriving job sees the
server a finishing job leaves. Time is in minutes from the start of the run; the clock maps it to the
hour of the carbon and price series (`scheduler.sim.signal_clock.Clock`).

Each server has a number of cores and a strict FIFO queue: a job starts once every job queued before
it on that server has started and enough cores are free; it then holds its cores, without preemption,
for its modelled runtime. Under that discipline a job's start is fixed the moment it joins a queue:
jobs that come later queue behind it and never delay it. `ServerQueue.enter` therefore computes the
start on entry (tests check it against a plain event-by-event FIFO queue), and the same computation,
`earliest_start`, is the oracle's exact knowledge of every queue. FINISH events keep the per-server
counts of jobs in the system that the policies see.

Energy (`account`): a server at utilisation U (the core share its running jobs hold) draws
P_idle + (P_peak - P_idle) x curve(U). A job is charged its share of the idle power, share x P_idle,
and its share of the dynamic power, share / U of it, over its run; the idle power of cores no job
holds is reported apart. With the linear curve, curve(U) / U = 1 and a job's charge does not depend on
what else runs (the stand-alone figure of energy.power_w); with a concave-then-convex curve such as
SPECpower's, jobs sharing a server split what the server really draws, never more than P_peak.
"""

import heapq
import math
from bisect import insort
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np

from scheduler.core import units
from scheduler.core.energy import Machines, energy_kwh, runtime_min
from scheduler.core.fleet import Fleet
from scheduler.core.scoring import ServerMetrics, pool_scores
from scheduler.data.workloads import Workload
from scheduler.sim.signal_clock import Clock

FINISH, ARRIVAL = 0, 1
"""Event priorities: at equal times a finish is handled before an arrival."""
MILLI = 1000
"""Cores are counted in milli-cores (integers), so freeing and taking cores never drifts."""
CHUNK_JOBS = 4096
"""`simulate` reports progress (and may be cancelled) every this many arrivals."""


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class Problem:
    """Everything fixed before the first event: the jobs and their physics on every server."""

    fleet: Fleet
    machines: Machines
    clock: Clock
    workload: Workload
    runtime_min: np.ndarray  # (n_jobs, n_servers)
    energy_kwh: np.ndarray  # (n_jobs, n_servers) the job's energy alone on the server: what policies see
    cores_milli: np.ndarray  # (n_jobs, n_servers) int64 cores held: the job's, at most the server's
    quality: np.ndarray  # (n_jobs, n_servers) the seed's tier-weighted score at arrival; 0 outside the pool
    carbon_factor: np.ndarray  # (n_jobs,) 0..1 pool-mean carbon now, min-max over the fleet's zones (agents' feature)
    price_now: np.ndarray  # (n_jobs,) per kWh at arrival

    def __len__(self) -> int:
        return len(self.workload)

    @cached_property
    def lists(self) -> "ProblemLists":
        pools = [p.tolist() for p in self.fleet.pools]
        slot = [0] * self.fleet.n_servers
        server_tier = [0] * self.fleet.n_servers
        for tier, pool in enumerate(pools):
            for k, s in enumerate(pool):
                slot[s], server_tier[s] = k, tier
        return ProblemLists(
            self.workload.arrival_min.tolist(),
            self.workload.tier.tolist(),
            pools,
            slot,
            server_tier,
            self.pool_rows(self.runtime_min),
            self.pool_rows(self.cores_milli),
        )

    def pool_rows(self, values: np.ndarray) -> list[list]:
        """values (n_jobs, n_servers) as one list per job over its pool's servers, in pool order:
        all a job can use, at under half the memory of full rows."""
        rows: list[list] = [[]] * len(self)
        for tier, pool in enumerate(self.fleet.pools):
            jobs = np.flatnonzero(self.workload.tier == tier)
            for j, row in zip(jobs.tolist(), values[np.ix_(jobs, pool)].tolist()):
                rows[j] = row
        return rows


@dataclass(frozen=True)
class ProblemLists:
    """What the event loop reads per job, as Python lists (indexing a list is 5x cheaper than numpy)."""

    arrival_min: list[float]
    tier: list[int]
    pools: list[list[int]]  # server positions of each tier's pool
    slot: list[int]  # (n_servers,) a server's index in its pool
    server_tier: list[int]  # (n_servers,) the tier whose pool a server is in
    runtime_min: list[list[float]]  # per job, over its pool (pool_rows)
    cores_milli: list[list[int]]  # per job, over its pool


def build_problem(fleet: Fleet, machines: Machines, clock: Clock, workload: Workload) -> Problem:
    """Per-job, per-server runtime, energy, cores and quality, all at once with numpy."""
    work = workload.work()
    runtime = runtime_min(machines, work)
    energy = energy_kwh(machines, work)
    cores = np.minimum(work.cores[:, None], machines.cores[None, :])
    carbon_now = clock.carbon_now(workload.arrival_min)  # (n, n_servers) g/kWh
    price = clock.price.at(clock.hours(workload.arrival_min))
    metrics = ServerMetrics(energy_kwh=energy, cost=energy * price[:, None], co2_kg=units.co2_kg(energy, carbon_now))
    quality = np.zeros_like(energy)
    pool_carbon = np.empty(len(workload))
    for tier, pool in enumerate(fleet.pools):
        rows = np.flatnonzero(workload.tier == tier)
        quality[np.ix_(rows, pool)] = pool_scores(fleet, tier, metrics.take(rows), latency=runtime[rows]).final
        pool_carbon[rows] = carbon_now[np.ix_(rows, pool)].mean(axis=1)
    used = [clock.carbon[z].values for z in np.unique(clock.server_zone).tolist()]  # zones no server draws from do not count
    lo, hi = min(float(v.min()) for v in used), max(float(v.max()) for v in used)
    return Problem(
        fleet,
        machines,
        clock,
        workload,
        runtime,
        energy,
        np.rint(cores * MILLI).astype(np.int64),
        quality,
        carbon_factor=(pool_carbon - lo) / (hi - lo) if hi > lo else np.zeros(len(workload)),
        price_now=price,
    )


class ServerQueue:
    """One server's cores and its strict-FIFO, non-preemptive queue, resolved when a job enters.

    `ends` holds (finish, cores) of the jobs that still hold cores at `last_start`, the latest start
    so far, sorted by finish. No later job can start before `last_start`, so jobs finishing earlier
    are forgotten, and the list never holds more jobs than can run at once."""

    __slots__ = ("capacity", "last_start", "ends", "busy")

    def __init__(self, capacity_milli: int):
        self.capacity = capacity_milli
        self.last_start = -math.inf
        self.ends: list[tuple[float, int]] = []
        self.busy = 0  # cores of the jobs in `ends`

    def earliest_start(self, now: float, need: int) -> float:
        """When a job needing `need` milli-cores, entering the queue at `now`, would start."""
        t = now if now > self.last_start else self.last_start
        free = self.capacity - self.busy
        for finish, cores in self.ends:
            if finish > t:
                if free >= need:
                    break
                t = finish
            free += cores
        return t

    def enter(self, now: float, need: int, runtime: float) -> float:
        """Queue the job; returns its start (its finish is start + runtime)."""
        start = self.earliest_start(now, need)
        ends = self.ends
        done = 0
        while done < len(ends) and ends[done][0] <= start:
            self.busy -= ends[done][1]
            done += 1
        del ends[:done]
        insort(ends, (start + runtime, need))
        self.busy += need
        self.last_start = start
        return start


class FleetState:
    """What a policy may read when a job arrives (it must not change it)."""

    __slots__ = ("queues", "in_system", "cores_in_system")

    def __init__(self, capacity_milli: list[int]):
        self.queues = [ServerQueue(c) for c in capacity_milli]
        self.in_system = [0] * len(capacity_milli)  # jobs queued or running per server
        self.cores_in_system = [0] * len(capacity_milli)  # their milli-cores


class Policy(Protocol):
    """Chooses a server for each arriving job; see scheduler/sim/policies.py."""

    name: str

    def choose(self, job: int, now_min: float, state: FleetState) -> int: ...

    def close(self) -> None: ...


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class Run:
    """Per-job outcome of one policy on one problem; totals are sums of these."""

    policy: str
    server: np.ndarray  # (n,) intp
    start_min: np.ndarray  # (n,)
    finish_min: np.ndarray  # (n,)
    energy_kwh: np.ndarray  # (n,) charged to the job: its share of the server's power over its run
    co2_g: np.ndarray  # (n,) that power x the intensity of the server's zone, over the run
    cost: np.ndarray  # (n,) that power x the price, over the run
    busy_core_min: np.ndarray  # (n_servers,) core-minutes held by jobs
    horizon_min: float  # first arrival to last finish
    idle_energy_kwh: np.ndarray  # (n_servers,) idle power of unallocated cores over the horizon (charged to no job)
    idle_co2_g: np.ndarray  # (n_servers,)


def simulate(problem: Problem, policy: Policy, on_chunk: Callable[[int], None] | None = None) -> Run:
    """Run every job of `problem` through the event loop under `policy`.

    on_chunk(jobs_done) is called every CHUNK_JOBS arrivals; it may raise to cancel the run."""
    lists, n = problem.lists, len(problem)
    arrival, runtime, cores, tier = lists.arrival_min, lists.runtime_min, lists.cores_milli, lists.tier
    slot, server_tier = lists.slot, lists.server_tier
    state = FleetState((problem.fleet.cores * MILLI).astype(np.int64).tolist())
    queues, in_system, cores_in_system = state.queues, state.in_system, state.cores_in_system
    server_of, start_of = [0] * n, [0.0] * n
    heap: list[tuple[float, int, int, int]] = [(arrival[0], ARRIVAL, 0, 0)] if n else []
    seq = 1
    choose, push, pop = policy.choose, heapq.heappush, heapq.heappop
    while heap:
        t, kind, _, j = pop(heap)
        if kind == FINISH:
            s = server_of[j]
            in_system[s] -= 1
            cores_in_system[s] -= cores[j][slot[s]]
            continue
        if j + 1 < n:
            push(heap, (arrival[j + 1], ARRIVAL, seq, j + 1))
            seq += 1
        s = choose(j, t, state)
        assert server_tier[s] == tier[j], f"{policy.name} chose server {s} outside the pool of job {j}"
        k = slot[s]
        start = queues[s].enter(t, cores[j][k], runtime[j][k])
        in_system[s] += 1
        cores_in_system[s] += cores[j][k]
        push(heap, (start + runtime[j][k], FINISH, seq, j))
        seq += 1
        server_of[j], start_of[j] = s, start
        if on_chunk is not None and (j + 1) % CHUNK_JOBS == 0:
            on_chunk(j + 1)
    policy.close()
    if on_chunk is not None and n % CHUNK_JOBS:
        on_chunk(n)
    return account(problem, policy.name, np.asarray(server_of, dtype=np.intp), np.asarray(start_of))


def account(problem: Problem, name: str, server: np.ndarray, start_min: np.ndarray) -> Run:
    """Energy, CO2, cost and server time of a finished schedule (who ran where, from when)."""
    rows = np.arange(len(server))
    runtime = problem.runtime_min[rows, server]
    finish = start_min + runtime
    energy = problem.energy_kwh[rows, server]
    clock, fleet = problem.clock, problem.fleet
    carbon = clock.carbon_mean(server, start_min, runtime)
    shared_kwh, shared_g, shared_cost = sharing(problem, server, start_min, finish)
    n_servers = fleet.n_servers
    held = problem.cores_milli[rows, server] / MILLI  # cores
    busy = np.bincount(server, weights=held * runtime, minlength=n_servers)
    t0 = float(problem.workload.arrival_min[0]) if len(server) else 0.0
    horizon = float(finish.max()) - t0 if len(server) else 0.0
    idle_w_min = fleet.p_idle_w * (horizon - busy / fleet.cores)  # idle watts x minutes of cores no job holds
    # The idle carbon of a server: idle power x intensity over the horizon, less the share its jobs took.
    zone_mean = clock.carbon_mean(np.arange(n_servers), np.full(n_servers, t0), np.full(n_servers, horizon))
    taken = np.bincount(server, weights=held / fleet.cores[server] * runtime * carbon, minlength=n_servers)
    idle_g_min = fleet.p_idle_w * (horizon * zone_mean - taken)
    return Run(
        name,
        server,
        start_min,
        finish,
        energy + shared_kwh,
        co2_g=energy * carbon + shared_g,
        cost=energy * clock.price.mean(clock.hours(start_min), runtime / 60.0) + shared_cost,
        busy_core_min=busy,
        horizon_min=horizon,
        idle_energy_kwh=units.kwh(idle_w_min, 1.0),
        idle_co2_g=units.kwh(idle_g_min, 1.0),
    )


def sharing(
    problem: Problem, server: np.ndarray, start_min: np.ndarray, finish_min: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kWh, g, cost), each (n,): what sharing its server adds to each job's stand-alone charge.

    A job holding share s of a server's cores, while the server runs at utilisation U(t), is charged
    (P_peak - P_idle) x s x curve(U) / U of dynamic power instead of (P_peak - P_idle) x curve(s) alone;
    the difference is (P_peak - P_idle) x s x [excess(U) - excess(s)], excess(U) = curve(U) / U - 1.
    Per server, U is piecewise constant between the starts and finishes of its jobs; the running
    integrals of excess(U) (x 1, x intensity, x price) over those segments give every job's integral
    as a difference at its finish and its start. Zero for the linear curve (excess = 0, bit for bit)
    and, to rounding, for a job alone on its server. Shares are the cores held (milli-cores), so U
    never exceeds 1."""
    m, clock, n = problem.machines, problem.clock, len(server)
    out = np.zeros((3, n))
    if not np.any(excess_ratio(m.curve, np.linspace(0.0, 1.0, len(m.curve)))):
        return out[0], out[1], out[2]
    held = problem.cores_milli[np.arange(n), server].astype(np.float64)  # (n,) integers, summed exactly
    capacity = problem.fleet.cores * MILLI
    for s in np.unique(server).tolist():
        on = np.flatnonzero(server == s)
        times = np.unique(np.concatenate((start_min[on], finish_min[on])))  # (k,) every change of U
        first, last = np.searchsorted(times, start_min[on]), np.searchsorted(times, finish_min[on])
        step = np.bincount(first, weights=held[on], minlength=len(times)) - np.bincount(last, weights=held[on], minlength=len(times))
        ratio = excess_ratio(m.curve, np.cumsum(step)[:-1] / capacity[s])  # (k - 1,) on [times[i], times[i + 1])
        hours = clock.hours(times)
        running = np.stack((hours, clock.carbon[clock.server_zone[s]].integral(hours), clock.price.integral(hours)))  # (3, k)
        weighted = np.concatenate((np.zeros((3, 1)), np.cumsum(ratio * np.diff(running, axis=1), axis=1)), axis=1)  # (3, k)
        share = held[on] / capacity[s]
        during = (
            weighted[:, last] - weighted[:, first] - excess_ratio(m.curve, share) * (running[:, last] - running[:, first])
        )  # (3, len(on))
        out[:, on] = (m.p_peak_w[s] - m.p_idle_w[s]) * share * during / 1000.0  # W x h -> kWh; x g/kWh -> g; x price/kWh
    return out[0], out[1], out[2]


def excess_ratio(curve: np.ndarray, utilisation: np.ndarray) -> np.ndarray:
    """curve(U) / U - 1 (0 at U = 0): the dynamic power per unit of core share at utilisation U, relative
    to the linear curve. Interpolated from curve - U, so it is exactly 0 for the linear curve."""
    levels = np.linspace(0.0, 1.0, len(curve))
    above = np.interp(utilisation, levels, curve - levels)
    return np.divide(above, utilisation, out=np.zeros_like(above), where=utilisation > 0)
