"""The dqn placement policy: its reward is the scored objective, real episodes, determinism, weights files."""

import numpy as np
import pytest

from rl.dqn import DQNAgent, DQNConfig
from scheduler.cli import train_dqn
from scheduler.core.energy import build_machines
from scheduler.placement.grid_features import SHIPPED_WEIGHTS, load_dqn, state_size
from scheduler.sim.dqn_policy import REWARD_SCALE_G, DQNPlacement, fresh_agent
from scheduler.sim.metrics import summarise
from scheduler.sim.policies import make_policy
from scheduler.sim.simulator import build_problem, simulate
from tests.scheduler.sim.test_signal_clock import real_grid_clock
from tests.scheduler.sim.test_simulator import random_workload

SMALL = DQNConfig(hidden=(16,), learning_starts=50, batch_size=16, buffer_size=1000, exploration_steps=200, target_network_frequency=20)


@pytest.fixture(scope="module")
def contended(world):
    """300 jobs every 1.5 min on average on the real grid: queues build up, so waits and zones both matter."""
    wl = random_workload(300, np.random.default_rng(11), mean_gap_min=1.5)
    return build_problem(world.fleet, build_machines(world.fleet), real_grid_clock(world), wl)


def test_rewards_sum_to_the_scored_objective_less_the_idle_draw(contended):
    """sum(reward) x scale = -(CO2 incl. idle - idle power x carbon over the horizon + lam x total completion):
    the per-job reward is exactly what each placement adds to the figure every policy is scored on."""
    lam = 0.25
    policy = DQNPlacement(contended, fresh_agent(contended, SMALL, 0), lam)
    run = simulate(contended, policy)
    s = summarise(contended, run)
    fleet, clock = contended.fleet, contended.clock
    t0 = float(contended.workload.arrival_min[0])
    servers = np.arange(fleet.n_servers)
    zone_mean = clock.carbon_mean(servers, np.full(fleet.n_servers, t0), np.full(fleet.n_servers, run.horizon_min))
    idle_draw_g = float((fleet.p_idle_w * run.horizon_min * zone_mean).sum()) / 60_000.0
    completion = float((run.finish_min - contended.workload.arrival_min).sum())
    expected = -(s.co2_with_idle_kg * 1000.0 - idle_draw_g + lam * completion) / REWARD_SCALE_G
    assert policy.rewards.sum() == pytest.approx(expected, rel=1e-9)


def test_learning_runs_real_episodes_with_a_terminal_at_each_window(contended):
    agent = fresh_agent(contended, SMALL, 3)
    simulate(contended, DQNPlacement(contended, agent, learn=True, episode_jobs=50))
    dones = agent.buffer.dones[: len(agent.buffer)]
    assert len(agent.buffer) == 300 and dones.sum() == 6  # 300 jobs / 50, the rest bootstrap
    assert np.flatnonzero(dones).tolist() == [49, 99, 149, 199, 249, 299]
    assert agent.updates > 0


def test_training_is_deterministic_per_seed_and_evaluation_draws_nothing(contended):
    a, b, c = (fresh_agent(contended, SMALL, s) for s in (1, 1, 2))
    runs = [simulate(contended, DQNPlacement(contended, x, learn=True)) for x in (a, b, c)]
    assert np.array_equal(runs[0].server, runs[1].server)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert not all(np.array_equal(a.params[k], c.params[k]) for k in a.params)
    before = a.rng.bit_generator.state
    first = simulate(contended, DQNPlacement(contended, a)).server
    assert np.array_equal(first, simulate(contended, DQNPlacement(contended, a)).server)
    assert a.rng.bit_generator.state == before and a.steps == b.steps


def test_weights_of_another_fleet_shape_are_refused(contended):
    with pytest.raises(ValueError, match="dqn weights expect a state of 10 and 2 actions"):
        DQNPlacement(contended, DQNAgent(10, 2, SMALL, 0))


def test_the_shipped_weights_load_and_place_every_job_in_its_pool(contended, world):
    agent = load_dqn()
    assert agent.meta["policy"] == "dqn" and agent.state_dim == state_size(3) and SHIPPED_WEIGHTS.stat().st_size < 200_000
    assert load_dqn(SHIPPED_WEIGHTS) is agent  # read once
    run = simulate(contended, make_policy("dqn", contended, np.random.default_rng(0), world.pretrained))
    pools = contended.fleet.pools
    assert all(s in pools[t] for s, t in zip(run.server, contended.workload.tier))


def test_a_missing_weights_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="nope.npz"):
        load_dqn(tmp_path / "nope.npz")


def test_train_cli_writes_weights_that_load_and_record_how(tmp_path, capsys):
    out = tmp_path / "w.npz"
    assert train_dqn.main(["--out", str(out), "--runs", "2", "--jobs", "300", "--lam", "0.2"]) == 0
    agent = DQNAgent.load(out)
    assert agent.meta["lam_g_per_min"] == 0.2 and len(agent.meta["history"]) == 2
    assert [h["workload"] for h in agent.meta["history"]] == ["task", "gaia-azure"]
    assert all(8_760 <= h["start_hour"] < 17_520 and h["seed"] >= train_dqn.TRAIN_SEED_BASE for h in agent.meta["history"])
    assert "wrote" in capsys.readouterr().out
    assert agent.meta["trained_on"]["data_dir"] == "dataset_rl" and agent.meta["trained_on"]["out"] == "w.npz"  # no directories
    again = tmp_path / "again.npz"
    train_dqn.main(["--out", str(again), "--runs", "2", "--jobs", "300", "--lam", "0.2"])
    other = DQNAgent.load(again)
    assert all(np.array_equal(agent.params[k], other.params[k]) for k in agent.params)


def test_train_cli_refuses_bad_numbers(tmp_path):
    with pytest.raises(SystemExit):
        train_dqn.main(["--out", str(tmp_path / "w.npz"), "--runs", "0"])


def test_a_persistence_forecast_feeds_the_reading_at_arrival_and_the_reward_stays_real(contended, monkeypatch):
    """forecast="persistence": the state's intensity_forecast is the grid at arrival (= intensity_now); the
    reward still counts the carbon over the job's real run, so the two runs' rewards differ only by choices."""
    from scheduler.sim import dqn_policy

    seen = []
    real_state = dqn_policy.grid_state
    monkeypatch.setattr(dqn_policy, "grid_state", lambda *a: seen.append((a[2], a[3])) or real_state(*a))
    agent = load_dqn()
    simulate(contended, DQNPlacement(contended, agent, forecast="persistence"))
    assert all(now == forecast for now, forecast in seen)
    seen.clear()
    simulate(contended, DQNPlacement(contended, agent))
    assert any(now != forecast for now, forecast in seen)
    with pytest.raises(ValueError, match="forecast must be one of perfect, persistence"):
        DQNPlacement(contended, agent, forecast="noisy")
