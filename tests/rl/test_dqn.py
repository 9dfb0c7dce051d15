"""rl/dqn.py and rl/dqn_net.py: gradients against finite differences, double-DQN targets, determinism, save/load, learning."""

import numpy as np
import pytest

from rl.dqn import DQNAgent, DQNConfig, train
from rl.dqn_net import PREDICT_ROWS, Optimizer, backward, forward, huber, init_params, loss_and_grads, predict, td_targets


def batch(rng, n, state_dim, n_actions):
    return rng.normal(size=(n, state_dim)), rng.integers(0, n_actions, size=n), rng.normal(size=n) * 3.0


@pytest.mark.parametrize("hidden,n_actions,delta", [((7,), 3, 1.0), ((6, 5), 4, 0.5), ((5, 4, 3), 1, 2.0)])
def test_every_gradient_matches_central_finite_differences(hidden, n_actions, delta):
    rng = np.random.default_rng(3)
    params = init_params(5, n_actions, hidden, rng)
    for k in params:  # non-trivial heads and biases, so every parameter moves the loss
        params[k] = params[k] + rng.normal(scale=0.3, size=params[k].shape)
    states, actions, targets = batch(rng, 16, 5, n_actions)
    _, grads = loss_and_grads(params, states, actions, targets, delta)
    assert set(grads) == set(params)
    h = 1e-6
    checked = 0
    for k, p in params.items():
        numeric = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + h
            up, _ = loss_and_grads(params, states, actions, targets, delta)
            p[idx] = old - h
            down, _ = loss_and_grads(params, states, actions, targets, delta)
            p[idx] = old
            numeric[idx] = (up - down) / (2 * h)
            checked += 1
        np.testing.assert_allclose(grads[k], numeric, rtol=1e-5, atol=1e-7, err_msg=k)
    assert checked == sum(p.size for p in params.values())


def test_backward_of_a_sum_of_q_values_matches_finite_differences():
    """The dueling head's mean subtraction on its own: dL/dQ = ones has dL/dA = 0 and dL/dV = n."""
    rng = np.random.default_rng(8)
    params = init_params(3, 4, (5,), rng)
    x = rng.normal(size=(6, 3))
    w = rng.normal(size=(6, 4))
    acts = forward(params, x)[1]
    grads = backward(params, acts, w)
    for k in ("Wv", "Wa", "W0"):
        p = params[k]
        idx = tuple(rng.integers(0, s) for s in p.shape)
        old = p[idx]
        p[idx] = old + 1e-6
        up = (forward(params, x)[0] * w).sum()
        p[idx] = old - 1e-6
        down = (forward(params, x)[0] * w).sum()
        p[idx] = old
        assert grads[k][idx] == pytest.approx((up - down) / 2e-6, rel=1e-6, abs=1e-8)


def test_dueling_q_is_value_plus_centred_advantage():
    rng = np.random.default_rng(1)
    params = init_params(4, 3, (8,), rng)
    x = rng.normal(size=(5, 4))
    q, acts = forward(params, x)
    h = acts[-1]
    v = h @ params["Wv"] + params["bv"]
    a = h @ params["Wa"] + params["ba"]
    np.testing.assert_allclose(q, v + a - a.mean(axis=1, keepdims=True))
    np.testing.assert_allclose(q.mean(axis=1), v[:, 0])


def test_huber_is_quadratic_inside_and_linear_outside():
    loss, grad = huber(np.array([-3.0, -0.5, 0.0, 0.5, 3.0]), 1.0)
    np.testing.assert_allclose(loss, [2.5, 0.125, 0.0, 0.125, 2.5])
    np.testing.assert_allclose(grad, [-1.0, -0.5, 0.0, 0.5, 1.0])


def test_double_dqn_target_takes_the_online_argmax_and_the_target_value_and_stops_at_terminals():
    rng = np.random.default_rng(5)
    online = init_params(3, 4, (6,), rng)
    target = init_params(3, 4, (6,), rng)
    s2 = rng.normal(size=(8, 3))
    r = rng.normal(size=8)
    done = np.array([0, 1, 0, 1, 0, 0, 1, 0], dtype=float)
    got = td_targets(online, target, r, s2, done, 0.9)
    best = forward(online, s2)[0].argmax(axis=1)
    q_t = forward(target, s2)[0]
    want = [r[i] + (0.0 if done[i] else 0.9 * q_t[i, best[i]]) for i in range(8)]
    np.testing.assert_allclose(got, want)
    assert (got[done == 1] == r[done == 1]).all()
    # not the target's own max (that would be vanilla DQN), on some row at least
    assert not np.allclose(got, r + 0.9 * (1 - done) * q_t.max(axis=1))


