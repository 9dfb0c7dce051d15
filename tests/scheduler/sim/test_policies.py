"""The placement policies, what the oracle guarantees, and the hindsight lower bound."""

import numpy as np
import pytest

from rl import kernel
from rl.agent import run_sequence_py
from rl.features import static_features
from scheduler.core.energy import build_machines
from scheduler.core.series import StepSeries
from scheduler.data.power_curves import load_power_curve
from scheduler.settings import ROOT
from scheduler.sim.metrics import co2_lower_bound_g, least_energy_kwh
from scheduler.sim.policies import POLICIES, Fixed, Oracle, TierAgents, make_policy
from scheduler.sim.signal_clock import Clock
from scheduler.sim.simulator import FleetState, build_problem, simulate
from tests.scheduler.sim.test_signal_clock import flat_clock, real_grid_clock
from tests.scheduler.sim.test_simulator import make_workload, random_workload

DATA = ROOT / "dataset_rl"


@pytest.fixture(scope="module")
def grid_clock_real(world):
    return real_grid_clock(world)


@pytest.fixture(scope="module")
def contended(world, grid_clock_real):
    """300 jobs arriving every 1.5 min on average on real grid carbon: queues build up."""
    wl = random_workload(300, np.random.default_rng(11), mean_gap_min=1.5)
    return build_problem(world.fleet, build_machines(world.fleet), grid_clock_real, wl)


@pytest.fixture(scope="module")
def runs(world, contended):
    return {name: simulate(contended, make_policy(name, contended, np.random.default_rng(5), world.pretrained)) for name in POLICIES}


def test_every_policy_stays_in_the_pool(contended, runs):
    for name, run in runs.items():
        pools = contended.fleet.pools
        assert all(s in pools[t] for s, t in zip(run.server, contended.workload.tier)), name


def test_lower_bound_is_below_every_policy_job_by_job(contended, runs):
    bound = co2_lower_bound_g(contended)
    for name, run in runs.items():
        assert (bound <= run.co2_g).all(), name
        assert bound.sum() <= run.co2_g.sum()


def test_lower_bound_on_a_flat_series_is_the_best_pool_server(world):
    wl = make_workload([0.0, 5.0], [50.0, 100.0], [30.0, 200.0], [0, 2])
    problem = build_problem(world.fleet, build_machines(world.fleet), flat_clock(9, [250.0] * 24), wl)
    expected = [problem.energy_kwh[j, problem.fleet.pools[t]].min() * 250.0 for j, t in enumerate(wl.tier)]
    np.testing.assert_allclose(co2_lower_bound_g(problem), expected, rtol=1e-8)


def test_lower_bound_uses_the_greenest_window(world):
    """Hours alternate 100 / 300 g/kWh: a 1-hour job can hit a 100 hour; a 2-hour job averages 200."""
    wl = make_workload([0.0, 0.0], [25.0, 25.0], [60.0 * 1.2 / 2.4, 120.0 * 1.2 / 2.4], [0, 0])  # 60 / 120 min on Server 1
    problem = build_problem(world.fleet, build_machines(world.fleet), flat_clock(9, [100.0, 300.0] * 12), wl)
    pool = problem.fleet.pools[0]
    bound = co2_lower_bound_g(problem)
    assert bound[0] == pytest.approx(problem.energy_kwh[0, pool].min() * 100.0, rel=1e-8)
    per_server = problem.energy_kwh[1, pool] * np.where(problem.runtime_min[1, pool] >= 120.0 - 1e-9, 200.0, 100.0)
    assert bound[1] <= per_server.min() * (1 + 1e-8)


def test_lower_bound_of_a_zero_length_job_is_zero_not_nan(world):
    wl = make_workload([0.0, 5.0], [50.0, 50.0], [0.0, 30.0], [0, 1])
    problem = build_problem(world.fleet, build_machines(world.fleet), flat_clock(9, [100.0, 300.0]), wl)
    bound = co2_lower_bound_g(problem)
    assert bound[0] == 0.0 and 0.0 < bound[1] < np.inf


def test_lower_bound_holds_with_the_specpower_curve(world, grid_clock_real):
    """With SPECpower a job's charge depends on what shares its server, and can fall below its
    stand-alone energy (curve(U) / U dips under 1 between 40 % and 90 %): the bound must still hold."""
    wl = random_workload(300, np.random.default_rng(11), mean_gap_min=1.5)
    problem = build_problem(world.fleet, build_machines(world.fleet, load_power_curve(DATA)), grid_clock_real, wl)
    bound, least = co2_lower_bound_g(problem), least_energy_kwh(problem)
    rows = np.arange(len(wl))
    below_alone = 0
    for name in POLICIES:
        run = simulate(problem, make_policy(name, problem, np.random.default_rng(5), world.pretrained))
        assert (least[rows, run.server] <= run.energy_kwh * (1 + 1e-12)).all(), name
        assert (bound <= run.co2_g).all(), name
        below_alone += int((run.energy_kwh < problem.energy_kwh[rows, run.server] * (1 - 1e-9)).sum())
    assert below_alone > 0  # the case the bound guards against does happen


