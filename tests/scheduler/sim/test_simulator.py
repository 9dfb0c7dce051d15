"""The event loop, the FIFO queues and the accounting of scheduler/sim/simulator.py."""

from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.core.energy import build_machines, job_work, power_w, runtime_min
from scheduler.core.series import StepSeries
from scheduler.data.power_curves import load_power_curve
from scheduler.data.workloads import Workload
from scheduler.settings import ROOT
from scheduler.sim.metrics import summarise
from scheduler.sim.policies import Fixed, make_policy
from scheduler.sim.signal_clock import Clock
from scheduler.sim.simulator import MILLI, FleetState, ServerQueue, build_problem, simulate
from tests.scheduler.sim.test_signal_clock import flat_clock

DATA = ROOT / "dataset_rl"


def make_workload(arrival_min, cpu, duration_min, tier, latency=None, memory=None) -> Workload:
    n = len(arrival_min)
    return Workload(
        name="test",
        arrival_min=np.asarray(arrival_min, dtype=np.float64),
        cpu=np.asarray(cpu, dtype=np.float64),
        memory=np.full(n, 10.0) if memory is None else np.asarray(memory, dtype=np.float64),
        duration_min=np.asarray(duration_min, dtype=np.float64),
        size=np.full(n, np.nan),
        intensity=np.full(n, np.nan),
        tier=np.asarray(tier, dtype=np.int8),
        latency=np.zeros(n, np.int8) if latency is None else np.asarray(latency, dtype=np.int8),
    )


def random_workload(n: int, rng: np.random.Generator, mean_gap_min: float = 3.0) -> Workload:
    return make_workload(
        np.cumsum(rng.exponential(mean_gap_min, n)),
        rng.uniform(5, 150, n),
        rng.uniform(5, 120, n),
        rng.integers(3, size=n),
        rng.integers(3, size=n),
    )


class Recorder:
    """A Fixed-like policy that also keeps what it saw, for tests of the loop itself."""

    name = "recorder"

    def __init__(self, choice: list[int]):
        self.choice, self.seen, self.state = choice, [], None

    def choose(self, job: int, now_min: float, state: FleetState) -> int:
        self.state = state
        self.seen.append((job, now_min, list(state.in_system)))
        return self.choice[job]

    def close(self) -> None:
        self.closed_in_system = list(self.state.in_system) if self.state else []


# --- the queue, against a plain event-by-event FIFO queue ---


def plain_fifo_starts(arrival: list[float], need: list[int], runtime: list[float], capacity: int) -> list[float]:
    """Reference: one server, events processed one by one; a finish frees cores and starts the head
    of the queue while it fits; an arrival starts at once only if nothing waits and it fits."""
    starts = [0.0] * len(arrival)
    running: list[tuple[float, int]] = []  # (finish, need)
    waiting: deque[int] = deque()
    free = capacity
    events = sorted([(t, 1, j) for j, t in enumerate(arrival)])
    i, now = 0, 0.0
    while i < len(events) or running:
        next_finish = min(running)[0] if running else float("inf")
        if i < len(events) and events[i][0] < next_finish:
            now, _, j = events[i]
            i += 1
            waiting.append(j)
        else:
            now = next_finish
            for item in [r for r in running if r[0] == now]:
                running.remove(item)
                free += item[1]
        while waiting and need[waiting[0]] <= free:
            j = waiting.popleft()
            starts[j] = now
            free -= need[j]
            running.append((now + runtime[j], need[j]))
    return starts


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(1, 8), st.integers(1, 40)), min_size=1, max_size=40))
def test_queue_start_on_entry_matches_plain_fifo(jobs):
    capacity = 8
    arrival = np.cumsum([gap for gap, _, _ in jobs]).astype(float).tolist()
    need = [n for _, n, _ in jobs]
    runtime = [float(r) for _, _, r in jobs]
    queue = ServerQueue(capacity)
    got = [queue.enter(t, n, r) for t, n, r in zip(arrival, need, runtime)]
    assert got == plain_fifo_starts(arrival, need, runtime, capacity)


def test_queue_holds_no_more_jobs_than_can_run():
    queue = ServerQueue(4 * MILLI)
    for j in range(1000):
        queue.enter(float(j), MILLI, 50.0)  # a backlog that keeps growing
        assert len(queue.ends) <= 4
    assert queue.earliest_start(0.0, MILLI) >= queue.last_start  # nobody overtakes the queue