def test_adam_and_sgd_descend_a_quadratic():
    for kind, lr in (("adam", 0.1), ("sgd", 0.1)):
        p = {"x": np.array([3.0, -2.0])}
        opt = Optimizer(kind, lr)
        for _ in range(300):
            opt.step(p, {"x": 2 * p["x"]})
        assert np.abs(p["x"]).max() < 1e-2, kind


class Chain:
    """A corridor of `length` cells: action 1 moves right, 0 left; reward 1 only at the right end, which
    is terminal. Episodes are real (the last step is terminal, the others bootstrap); the optimal policy
    always moves right, which only bootstrapping across steps can learn (every other reward is 0)."""

    def __init__(self, length=6, limit=30):
        self.length, self.limit = length, limit

    def reset(self):
        self.pos, self.t = 0, 0
        return self.obs()

    def obs(self):
        o = np.zeros(self.length)
        o[self.pos] = 1.0
        return o

    def step(self, action):
        self.t += 1
        self.pos = max(0, min(self.length - 1, self.pos + (1 if action == 1 else -1)))
        at_end = self.pos == self.length - 1
        return self.obs(), 1.0 if at_end else 0.0, at_end or self.t >= self.limit


SMALL = DQNConfig(
    hidden=(16,),
    learning_rate=5e-3,
    gamma=0.9,
    buffer_size=2000,
    batch_size=32,
    learning_starts=100,
    train_frequency=1,
    target_network_frequency=50,
    exploration_steps=1500,
    end_e=0.05,
)


def test_learns_a_chain_that_needs_bootstrapping_over_real_episodes():
    agent = DQNAgent(6, 2, SMALL, seed=0)
    train(agent, Chain(), 150)
    env = Chain()
    s, done, steps = env.reset(), False, 0
    while not done:
        s, r, done = env.step(agent.act(s, greedy=True))
        steps += 1
    assert r == 1.0 and steps == 5  # straight to the end
    assert agent.buffer.dones[: len(agent.buffer)].sum() < len(agent.buffer) / 2  # not every step terminal


def test_same_seed_same_weights_and_actions_other_seed_differs():
    a, b, c = (DQNAgent(6, 2, SMALL, seed=s) for s in (4, 4, 5))
    ra, rb, rc = (train(x, Chain(), 20) for x in (a, b, c))
    assert ra == rb
    for k in a.params:
        assert np.array_equal(a.params[k], b.params[k])
    assert any(not np.array_equal(a.params[k], c.params[k]) for k in a.params)


def test_save_then_load_gives_the_same_q_values_and_config(tmp_path):
    agent = DQNAgent(6, 2, SMALL, seed=2)
    train(agent, Chain(), 10)
    path = tmp_path / "w.npz"
    agent.save(path, meta={"features": ["a", "b"]})
    back = DQNAgent.load(path)
    x = np.random.default_rng(0).normal(size=6)
    assert np.array_equal(back.q_values(x), agent.q_values(x))
    assert back.config == agent.config and back.meta == {"features": ["a", "b"]}
    assert back.steps == agent.steps and back.act(x, greedy=True) == agent.act(x, greedy=True)


def test_load_refuses_a_file_of_another_format(tmp_path):
    path = tmp_path / "other.npz"
    with open(path, "wb") as f:
        np.savez(f, __header__=np.array('{"format": "x"}'))
    with pytest.raises(ValueError, match="not a taskpilot-dqn"):
        DQNAgent.load(path)


def test_act_respects_the_allowed_actions_greedy_and_exploring():
    agent = DQNAgent(3, 5, DQNConfig(start_e=1.0, end_e=1.0), seed=0)
    mask = np.array([False, True, False, True, False])
    assert {agent.act(np.zeros(3), allowed=mask) for _ in range(50)} == {1, 3}
    assert agent.act(np.zeros(3), greedy=True, allowed=[2]) == 2


def test_predict_in_blocks_equals_one_forward():
    rng = np.random.default_rng(2)
    params = init_params(5, 3, (8, 8), rng)
    for n in (1, PREDICT_ROWS, 3 * PREDICT_ROWS + 7):
        x = rng.normal(size=(n, 5))
        np.testing.assert_allclose(predict(params, x), forward(params, x)[0], rtol=1e-12, atol=1e-12)
