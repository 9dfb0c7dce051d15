import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rl import kernel
from rl.agent import AgentConfig, Learner, TierAgent, epsilon, run_sequence, run_sequence_py


def random_inputs(seed: int, m: int, pool: int):
    rng = np.random.default_rng(seed)
    agent = TierAgent(rng.normal(size=(pool, pool + 4)), int(rng.integers(0, 3000)))
    loads = rng.integers(0, 20, size=pool).tolist()
    return agent, loads, rng.random((m, 4)), rng.random((m, pool)), rng.random((m, 2))


@pytest.mark.skipif(not kernel.available(), reason="no C compiler here: only the Python loop runs")
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), m=st.integers(0, 400), pool=st.integers(1, 6), weight=st.floats(0, 1))
def test_c_kernel_equals_python_loop_bit_for_bit(seed, m, pool, weight):
    a_agent, a_loads, static, quality, draws = random_inputs(seed, m, pool)
    b_agent, b_loads = a_agent.copy(), list(a_loads)
    a = kernel.run_sequence(a_agent, a_loads, static, quality, draws, weight)
    b = run_sequence_py(b_agent, b_loads, static, quality, draws, weight)
    assert a.actions.tolist() == b.actions.tolist()
    assert np.array_equal(a.q_values, b.q_values) and np.array_equal(a.rl_reward, b.rl_reward)
    assert a.explored.tolist() == b.explored.tolist()
    assert np.array_equal(a_agent.weights, b_agent.weights) and a_agent.steps == b_agent.steps
    assert a_loads == b_loads


@pytest.mark.skipif(not kernel.available(), reason="no C compiler here: only the Python loop runs")
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), m=st.integers(0, 300), pool=st.integers(1, 6))
def test_allowed_servers_bind_both_loops_alike(seed, m, pool):
    """With a mask (placement's "can finish by the deadline"), greedy and exploring choices stay inside it,
    and the C kernel still equals the Python loop bit for bit."""
    a_agent, a_loads, static, quality, draws = random_inputs(seed, m, pool)
    rng = np.random.default_rng(seed + 1)
    allowed = rng.random((m, pool)) < 0.5
    allowed[np.arange(m), rng.integers(0, pool, m)] = True  # every job may take one server at least
    draws[:, 0] = np.where(rng.random(m) < 0.3, 0.0, draws[:, 0])  # plenty of exploring steps
    b_agent, b_loads = a_agent.copy(), list(a_loads)
    a = kernel.run_sequence(a_agent, a_loads, static, quality, draws, 0.2, allowed=allowed)
    b = run_sequence_py(b_agent, b_loads, static, quality, draws, 0.2, allowed)
    assert a.actions.tolist() == b.actions.tolist() and a.explored.tolist() == b.explored.tolist()
    assert np.array_equal(a.q_values, b.q_values) and np.array_equal(a_agent.weights, b_agent.weights)
    assert allowed[np.arange(m), a.actions].all()
    greedy = ~a.explored
    best_allowed = np.where(allowed, a.q_values, -np.inf).argmax(axis=1)
    assert (a.actions[greedy] == best_allowed[greedy]).all()