class ProbedOracle(Oracle):
    """The oracle, also noting each pool server's start and CO2 for the job, computed independently."""

    def __init__(self, problem):
        super().__init__(problem)
        self.problem, self.options = problem, {}

    def choose(self, job: int, now_min: float, state: FleetState) -> int:
        pool = self.problem.fleet.pools[self.problem.workload.tier[job]]
        starts = np.array([state.queues[s].earliest_start(now_min, int(self.problem.cores_milli[job, s])) for s in pool])
        runtime = self.problem.runtime_min[job, pool]
        co2 = self.problem.energy_kwh[job, pool] * self.problem.clock.carbon_mean(pool, starts, runtime)
        self.options[job] = (pool, starts, co2)
        return super().choose(job, now_min, state)


def test_oracle_is_optimal_per_job_given_the_queues(contended):
    oracle = ProbedOracle(contended)
    run = simulate(contended, oracle)
    for job, (pool, starts, co2) in oracle.options.items():
        chosen = int(np.flatnonzero(pool == run.server[job])[0])
        assert run.start_min[job] == starts[chosen]  # its foresight of the queue is exact
        assert run.co2_g[job] <= co2.min() * (1 + 1e-9)


def test_when_capacity_never_binds_the_oracle_beats_every_policy(world, grid_clock_real):
    """Jobs 50 h apart, each shorter than 40 h on any server: every pool server is free at every
    arrival, whatever the placement, so under every policy each job starts on arrival and its CO2
    depends only on its server; the oracle's per-job minimum is then a minimum over the whole run."""
    rng = np.random.default_rng(12)
    n = 150
    wl = make_workload(np.arange(n) * 3000.0, rng.uniform(5, 100, n), rng.uniform(5, 300, n), rng.integers(3, size=n))
    problem = build_problem(world.fleet, build_machines(world.fleet), grid_clock_real, wl)
    assert problem.runtime_min.max() < 3000.0
    runs = {name: simulate(problem, make_policy(name, problem, np.random.default_rng(1), world.pretrained)) for name in POLICIES}
    oracle = runs.pop("oracle")
    assert (oracle.start_min == wl.arrival_min).all()
    for name, run in runs.items():
        assert (run.start_min == wl.arrival_min).all(), name
        assert (oracle.co2_g <= run.co2_g * (1 + 1e-9)).all(), name
        assert oracle.co2_g.sum() <= run.co2_g.sum(), name


def two_zone_clock(green: list[float], dirty: list[float], green_servers: list[int]) -> Clock:
    zone = np.ones(9, np.intp)
    zone[green_servers] = 0
    return Clock(
        (StepSeries.of(np.array(green)), StepSeries.of(np.array(dirty))),
        StepSeries.of(np.array([0.5])),
        zone,
        ("green", "dirty"),
        0.0,
        "test",
    )


def test_the_oracle_is_not_optimal_over_a_run(world):
    """Two runs where no oracle job waits and another policy emits less. (a) The oracle starts both jobs
    at once in a dirty hour; queueing the long job behind the short one on Server 1 moves it into the
    green hours. (b) No job waits under either policy: the oracle sends the small job to the green
    Server 1, whose 4 cores then cannot take the big one before the green hours end; swapping them
    (small on a dirty server, big on the green one) emits less."""
    fleet, machines = world.fleet, build_machines(world.fleet)
    hours = [5000.0] + [10.0] * 23
    queued = build_problem(
        fleet, machines, two_zone_clock(hours, hours, []), make_workload([0.0, 0.0], [25.0, 25.0], [30.0, 600.0], [0, 0])
    )
    swapped = build_problem(
        fleet,
        machines,
        two_zone_clock([10.0] * 5 + [1000.0] * 19, [500.0] * 24, [0]),
        make_workload([0.0, 1.0], [6.25, 25.0], [180.0, 100.0], [0, 0]),
    )
    for problem, better in ((queued, Fixed("queue", np.array([0, 0]))), (swapped, Fixed("swap", np.array([1, 0])))):
        oracle = simulate(problem, Oracle(problem))
        other = simulate(problem, better)
        assert (oracle.start_min == problem.workload.arrival_min).all()
        assert other.co2_g.sum() < 0.95 * oracle.co2_g.sum()
    assert simulate(swapped, Fixed("swap", np.array([1, 0]))).start_min.tolist() == [0.0, 1.0]  # (b): nobody waits


