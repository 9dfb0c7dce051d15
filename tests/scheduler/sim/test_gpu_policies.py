"""The GPU-fraction study's policies (scheduler/sim/gpu_policies.py, gpu_dqn.py): hybrid_ml's training schedule and
labels, the baselines' rules, the DQN's encoding and determinism, scikit-learn loaded only by hybrid_ml."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor

from scheduler.settings import ROOT
from scheduler.sim import gpu_dqn
from scheduler.sim.gpu_cluster import FRACTIONS, Cluster
from scheduler.sim.gpu_policies import FOREST, RETRAIN_EVERY, WINDOW, Greedy, HybridML, HybridMLQueues, Oracle, RoundRobin, make_policy
from scheduler.sim.gpu_workload import draw_tasks
from scheduler.studies.gpu_fraction import simulate


class RecordingForest(RandomForestRegressor):
    """The real forest, keeping what each fit was given."""

    fits: list[tuple[np.ndarray, np.ndarray]] = []

    def fit(self, X, y, sample_weight=None):  # noqa: N803 (scikit-learn's names)
        RecordingForest.fits.append((np.array(X), np.array(y)))
        return super().fit(X, y, sample_weight)


def recording_forest(seed: int) -> RecordingForest:
    return RecordingForest(random_state=seed, n_jobs=1, **FOREST)


@pytest.fixture
def tasks():
    return draw_tasks(2_130, 1.0, np.random.default_rng(11))


@pytest.fixture
def few():
    return draw_tasks(400, 1.0, np.random.default_rng(12))


def test_hybrid_ml_retrains_every_50_tasks_on_the_last_1000_oracle_labels(tasks) -> None:
    oracle = simulate(Oracle(tasks), tasks)
    RecordingForest.fits = []
    hybrid = HybridML(tasks, oracle.fraction, np.random.default_rng(1), make_model=recording_forest)
    run = simulate(hybrid, tasks)
    starts = list(range(RETRAIN_EVERY, len(tasks), RETRAIN_EVERY))
    assert hybrid.trainings == [(t, max(0, t - WINDOW), t) for t in starts]
    assert len(RecordingForest.fits) == len(starts) == 42
    features = tasks.features()
    for (_, lo, hi), (X, y) in zip(hybrid.trainings, RecordingForest.fits):
        # Only tasks already placed, and their labels are the oracle's fractions: never hybrid_ml's own.
        assert np.array_equal(X, features[lo:hi]) and np.array_equal(y, oracle.fraction[lo:hi])
        assert not np.array_equal(y, run.fraction[lo:hi])
    assert RecordingForest.fits[-1][1].shape == (WINDOW,)
    # Before its first training it uses greedy's fraction; then the forest's, on the first free GPU.
    assert np.array_equal(run.fraction[:RETRAIN_EVERY], tasks.intensity[:RETRAIN_EVERY])
    assert not np.array_equal(run.fraction[RETRAIN_EVERY:], tasks.intensity[RETRAIN_EVERY:])


def test_hybrid_ml_learns_whatever_labels_it_is_given(few) -> None:
    # Labels it could never produce itself (a constant 0.35): every prediction after the first training is 0.35.
    run = simulate(HybridML(few, np.full(len(few), 0.35), np.random.default_rng(1)), few)
    assert run.fraction[RETRAIN_EVERY:] == pytest.approx(0.35)


def test_hybrid_ml_is_deterministic_per_seed(few) -> None:
    labels = simulate(Oracle(few), few).fraction
    a, b = (simulate(HybridML(few, labels, np.random.default_rng(5)), few) for _ in range(2))
    assert np.array_equal(a.fraction, b.fraction) and np.array_equal(a.finish_s, b.finish_s)


def test_the_baselines_rules(tasks) -> None:
    rr = simulate(RoundRobin(), tasks)
    assert rr.fraction[:6].tolist() == [0.0, 1.0, 1.0, 1.0, 1.0, 0.0] and rr.gpu[1:5].tolist() == [0, 1, 2, 3]
    greedy = simulate(Greedy(tasks), tasks)
    assert np.array_equal(greedy.fraction, tasks.intensity)
    random = simulate(make_policy("random", tasks, np.random.default_rng(2), 1.0), tasks)
    assert 0.45 < random.fraction.mean() < 0.55 and set(random.gpu.tolist()) == {0, 1, 2, 3}


def test_the_oracle_is_best_for_each_task_given_its_queues(tasks) -> None:
    # Replayed task by task: no (fraction, GPU) of the grid finishes the task sooner on the queues it met.
    run = simulate(Oracle(tasks), tasks)
    cluster = Cluster()
    for i in range(300):
        a, t, s, x = (float(v[i]) for v in (tasks.arrival_s, tasks.base_s, tasks.speedup, tasks.transfer_s))
        assert cluster.finishes(a, t, s, x, FRACTIONS).min() >= run.finish_s[i] - 1e-9
        assert cluster.run(a, t, s, x, float(run.fraction[i]), int(run.gpu[i])) == run.finish_s[i]


def test_make_policy_refuses_what_it_cannot_build(tasks) -> None:
    with pytest.raises(ValueError, match="unknown policy"):
        make_policy("fastest", tasks, None, 1.0)
    with pytest.raises(ValueError, match="oracle"):
        make_policy("hybrid_ml", tasks, np.random.default_rng(0), 1.0)


def test_the_dqn_state_and_actions() -> None:
    assert gpu_dqn.decode(0) == (0.0, 0) and gpu_dqn.decode(7) == (pytest.approx(0.1), 3) and gpu_dqn.decode(43) == (1.0, 3)
    cluster = Cluster()
    cluster.cpu_free, cluster.gpu_free[:] = 10.0 + 2 * gpu_dqn.MEAN_BASE_S, [0.0, 10.0, 10.0 + 100 * gpu_dqn.MEAN_BASE_S, 5.0]
    s = gpu_dqn.state((10.0, 0.5, 8.0, 2.0), cluster)
    assert s.shape == (gpu_dqn.STATE_DIM,)
    assert s[0] == 0.5 and s[3] == pytest.approx(0.4)  # 2 s of transfer: 200 MB of 500
    assert s[4:].tolist() == pytest.approx([2.0, 0.0, 0.0, gpu_dqn.WAIT_CAP, 0.0])  # waits past arrival, in mean base times


def test_the_dqn_is_deterministic_per_seed_and_trains_in_episodes(tasks) -> None:
    small = gpu_dqn.DqnTraining(episodes=3, episode_tasks=200, config=gpu_dqn.DqnTraining().config)
    agents = [gpu_dqn.pretrain(1.0, np.random.default_rng(4), small) for _ in range(2)]
    assert agents[0].steps == 600
    assert agents[0].buffer.dones[:600].sum() == 3  # one real terminal per episode, its last task
    runs = [simulate(gpu_dqn.DqnPolicy(tasks, agent), tasks) for agent in agents]
    assert np.array_equal(runs[0].fraction, runs[1].fraction) and np.array_equal(runs[0].gpu, runs[1].gpu)


def test_scikit_learn_is_imported_only_when_hybrid_ml_trains() -> None:
    code = (
        "import sys, numpy as np\n"
        "from scheduler.sim.gpu_workload import GpuFractionConfig\n"
        "from scheduler.studies.gpu_fraction import run_seed\n"
        "run_seed(GpuFractionConfig(tasks=200, warmup=50, policies=('greedy', 'random')), 1)\n"
        "assert 'sklearn' not in sys.modules, 'loaded without hybrid_ml'\n"
        "run_seed(GpuFractionConfig(tasks=200, warmup=50, policies=('hybrid_ml',)), 1)\n"
        "assert 'sklearn' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_hybrid_ml_queues_trains_on_the_oracles_labels_and_the_queues_it_met(tasks) -> None:
    oracle_policy = Oracle(tasks)
    oracle = simulate(oracle_policy, tasks)
    RecordingForest.fits = []
    variant = HybridMLQueues(tasks, oracle.fraction, oracle_policy.waits, np.random.default_rng(1), make_model=recording_forest)
    run = simulate(variant, tasks)
    assert variant.trainings == [(t, max(0, t - WINDOW), t) for t in range(RETRAIN_EVERY, len(tasks), RETRAIN_EVERY)]
    for (_, lo, hi), (X, y) in zip(variant.trainings, RecordingForest.fits):
        assert np.array_equal(X[:, :5], tasks.features()[lo:hi]) and np.array_equal(X[:, 5:], oracle_policy.waits[lo:hi])
        assert np.array_equal(y, oracle.fraction[lo:hi])
    # The waits the oracle met, replayed: the CPU's and the first free GPU's, past each arrival.
    cluster = Cluster()
    for i in range(200):
        a = float(tasks.arrival_s[i])
        assert cluster.waits(a) == tuple(oracle_policy.waits[i])
        cluster.run(
            a, float(tasks.base_s[i]), float(tasks.speedup[i]), float(tasks.transfer_s[i]), float(oracle.fraction[i]), int(oracle.gpu[i])
        )
    assert np.array_equal(run.fraction[:RETRAIN_EVERY], tasks.intensity[:RETRAIN_EVERY])


def test_hybrid_ml_queues_runs_only_when_named() -> None:
    from scheduler.sim.gpu_workload import GpuFractionConfig

    assert "hybrid_ml_queues" not in GpuFractionConfig(policies="all").policies
    assert GpuFractionConfig(policies="hybrid_ml_queues,greedy").policies == ("oracle", "greedy", "hybrid_ml_queues")