@pytest.mark.skipif(not kernel.available(), reason="no C compiler here: only the Python loop runs")
@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    m=st.integers(1, 200),
    lr=st.floats(0.001, 0.5),
    gamma=st.floats(0, 1),
    eps_start=st.floats(0, 1),
    eps_floor=st.floats(0, 1),
    decay=st.integers(1, 300),
)
def test_c_kernel_takes_every_constant_from_the_config(seed, m, lr, gamma, eps_start, eps_floor, decay):
    """With hyper-parameters far from the defaults the two loops still agree: the C code holds no copy of them."""
    config = AgentConfig(lr=lr, gamma=gamma, eps_start=eps_start, eps_floor=eps_floor, eps_decay_steps=decay)
    a_agent, a_loads, static, quality, draws = random_inputs(seed, m, 3)
    a_agent = TierAgent(a_agent.weights, a_agent.steps % (2 * decay), config)
    b_agent, b_loads = a_agent.copy(), list(a_loads)
    a = kernel.run_sequence(a_agent, a_loads, static, quality, draws, 0.3)
    b = run_sequence_py(b_agent, b_loads, static, quality, draws, 0.3)
    assert a.actions.tolist() == b.actions.tolist() and a.explored.tolist() == b.explored.tolist()
    assert np.array_equal(a.q_values, b.q_values) and np.array_equal(a.rl_reward, b.rl_reward)
    assert np.array_equal(a_agent.weights, b_agent.weights) and a_agent.steps == b_agent.steps


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), m=st.integers(0, 200), pool=st.integers(1, 6))
def test_recorded_weights_are_the_ones_each_decision_used(seed, m, pool):
    """Each step's recorded weights give back its Q-values (Q = W . phi, phi rebuilt from the loads the step
    saw), in both loops alike; asking for them changes no decision."""
    agent, loads, static, quality, draws = random_inputs(seed, m, pool)
    plain_agent, plain_loads = agent.copy(), list(loads)
    start = list(loads)
    b = run_sequence_py(agent.copy(), list(loads), static, quality, draws, 0.2, record_weights=True)
    plain = run_sequence_py(plain_agent, plain_loads, static, quality, draws, 0.2)
    assert plain.weights is None and b.actions.tolist() == plain.actions.tolist()
    placed = np.zeros((m, pool), np.int64)
    placed[np.arange(m), b.actions] = 1
    seen = np.asarray(start) + np.cumsum(placed, axis=0) - placed  # loads before each job
    phi = np.hstack([seen / np.maximum(seen.max(axis=1, keepdims=True), 1), static]) if m else np.empty((0, pool + 4))
    assert b.weights.shape == (m, pool, pool + 4)
    np.testing.assert_allclose(np.einsum("mpf,mf->mp", b.weights, phi), b.q_values, rtol=1e-12, atol=1e-12)
    if kernel.available():
        a = kernel.run_sequence(agent.copy(), list(loads), static, quality, draws, 0.2, record_weights=True)
        assert np.array_equal(a.weights, b.weights) and np.array_equal(a.q_values, b.q_values)


def _no_kernel(monkeypatch):
    """As on a machine without a C compiler; calling the kernel anyway fails the test."""
    monkeypatch.setattr(kernel, "available", lambda: False)
    monkeypatch.setattr(kernel, "run_sequence", lambda *a, **k: pytest.fail("the C kernel ran"))


def test_python_loop_is_used_without_a_kernel(monkeypatch):
    _no_kernel(monkeypatch)
    agent, loads, static, quality, draws = random_inputs(1, 50, 3)
    expected_agent = agent.copy()
    result = run_sequence(agent, list(loads), static, quality, draws, 0.2)
    expected = run_sequence_py(expected_agent, list(loads), static, quality, draws, 0.2)
    assert result.actions.tolist() == expected.actions.tolist()


@pytest.mark.parametrize(("steps", "eps"), [(0, 0.15), (1000, 0.075), (1800, 0.015), (2000, 0.015), (10**6, 0.015)])
def test_epsilon_schedule(steps, eps):
    assert TierAgent.fresh(3).epsilon(steps) == pytest.approx(eps)
    assert epsilon(steps, AgentConfig()) == pytest.approx(eps)


def test_epsilon_follows_the_config():
    config = AgentConfig(eps_start=0.4, eps_floor=0.25, eps_decay_steps=100)
    assert [epsilon(s, config) for s in (0, 50, 75, 500)] == pytest.approx([0.4, 0.2, 0.1, 0.1])
    assert TierAgent(np.zeros((2, 6)), 50, config).epsilon() == pytest.approx(0.2)


def test_explored_job_keeps_to_the_allowed_servers():
    """The second draw picks among the allowed servers only: 0.2 of all three would be server 0, of the
    two allowed it is the first of them, server 1."""
    agent = TierAgent.fresh(3)
    result = run_sequence_py(
        agent, [0, 0, 0], np.zeros((1, 4)), np.zeros((1, 3)), np.array([[0.0, 0.2]]), 0.2, np.array([[False, True, True]])
    )
    assert result.explored[0] and result.actions.tolist() == [1]


