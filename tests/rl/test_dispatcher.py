"""rl/dispatcher.py: the policy gradient against finite differences, the features, the online learner."""

import numpy as np

from rl.dispatcher import FEATURES, Decisions, Dispatcher, DispatcherConfig, OnlineLearner, discounted_misses, job_features


def objective(policy: Dispatcher, x: np.ndarray, seg: np.ndarray, chosen: np.ndarray, w: np.ndarray) -> float:
    """sum_k w_k log pi(chosen_k) + entropy / n_decisions * sum_k H_k, computed directly."""
    total = 0.0
    for k in range(len(chosen)):
        s = policy.scores(x[seg == k])
        logp = s - s.max() - np.log(np.exp(s - s.max()).sum())
        total += w[k] * logp[chosen[k] - np.flatnonzero(seg == k)[0]]
        total += policy.config.entropy / len(chosen) * -(np.exp(logp) * logp).sum()
    return float(total)


def test_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(3)
    policy = Dispatcher.fresh(rng, DispatcherConfig(hidden=5, init_scale=0.5, entropy=0.3))
    sizes = [3, 1, 4]
    x = rng.normal(size=(sum(sizes), len(FEATURES)))
    seg = np.repeat(np.arange(3), sizes)
    chosen = np.array([1, 3, 6])
    w = np.array([0.7, -1.2, 2.0])
    grads = policy.grad_log_prob(x, seg, chosen, w)
    eps = 1e-6
    for name, value in policy.params().items():
        for idx in [(0, 0), (4, 2), (10, 4)] if value.ndim == 2 else [(0,), (2,), (4,)]:
            old = value[idx]
            value[idx] = old + eps
            up = objective(policy, x, seg, chosen, w)
            value[idx] = old - eps
            down = objective(policy, x, seg, chosen, w)
            value[idx] = old
            assert abs((up - down) / (2 * eps) - grads[name][idx]) < 1e-6, (name, idx)


def test_features_are_in_units_of_the_mean_runtime() -> None:
    args = (np.array([10.0, 4.0, np.inf]), np.array([2.0, 6.0, 4.0]), np.array([2.0, 8.0, 4.0]), np.zeros(3), np.array([0, 1, 2]),
            np.array([0, 5, 1]), 2)  # fmt: skip
    x = job_features(*args)
    minutes = job_features(*(a * 60 if i < 4 else a for i, a in enumerate(args)))  # type: ignore[operator]
    assert np.allclose(x, minutes)  # the same queue in seconds and in minutes looks the same
    col = {name: x[:, i] for i, name in enumerate(FEATURES)}
    assert list(col["to_deadline"]) == [2.5, 1.0, 10.0] and list(col["slack"]) == [2.0, -0.5, 10.0]
    assert list(col["late"]) == [0, 1, 0] and list(col["deadline_rank"]) == [0.5, 0.0, 1.0]
    assert list(col["critical"]) == [1, 0, 0] and list(col["flexible"]) == [0, 0, 1] and list(col["failures"]) == [0, 3, 1]


def test_greedy_ties_go_to_the_lowest_index() -> None:
    policy = Dispatcher.fresh(np.random.default_rng(0))
    x = np.zeros((4, len(FEATURES)))
    assert policy.act(x)[0] == 0


def test_discounted_misses_look_only_ahead() -> None:
    r = discounted_misses(np.array([0.0, 5.0, 20.0]), np.array([5.0, 10.0]), 5.0)
    assert np.allclose(r, [-(np.exp(-1) + np.exp(-2)), -(1 + np.exp(-1)), 0.0])


def test_online_learner_steps_once_a_batch_is_ripe() -> None:
    rng = np.random.default_rng(1)
    policy = Dispatcher.fresh(rng)
    before = policy.w2.copy()
    learner = OnlineLearner(policy, tau_s=1.0, batch=4)
    for t in range(6):
        learner.record(rng.normal(size=(3, len(FEATURES))), t % 3, float(t))
    learner.missed(2.5)
    assert not learner.learn(now=5.0)  # ripe: decisions at t <= 5 - 3 tau = 2, only three
    assert np.array_equal(policy.w2, before)
    assert learner.learn(now=6.0) and learner.updates == 1 and not np.array_equal(policy.w2, before)
    assert len(learner.decisions.rows) == 2 and isinstance(learner.decisions, Decisions)


def test_weights_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    policy = Dispatcher.fresh(np.random.default_rng(2))
    policy.save(tmp_path / "w.npz")
    again = Dispatcher.load(tmp_path / "w.npz")
    x = np.random.default_rng(3).normal(size=(5, len(FEATURES)))
    assert np.array_equal(policy.scores(x), again.scores(x))
