"""Grid sessions placed by the DQN (TASKPILOT_GRID_POLICY=dqn): the service's path, its state and its limits."""

import numpy as np
import pytest

from rl.dqn import DQNAgent, DQNConfig
from rl.dqn_net import forward
from scheduler.core.errors import DatasetError
from scheduler.core.job_batch import JobBatch
from scheduler.placement import dqn_place
from scheduler.placement.grid_features import grid_state, grid_states, load_dqn
from scheduler.placement.world import build_world
from scheduler.service.sessions import Session
from scheduler.settings import ROOT, Settings


def jobs(n: int, seed: int = 3, **optional) -> JobBatch:
    rng = np.random.default_rng(seed)
    return JobBatch.of(
        tier=rng.integers(3, size=n).astype(np.int8),
        latency=rng.integers(-1, 3, size=n).astype(np.int8),
        cpu=rng.uniform(5, 100, n),
        memory=rng.uniform(5, 100, n),
        **optional,
    )


@pytest.fixture(scope="module")
def dqn_world():
    return build_world(
        Settings(data_dir=ROOT / "dataset_rl", pretrain_episodes=100, seed=7, grid_policy="dqn")
    )  # as grid_world, but for the policy


def test_batch_states_equal_the_one_job_builder():
    rng = np.random.default_rng(0)
    cols = [rng.uniform(0, 500, (5, 2)), rng.uniform(0, 500, (5, 2)), rng.uniform(0, 90, (5, 2)), rng.integers(0, 9, (5, 2)).astype(float),
            rng.uniform(1, 300, (5, 2)), rng.uniform(0, 1, (5, 2)), rng.uniform(0, 0.3, (5, 2))]  # fmt: skip
    batch = grid_states(2, 3, *cols)
    for i in range(5):
        np.testing.assert_allclose(batch[i], grid_state(2, 3, *(c[i].tolist() for c in cols)), rtol=1e-12)


def test_a_grid_session_is_placed_by_the_dqn_the_greedy_best_allowed_server(dqn_world):
    runtime = dqn_world.runtime("grid")
    assert runtime.dqn is load_dqn()
    session = Session("dqn-a", 1, dqn_world, created=0.0, last_used=0.0, scenario="grid")
    batch = jobs(300)
    record = session.run(batch)
    step = runtime.scenario.evaluate(np.arange(300), batch)
    figures = dqn_place.server_figures(runtime.scenario, step, batch)
    for tier, pool in enumerate(dqn_world.fleet.pools):
        rows = np.flatnonzero(batch.tier == tier)
        assert set(record.chosen[rows].tolist()) <= set(pool.tolist())
        q = record.q_values[rows, : len(pool)]
        np.testing.assert_array_equal(record.chosen[rows], pool[q.argmax(axis=1)])
        actions, q_again = dqn_place.place(runtime.dqn, figures, rows, pool, tier, 3, None)
        np.testing.assert_array_equal(q, q_again)
    assert not record.explored.any()
    assert record.loads_before[-1].sum() == 299 and session.engine.loads.sum() == 300
    # No randomness: another session seed makes the same choices.
    other = Session("dqn-b", 99, dqn_world, created=0.0, last_used=0.0, scenario="grid").run(batch)
    np.testing.assert_array_equal(record.chosen, other.chosen)


def test_a_server_whose_grid_turns_cleaner_gains_value(dqn_world):
    """A probe of the shipped weights: for each pool position, the same job and servers but that server's grid
    (now and over the run, and so the job's dynamic CO2 there) at 20 instead of 500 g/kWh: its Q must rise."""
    agent = dqn_world.runtime("grid").dqn
    for tier in range(3):
        for k in range(3):
            q = []
            for g in (500.0, 20.0):
                cols = [np.full((1, 3), v) for v in (300.0, 300.0, 0.0, 0.0, 30.0, 0.25, 0.02)]
                cols[0][0, k] = cols[1][0, k] = g
                q.append(forward(agent.params, grid_states(tier, 3, *cols))[0][0, k])
            assert q[1] > q[0], (tier, k)


def test_the_deadline_mask_holds(dqn_world):
    """A job that some pool server can finish by its deadline goes to such a server (meets_deadline)."""
    batch = jobs(60, seed=5, duration_min=np.full(60, 30.0), deadline_min=np.full(60, 45.0))
    record = Session("dqn-deadline", 1, dqn_world, created=0.0, last_used=0.0, scenario="grid").run(batch)
    runtime = dqn_world.runtime("grid").scenario.evaluate(np.arange(60), batch).runtime_min
    pools = dqn_world.fleet.pools
    checked = 0
    for j in range(60):
        pool_fits = runtime[j, pools[batch.tier[j]]] <= 45.0 + 1e-9
        if pool_fits.any() and not pool_fits.all():
            checked += 1
        if pool_fits.any():
            assert runtime[j, record.chosen[j]] <= 45.0 + 1e-9, j
    assert checked > 0  # the mask mattered for some jobs


def test_reference_sessions_keep_the_tier_agents(dqn_world, grid_world):
    assert dqn_world.runtime("reference").dqn is None
    batch = jobs(100)
    a = Session("ref", 5, dqn_world, created=0.0, last_used=0.0).run(batch)
    b = Session("ref", 5, grid_world, created=0.0, last_used=0.0).run(batch)
    np.testing.assert_array_equal(a.chosen, b.chosen)


def test_weights_for_another_pool_width_stop_start_up(tmp_path):
    path = tmp_path / "w.npz"
    DQNAgent(10, 2, DQNConfig(hidden=(4,))).save(path)
    with pytest.raises(DatasetError, match="trained for pools of 2 servers"):
        build_world(Settings(data_dir=ROOT / "dataset_rl", pretrain_episodes=0, grid_policy="dqn", dqn_weights=path))
    with pytest.raises(DatasetError, match="missing.npz"):
        build_world(Settings(data_dir=ROOT / "dataset_rl", pretrain_episodes=0, grid_policy="dqn", dqn_weights=tmp_path / "missing.npz"))