def test_learner_close_settles_once():
    """close() makes the last update and hands the weights back; a second close() changes nothing."""
    agent = TierAgent(np.zeros((2, 6)), steps=10**6, config=AgentConfig(lr=1.0))
    learner = Learner(agent)
    a, q, reward, explored = learner.step([0, 0], [1.0, 0.0, 0.0, 0.0], [0.5, 0.0], 0.99, 0.0, 0.0)
    assert (a, q, reward, explored) == (0, [0.0, 0.0], 0.5, False)
    assert not agent.weights.any()  # nothing learnt until the job has a next state or the sequence closes
    learner.close()
    learner.close()
    np.testing.assert_array_equal(agent.weights[0], [0, 0, 0.5, 0, 0, 0])
    assert agent.steps == 10**6 + 1


def test_one_step_by_hand():
    """A single greedy job with no next state: W[a] += lr * (r - Q(s, a)) * phi."""
    agent = TierAgent(np.zeros((3, 7)), steps=10**6, config=AgentConfig(lr=0.5))
    agent.weights[1, 3] = 1.0  # prefers server 1 when 1 - carbon_factor > 0
    static = np.array([[0.8, 0.5, 0.2, 0.4]])
    quality = np.array([[0.1, 0.7, 0.3]])
    result = run_sequence(agent, [2, 0, 4], static, quality, np.array([[0.99, 0.0]]), overload_weight=0.2)
    assert result.actions.tolist() == [1] and not result.explored[0]
    phi = np.array([0.5, 0.0, 1.0, 0.8, 0.5, 0.2, 0.4])
    assert result.q_values[0].tolist() == pytest.approx([0.0, 0.8, 0.0])
    assert result.rl_reward[0] == pytest.approx(0.7)  # load 0 is below the mean 2: no penalty
    expected = np.zeros(7)
    expected[3] = 1.0
    expected += 0.5 * (0.7 - 0.8) * phi
    np.testing.assert_allclose(agent.weights[1], expected)


def test_td_target_bootstraps_from_the_next_job():
    agent = TierAgent(np.zeros((2, 6)), steps=10**6, config=AgentConfig(lr=1.0, gamma=0.5))
    static = np.array([[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    quality = np.array([[1.0, 0.0], [0.0, 1.0]])
    run_sequence(agent, [0, 0], static, quality, np.array([[0.99, 0.0], [0.99, 0.0]]), 0.0)
    # Job 1 picks server 0 (tie -> lowest index), reward 1. At job 2 (loads [1, 0]), Q(s') = 0 before the
    # update, so W[0] += 1 * (1 + 0.5 * 0 - 0) * phi1 with phi1 = [0, 0, 1, 0, 0, 0].
    # Job 2 then sees Q(s2, 0) = W[0] . [1, 0, 1, 0, 0, 0] = 1 > 0 and picks server 0 again, reward 0
    # minus the overload penalty (weight 0); the last update has no bootstrap: W[0] += (0 - 1) * phi2.
    np.testing.assert_allclose(agent.weights[0], [-1, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(agent.weights[1], 0)


def test_exploration_picks_by_second_draw():
    agent = TierAgent.fresh(3)
    result = run_sequence(agent, [0, 0, 0], np.zeros((1, 4)), np.zeros((1, 3)), np.array([[0.0, 0.7]]), 0.2)
    assert result.explored[0] and result.actions.tolist() == [2]
    assert agent.steps == 1


@pytest.mark.parametrize("use_kernel", [True, False], ids=["kernel", "python"])
def test_episodes_equal_separate_calls(monkeypatch, use_kernel):
    if use_kernel and not kernel.available():
        pytest.skip("no C compiler here")
    if not use_kernel:
        _no_kernel(monkeypatch)
    agent, _, static, quality, draws = random_inputs(4, 60, 3)
    starts = np.random.default_rng(5).integers(0, 9, size=(6, 3))
    separate = agent.copy()
    for e in range(6):
        rows = slice(e * 10, (e + 1) * 10)
        run_sequence_py(separate, starts[e].tolist(), static[rows], quality[rows], draws[rows], 0.8)
    together = agent.copy()
    run_sequence(together, [0, 0, 0], static, quality, draws, 0.8, episode_loads=starts)
    assert np.array_equal(separate.weights, together.weights) and separate.steps == together.steps