def test_fixed_policies_follow_their_rules(contended, runs):
    wl, pools = contended.workload, contended.fleet.pools
    rows = np.arange(len(wl))
    for tier, pool in enumerate(pools):
        mine = np.flatnonzero(wl.tier == tier)
        np.testing.assert_array_equal(runs["round_robin"].server[mine], pool[np.arange(len(mine)) % len(pool)])
        best = contended.quality[np.ix_(mine, pool)].max(axis=1)
        np.testing.assert_array_equal(contended.quality[mine, runs["greedy"].server[mine]], best)
    carbon = contended.clock.carbon_now(wl.arrival_min)
    chosen = carbon[rows, runs["lowest_carbon"].server]
    for tier, pool in enumerate(pools):
        mine = wl.tier == tier
        np.testing.assert_array_equal(chosen[mine], carbon[np.ix_(mine, pool)].min(axis=1))


def test_ties_go_to_the_lowest_position(world):
    """One zone for every server: every pool server is equally green now, so lowest_carbon takes the
    first; the first job on an empty fleet goes to least_loaded's first server."""
    wl = make_workload([0.0, 0.0, 0.0], [10.0] * 3, [10.0] * 3, [0, 1, 2])
    problem = build_problem(world.fleet, build_machines(world.fleet), flat_clock(9, [100.0]), wl)
    first = [int(p[0]) for p in world.fleet.pools]
    for name in ("lowest_carbon", "least_loaded"):
        run = simulate(problem, make_policy(name, problem, np.random.default_rng(0), world.pretrained))
        assert run.server.tolist() == first, name


def test_random_is_reproducible_and_spread(world, contended):
    a = simulate(contended, make_policy("random", contended, np.random.default_rng(3), world.pretrained)).server
    b = simulate(contended, make_policy("random", contended, np.random.default_rng(3), world.pretrained)).server
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a)) == 9


def test_unknown_policy_is_named(contended, world):
    with pytest.raises(ValueError, match="'fastest'"):
        make_policy("fastest", contended, np.random.default_rng(0), world.pretrained)


@pytest.mark.parametrize("masked", [False, True], ids=["every_server", "allowed_mask"])
def test_tier_agents_act_and_learn_as_the_service_does(world, masked):
    """With runtimes longer than the whole run no job finishes, so a pool's loads are the counts of jobs
    placed on it, exactly what rl.agent.run_sequence_py keeps: the simulator's agents must then take
    the same actions and end with the same weights, bit for bit, tier by tier, as the Python loop and
    as the service's C kernel, with or without a mask of allowed servers."""
    rng = np.random.default_rng(13)
    n = 400
    wl = make_workload(
        np.sort(rng.uniform(0, 100, n)), rng.uniform(0, 100, n), np.full(n, 1e6), rng.integers(3, size=n), memory=rng.uniform(0, 100, n)
    )
    problem = build_problem(world.fleet, build_machines(world.fleet), flat_clock(9, [100.0, 200.0, 350.0]), wl)
    pools = world.fleet.pools
    allowed = None
    if masked:
        allowed = rng.random((n, max(len(p) for p in pools))) < 0.5
        allowed[np.arange(n), [rng.integers(len(pools[t])) for t in wl.tier]] = True  # one server of its pool at least
    seeds = np.random.SeedSequence(77).spawn(3)
    policy = TierAgents(problem, world.pretrained, [np.random.default_rng(s) for s in seeds], allowed)
    run = simulate(problem, policy)
    static = static_features(problem.carbon_factor, problem.price_now, wl.cpu, wl.memory)
    loops = [run_sequence_py] + ([kernel.run_sequence] if kernel.available() else [])
    for tier, pool in enumerate(pools):
        rows = np.flatnonzero(wl.tier == tier)
        mask = None if allowed is None else allowed[rows, : len(pool)]
        draws = np.random.default_rng(seeds[tier]).random((len(rows), 2))
        for loop in loops:
            agent = world.pretrained[tier].copy()
            reference = loop(
                agent,
                [0] * len(pool),
                static[rows],
                problem.quality[np.ix_(rows, pool)],
                draws,
                1.0 / agent.config.overload_divisor,
                allowed=mask,
            )
            np.testing.assert_array_equal(run.server[rows], pool[reference.actions])
            assert policy.agents[tier].weights.tobytes() == agent.weights.tobytes()
            assert policy.agents[tier].steps == agent.steps
            np.testing.assert_array_equal(np.asarray(policy.rl_reward)[rows], reference.rl_reward)
            np.testing.assert_array_equal(np.asarray(policy.explored)[rows], reference.explored)
        if mask is not None:
            assert mask[np.arange(len(rows)), reference.actions].all()
    assert any(policy.explored)  # the comparison covers exploring steps too


def test_tier_agents_reject_a_mask_leaving_a_job_no_server(world, contended):
    allowed = np.ones((len(contended), 3), bool)
    allowed[7] = False
    with pytest.raises(ValueError, match="row 7"):
        TierAgents(contended, world.pretrained, [np.random.default_rng(0)] * 3, allowed)


def test_agents_learn_on_copies(world, contended):
    before = [a.weights.copy() for a in world.pretrained]
    simulate(contended, make_policy("tier_agents", contended, np.random.default_rng(0), world.pretrained))
    for a, w in zip(world.pretrained, before):
        np.testing.assert_array_equal(a.weights, w)
