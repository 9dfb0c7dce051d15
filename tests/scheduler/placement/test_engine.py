import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.core.job_batch import JobBatch
from scheduler.core.states import TIERS
from scheduler.placement.engine import EngineState, World, run_batch
from tests.scheduler.core.test_scoring import plain_scores


def make_jobs(rng: np.random.Generator, n: int) -> JobBatch:
    return JobBatch.of(
        tier=rng.integers(3, size=n).astype(np.int8),
        latency=rng.integers(-1, 3, size=n).astype(np.int8),
        cpu=rng.uniform(0, 100, n),
        memory=rng.uniform(0, 100, n),
    )


def fresh_state(world: World, seed: int) -> EngineState:
    streams = np.random.SeedSequence(seed).spawn(3)
    return EngineState(
        loads=np.zeros(world.fleet.n_servers, np.int64),
        pointer=0,
        agents=[a.copy() for a in world.pretrained],
        rngs=[np.random.Generator(np.random.PCG64(s)) for s in streams],
        scenario=world.runtime("reference").scenario,
        forecast_rng=np.random.default_rng(seed),
    )


def plain_run(world: World, state: EngineState, jobs: JobBatch) -> list[tuple[int, list[float], float]]:
    """The seed's loop, one job at a time, in plain Python: state at the pointer, pool scores, the tier
    agent's epsilon-greedy choice, TD(0) bootstrapping from the next job of the same tier."""
    s, fleet = world.signals, world.fleet
    weights = [a.weights.tolist() for a in state.agents]
    steps = [a.steps for a in state.agents]
    pending: list[tuple[list[float], int, float] | None] = [None, None, None]
    out = []
    for i in range(len(jobs)):
        t = state.pointer + i
        tier = int(jobs.tier[i])
        cfg = state.agents[tier].config
        load, price = float(s.load[t % len(s.load)]), float(s.energy_price[t % len(s.energy_price)])
        carbon = float(s.carbon_factor[t % len(s.carbon_factor)])
        quality = plain_scores(fleet, tier, load, price, carbon)["final"]
        pool = [int(x) for x in fleet.pools[tier]]
        loads = [int(state.loads[p]) for p in pool]
        busiest = max(loads) or 1
        phi = [x / busiest for x in loads] + [1 - carbon, price, jobs.cpu[i] / 100, jobs.memory[i] / 100]
        w = weights[tier]

        def q_of(row: list[float], x: list[float]) -> float:
            total = 0.0
            for a, b in zip(row, x):
                total += a * b
            return total

        q = [q_of(row, phi) for row in w]
        if pending[tier] is not None:
            p_phi, p_a, p_r = pending[tier]
            step = cfg.lr * (p_r + cfg.gamma * max(q) - q_of(w[p_a], p_phi))
            w[p_a] = [wj + step * fj for wj, fj in zip(w[p_a], p_phi)]
            q[p_a] = q_of(w[p_a], phi)
        eps = cfg.eps_start * max(cfg.eps_floor, 1 - steps[tier] / cfg.eps_decay_steps)
        u, v = state.rngs[tier].random(2)
        a = min(int(v * len(pool)), len(pool) - 1) if u < eps else q.index(max(q))
        reward = quality[a] - max(0.0, loads[a] - sum(loads) / len(loads)) / cfg.overload_divisor
        state.loads[pool[a]] += 1
        steps[tier] += 1
        pending[tier] = (phi, a, reward)
        out.append((pool[a], q, reward))
    for tier, p in enumerate(pending):
        if p is not None:
            p_phi, p_a, p_r = p
            w = weights[tier]
            step = state.agents[tier].config.lr * (p_r - sum(x * y for x, y in zip(w[p_a], p_phi)))
            w[p_a] = [wj + step * fj for wj, fj in zip(w[p_a], p_phi)]
    for agent, w in zip(state.agents, weights):
        agent.weights[:] = w
    return out


def test_engine_equals_plain_seed_loop(world):
    jobs = make_jobs(np.random.default_rng(3), 3000)
    fast_state, plain_state = fresh_state(world, 11), fresh_state(world, 11)
    record = run_batch(world, fast_state, np.arange(1, 3001), jobs)
    plain = plain_run(world, plain_state, jobs)
    assert record.chosen.tolist() == [p[0] for p in plain]
    np.testing.assert_allclose(record.q_values, [p[1] for p in plain], atol=1e-9)
    np.testing.assert_allclose(record.rl_reward, [p[2] for p in plain], atol=1e-9)
    for fast_agent, plain_agent in zip(fast_state.agents, plain_state.agents):
        np.testing.assert_allclose(fast_agent.weights, plain_agent.weights, atol=1e-9)
    assert fast_state.loads.tolist() == plain_state.loads.tolist()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 300))
def test_choices_stay_in_the_job_pool(world, seed, n):
    jobs = make_jobs(np.random.default_rng(seed), n)
    record = run_batch(world, fresh_state(world, seed), np.arange(1, n + 1), jobs)
    for tier, pool in enumerate(world.fleet.pools):
        assert np.isin(record.chosen[jobs.tier == tier], pool).all()
    assert np.isfinite(record.q_values[~np.isnan(record.q_values)]).all()
    assert ((record.reward >= 0) & (record.reward <= 1)).all()


def test_same_seed_same_decisions_other_seed_differs(world):
    jobs = make_jobs(np.random.default_rng(5), 2000)
    a = run_batch(world, fresh_state(world, 1), np.arange(2000), jobs)
    b = run_batch(world, fresh_state(world, 1), np.arange(2000), jobs)
    c = run_batch(world, fresh_state(world, 2), np.arange(2000), jobs)
    assert np.array_equal(a.chosen, b.chosen) and np.array_equal(a.q_values, b.q_values, equal_nan=True)
    assert not np.array_equal(a.explored, c.explored)


def test_loads_before_count_earlier_placements(world):
    jobs = make_jobs(np.random.default_rng(9), 500)
    state = fresh_state(world, 3)
    state.loads[:] = 5
    record = run_batch(world, state, np.arange(500), jobs)
    assert record.loads_before[0].tolist() == [5] * 9
    for i in (1, 250, 499):
        expected = 5 + np.bincount(record.chosen[:i], minlength=9)
        assert record.loads_before[i].tolist() == expected.tolist()
    assert state.loads.tolist() == (5 + np.bincount(record.chosen, minlength=9)).tolist()
    assert state.pointer == 500


def test_empty_batch_changes_nothing(world):
    state = fresh_state(world, 3)
    record = run_batch(world, state, np.empty(0, np.int64), make_jobs(np.random.default_rng(0), 0))
    assert len(record) == 0 and state.pointer == 0 and state.loads.sum() == 0


@pytest.mark.parametrize("tier", range(3), ids=TIERS)
def test_pointer_wraps_around_the_series(world, tier):
    state = fresh_state(world, 1)
    state.pointer = len(world.signals.carbon_factor) - 1
    jobs = make_jobs(np.random.default_rng(1), 3)
    jobs.tier[:] = tier
    record = run_batch(world, state, np.arange(3), jobs)
    assert record.carbon_factor[1] == world.signals.carbon_factor[0]