# --- the event loop ---


def test_finish_comes_before_arrival_at_the_same_time(world):
    """Job 0 holds all 4 cores of server 0 over [0, 10); job 1 arrives at exactly 10 and starts then,
    and the policy already sees server 0 empty."""
    wl = make_workload([0.0, 10.0], [25.0, 25.0], [10.0 * 1.2 / 2.4, 1.0], [0, 0])  # 4 cores; runtime 10 min on server 0
    problem = build_problem(world.fleet, build_machines(world.fleet), flat_clock(9, [100.0]), wl)
    assert problem.runtime_min[0, 0] == pytest.approx(10.0 * 1.2 / 2.4 * 2.4 / 1.2)
    policy = Recorder([0, 0])
    run = simulate(problem, policy)
    assert run.start_min[1] == run.finish_min[0] == problem.runtime_min[0, 0]
    assert policy.seen[1][2][0] == 0


def test_every_job_finishes_once_and_capacity_holds(world):
    wl = random_workload(600, np.random.default_rng(1), mean_gap_min=1.0)  # heavy: queues build up
    problem = build_problem(world.fleet, build_machines(world.fleet), flat_clock(9, [100.0, 300.0]), wl)
    pools = world.fleet.pools
    choice = [int(pools[t][j % len(pools[t])]) for j, t in enumerate(wl.tier)]
    policy = Recorder(choice)
    run = simulate(problem, policy)
    rows = np.arange(len(wl))
    assert policy.closed_in_system == [0] * 9  # one FINISH per job, none left
    assert (run.start_min >= wl.arrival_min).all()
    np.testing.assert_array_equal(run.finish_min, run.start_min + problem.runtime_min[rows, run.server])
    for s in range(9):  # FIFO: starts in arrival order; cores held never above the server's
        on = np.flatnonzero(run.server == s)
        assert (np.diff(run.start_min[on]) >= 0).all()
        held = problem.cores_milli[on, s]
        for t in run.start_min[on]:
            running = (run.start_min[on] <= t) & (run.finish_min[on] > t)
            assert held[running].sum() <= world.fleet.cores[s] * MILLI


def test_energy_is_the_sum_of_per_job_energy(world):
    """With the linear curve sharing a server changes nothing: each job is charged its stand-alone
    energy (energy.power_w x runtime) and that energy x the mean intensity and price, bit for bit."""
    wl = random_workload(300, np.random.default_rng(2), mean_gap_min=1.0)  # jobs share servers
    machines = build_machines(world.fleet)
    problem = build_problem(world.fleet, machines, flat_clock(9, [100.0, 250.0, 40.0]), wl)
    run = simulate(problem, make_policy("least_loaded", problem, np.random.default_rng(0), world.pretrained))
    rows = np.arange(len(wl))
    work = wl.work()
    expected = power_w(machines, work)[rows, run.server] * runtime_min(machines, work)[rows, run.server] / 60.0 / 1000.0
    runtime = problem.runtime_min[rows, run.server]
    assert run.energy_kwh.tobytes() == expected.tobytes()
    assert run.co2_g.tobytes() == (expected * problem.clock.carbon_mean(run.server, run.start_min, runtime)).tobytes()
    assert run.cost.tobytes() == (expected * problem.clock.price.mean(problem.clock.hours(run.start_min), runtime / 60.0)).tobytes()
    summary = summarise(problem, run)
    assert summary.energy_kwh == pytest.approx(expected.sum(), rel=1e-12)
    assert summary.co2_kg == pytest.approx(run.co2_g.sum() / 1000.0, rel=1e-12)
    assert summary.jobs == len(wl)


