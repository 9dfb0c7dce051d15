"""greenest_free: the greenest grid now among the pool servers that can start the job now, else the least loaded."""

import numpy as np
import pytest

from scheduler.core.energy import build_machines
from scheduler.core.series import StepSeries
from scheduler.sim.policies import GreenestFree, make_policy
from scheduler.sim.signal_clock import Clock
from scheduler.sim.simulator import MILLI, FleetState, build_problem, simulate
from tests.scheduler.sim.test_signal_clock import flat_clock, real_grid_clock
from tests.scheduler.sim.test_simulator import make_workload, random_workload

LONG = 600.0  # minutes: no job of these problems finishes before the last one arrives


def three_grid_clock(on_100: int = 0, on_300: int = 1) -> Clock:
    """Server 1 (position on_100) on a 100 g/kWh grid, Server 2 (on_300) on 300, every other server on 200."""
    zone = np.full(9, 2, np.intp)
    zone[on_100], zone[on_300] = 0, 1
    series = tuple(StepSeries.of(np.array([g])) for g in (100.0, 300.0, 200.0))
    return Clock(series, StepSeries.of(np.array([0.5])), zone, ("a", "b", "c"), 0.0, "test")


def test_free_servers_first_greenest_among_them_then_the_least_loaded(world):
    """The green pool: Server 1 (4 cores, 100 g), Server 2 (8 cores, 300 g), Server 3 (8 cores, 200 g).
    cpu 25 % of the 16-core reference is 4 cores, 50 % is 8, 12.5 % is 2; no job finishes.

    job 0: all free -> Server 1, the greenest.            job 1 (4): Server 1 is full -> Server 3 (200 < 300).
    job 2 (8): Server 3 has 4 free -> only Server 2 can.  job 3 (2): only Server 3 can (4 free) -> 6 of 8 held.
    job 4 (8): none can start now -> least loaded: Server 3 (6/8) though Server 1 is greener (4/4).
    job 5 (2): Server 3 has 2 cores free, but job 4 queued there first (FIFO) -> none can start now;
    loads 4/4, 8/8, 14/8 -> Server 1, the lower position of the two tied at 1."""
    wl = make_workload([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], [25.0, 25.0, 50.0, 12.5, 50.0, 12.5], [LONG] * 6, [0] * 6)
    problem = build_problem(world.fleet, build_machines(world.fleet), three_grid_clock(), wl)
    assert problem.cores_milli[:, 2].tolist() == [4000, 4000, 8000, 2000, 8000, 2000]  # the cores the docstring counts
    run = simulate(problem, GreenestFree(problem))
    assert run.server.tolist() == [0, 2, 1, 2, 2, 0]
    assert (run.start_min[:4] == wl.arrival_min[:4]).all() and (run.start_min[4:] > wl.arrival_min[4:]).all()


def test_ties_go_to_the_lowest_position(world):
    """One grid for every server, so every carbon comparison is a tie. job 0 (4 cores): Server 1. job 1 (4):
    Server 2 and 3 can start it -> Server 2. job 2 (4): Server 2 (4 of 8 free) and Server 3 (all free) can
    -> Server 2, the lower position, not the less loaded Server 3. job 3 (8): only Server 3 can. job 4 (4):
    none can; loads 4/4, 8/8, 8/8 -> Server 1."""
    wl = make_workload([0.0, 1.0, 2.0, 3.0, 4.0], [25.0, 25.0, 25.0, 50.0, 25.0], [LONG] * 5, [0] * 5)
    problem = build_problem(world.fleet, build_machines(world.fleet), flat_clock(9, [100.0]), wl)
    run = simulate(problem, make_policy("greenest_free", problem, np.random.default_rng(0), world.pretrained))
    assert run.server.tolist() == [0, 1, 1, 2, 0]


class Probe(GreenestFree):
    """greenest_free, noting for each job which pool servers could start it now, computed independently."""

    def __init__(self, problem):
        super().__init__(problem)
        self.problem, self.seen = problem, {}

    def choose(self, job: int, now_min: float, state: FleetState) -> int:
        p = self.problem
        pool = p.fleet.pools[p.workload.tier[job]]
        free = [s for s in pool if state.queues[s].earliest_start(now_min, int(p.cores_milli[job, s])) == now_min]
        loads = [state.cores_in_system[s] / (p.fleet.cores[s] * MILLI) for s in pool]
        self.seen[job] = (pool, free, loads)
        return super().choose(job, now_min, state)


@pytest.fixture(scope="module")
def busy(world):
    """400 jobs a minute apart on average on the real grid map: some find a free server, some do not."""
    wl = random_workload(400, np.random.default_rng(21), mean_gap_min=1.0)
    return build_problem(world.fleet, build_machines(world.fleet), real_grid_clock(world), wl)


def test_the_rule_holds_job_by_job_on_the_real_grid(busy):
    probe = Probe(busy)
    run = simulate(busy, probe)
    carbon = busy.clock.carbon_now(busy.workload.arrival_min)
    fell_back = 0
    for job, (pool, free, loads) in probe.seen.items():
        s = int(run.server[job])
        if free:
            assert s in free and carbon[job, s] == min(carbon[job, f] for f in free)
            assert s == min(f for f in free if carbon[job, f] == carbon[job, s])  # ties: the lowest position
            assert run.start_min[job] == busy.workload.arrival_min[job]
        else:
            fell_back += 1
            k = list(pool).index(s)
            assert loads[k] == min(loads) and k == loads.index(min(loads))
    assert 0 < fell_back < len(busy)  # both branches are exercised