def plain_shared_charges(problem, run) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reference: per job (energy kWh, CO2 g, cost), and per server the energy it draws while any job
    runs and for how many minutes, by walking each server's segments between events one by one;
    asserts that the jobs' power never adds up to more than P_peak."""
    m, clock = problem.machines, problem.clock
    share = problem.cores_milli[np.arange(len(run.server)), run.server] / (problem.fleet.cores[run.server] * MILLI)
    out = np.zeros((3, len(run.server)))
    drawn_kwh, busy_min = np.zeros(problem.fleet.n_servers), np.zeros(problem.fleet.n_servers)
    for s in range(problem.fleet.n_servers):
        on = np.flatnonzero(run.server == s).tolist()
        times = sorted({t for j in on for t in (run.start_min[j], run.finish_min[j])})
        for a, b in zip(times, times[1:]):
            running = [j for j in on if run.start_min[j] <= a and run.finish_min[j] >= b]
            u = sum(share[j] for j in running)
            if not running:
                continue
            server_w = m.p_idle_w[s] + (m.p_peak_w[s] - m.p_idle_w[s]) * m.dynamic_fraction(np.array(u))
            job_w = [
                share[j] * m.p_idle_w[s] + (m.p_peak_w[s] - m.p_idle_w[s]) * share[j] * m.dynamic_fraction(np.array(u)) / u for j in running
            ]
            assert sum(job_w) <= m.p_peak_w[s] * (1 + 1e-12)
            hours = (b - a) / 60.0
            g_per_kwh = clock.carbon_mean(np.array([s]), np.array([a]), np.array([b - a]))[0]
            price = clock.price.mean(clock.hours(a), hours)
            for j, w in zip(running, job_w):
                out[:, j] += w * hours / 1000.0 * np.array([1.0, g_per_kwh, price])
            drawn_kwh[s] += server_w * hours / 1000.0
            busy_min[s] += b - a
    return out[0], out[1], out[2], drawn_kwh, busy_min


def test_specpower_charges_jobs_what_their_server_draws(world):
    """64 one-core jobs fill Server 9 (64 cores) for the same hour: the server draws P_peak, 680 W, so
    together they are charged 680 W, not 64 x their stand-alone 13.7 W (877 W)."""
    n = 64
    wl = make_workload(np.zeros(n), np.full(n, 100.0 / 16), np.full(n, 60.0 * 4.0 / 2.4), np.full(n, 2))  # 1 core, 60 min on Server 9
    machines = build_machines(world.fleet, load_power_curve(DATA))
    problem = build_problem(world.fleet, machines, flat_clock(9, [100.0]), wl)
    run = simulate(problem, Fixed("fill", np.full(n, 8)))
    assert (run.start_min == 0.0).all() and run.finish_min == pytest.approx(np.full(n, 60.0))
    assert problem.energy_kwh[:, 8].sum() == pytest.approx(0.877, abs=0.001)  # what a job alone would be charged, 64 times
    assert run.energy_kwh.sum() == pytest.approx(0.680, rel=1e-12)  # 680 W for one hour
    assert run.idle_energy_kwh[8] == pytest.approx(0.0, abs=1e-12)


def test_specpower_charges_match_a_plain_sweep(world):
    """Jobs of whole cores (so shares are exact) queueing and sharing servers under the SPECpower curve:
    every job's energy, CO2 and cost equals a segment-by-segment reference; on every segment the jobs'
    power adds up to at most P_peak; and per server, jobs' energy plus unallocated idle energy is what
    the server draws, P_idle + (P_peak - P_idle) x curve(U), over the horizon."""
    rng = np.random.default_rng(21)
    n = 400
    wl = make_workload(
        np.cumsum(rng.exponential(1.0, n)), rng.integers(1, 24, n) * 100.0 / 16, rng.uniform(5, 120, n), rng.integers(3, size=n)
    )
    problem = build_problem(
        world.fleet, build_machines(world.fleet, load_power_curve(DATA)), flat_clock(9, [100.0, 300.0, 50.0], price=0.5), wl
    )
    run = simulate(problem, make_policy("random", problem, np.random.default_rng(4), world.pretrained))
    energy, co2, cost, drawn_kwh, busy_min = plain_shared_charges(problem, run)
    np.testing.assert_allclose(run.energy_kwh, energy, rtol=1e-9)
    np.testing.assert_allclose(run.co2_g, co2, rtol=1e-9)
    np.testing.assert_allclose(run.cost, cost, rtol=1e-9)
    idle_while_off_kwh = problem.fleet.p_idle_w * (run.horizon_min - busy_min) / 60_000.0  # no job runs: all idle power is unallocated
    per_server = np.bincount(run.server, weights=run.energy_kwh, minlength=9) + run.idle_energy_kwh
    np.testing.assert_allclose(per_server, drawn_kwh + idle_while_off_kwh, rtol=1e-9)
    assert (run.energy_kwh < problem.energy_kwh[np.arange(n), run.server] * (1 - 1e-6)).any()  # sharing changed charges


def test_agents_carbon_feature_scales_over_the_zones_the_fleet_uses(world):
    """A zone no server draws from (here one with 0 and 5,000 g/kWh) does not stretch the scale."""
    wl = random_workload(50, np.random.default_rng(6))
    used = flat_clock(9, [100.0, 300.0, 200.0])
    extra = Clock((*used.carbon, StepSeries.of(np.array([0.0, 5000.0]))), used.price, used.server_zone, ("test", "unused"), 0.0, "test")
    machines = build_machines(world.fleet)
    expected = build_problem(world.fleet, machines, used, wl).carbon_factor
    np.testing.assert_array_equal(build_problem(world.fleet, machines, extra, wl).carbon_factor, expected)
    assert expected.min() == 0.0 and expected.max() <= 1.0


def test_determinism_same_inputs_same_run(world):
    def once():
        wl = random_workload(400, np.random.default_rng(3), mean_gap_min=1.5)
        problem = build_problem(world.fleet, build_machines(world.fleet), flat_clock(9, [80.0, 120.0, 310.0]), wl)
        return [
            simulate(problem, make_policy(name, problem, np.random.default_rng(9), world.pretrained))
            for name in ("tier_agents", "random", "oracle")
        ]

    for a, b in zip(once(), once()):
        for name in ("server", "start_min", "finish_min", "energy_kwh", "co2_g", "cost", "busy_core_min"):
            assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name


# --- the physical model and units, against hand-computed cases ---


def test_hand_computed_job(world):
    """16 cores (cpu 100 %) for 60 reference minutes on Server 4 (position 3: 16 cores, cpu_rate 2.1,
    140 W idle, 290 W peak), intensity 100 g/kWh in hour 0 and 400 in hour 1, price 0.5 per kWh."""
    wl = make_workload([0.0], [100.0], [60.0], [1])
    problem = build_problem(world.fleet, build_machines(world.fleet), flat_clock(9, [100.0, 400.0], price=0.5), wl)
    run = simulate(problem, Fixed("fixed", np.array([3])))
    runtime = 60.0 * 2.4 / 2.1  # 68.571 min
    energy_kwh = 290.0 * runtime / 60.0 / 1000.0  # 290 W (all cores busy) -> 0.3314 kWh
    mean_g_per_kwh = (100.0 * 60.0 + 400.0 * (runtime - 60.0)) / runtime
    assert run.finish_min[0] == pytest.approx(runtime)
    assert run.energy_kwh[0] == pytest.approx(energy_kwh)
    assert run.co2_g[0] == pytest.approx(energy_kwh * mean_g_per_kwh)
    assert run.cost[0] == pytest.approx(energy_kwh * 0.5)
    summary = summarise(problem, run)
    assert summary.co2_kg == pytest.approx(energy_kwh * mean_g_per_kwh / 1000.0)  # g -> kg
    assert summary.energy_kwh == pytest.approx(0.331428, abs=1e-6)  # W x min / 60 / 1000, not Wh
    # The other 0 cores of the server: no idle share left while the job runs; afterwards none (horizon ends).
    assert run.idle_energy_kwh[3] == pytest.approx(0.0, abs=1e-12)
    assert run.idle_energy_kwh[0] == pytest.approx(80.0 * runtime / 60.0 / 1000.0)  # Server 1 idles 80 W throughout


def test_half_a_server_shares_idle_power(world):
    """A job on half of Server 4's cores is charged half its idle power; the other half is idle energy."""
    wl = make_workload([0.0], [50.0], [60.0], [1])
    problem = build_problem(world.fleet, build_machines(world.fleet), flat_clock(9, [100.0]), wl)
    run = simulate(problem, Fixed("fixed", np.array([3])))
    runtime = 60.0 * 2.4 / 2.1
    assert run.energy_kwh[0] == pytest.approx((0.5 * 140.0 + 150.0 * 0.5) * runtime / 60_000.0)
    assert run.idle_energy_kwh[3] == pytest.approx(0.5 * 140.0 * runtime / 60_000.0)
    assert run.idle_co2_g[3] == pytest.approx(0.5 * 140.0 * runtime / 60_000.0 * 100.0)


def test_work_units():
    work = job_work(np.array([50.0]), np.array([25.0]), duration_min=np.array([30.0]))
    assert work.cores[0] == 8.0 and work.memory_gb[0] == 16.0 and work.base_min[0] == 30.0
