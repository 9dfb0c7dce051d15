import numpy as np

from rl.agent import run_sequence
from scheduler.placement.pretrain import pretrain_agents


def test_deterministic_and_starts_sessions_at_full_exploration(world):
    a = pretrain_agents(world.fleet, world.signals, 40, np.random.default_rng(3))
    b = pretrain_agents(world.fleet, world.signals, 40, np.random.default_rng(3))
    c = pretrain_agents(world.fleet, world.signals, 40, np.random.default_rng(4))
    assert all(np.array_equal(x.weights, y.weights) for x, y in zip(a, b))
    assert not all(np.array_equal(x.weights, y.weights) for x, y in zip(a, c))
    assert all(agent.steps == 0 and agent.epsilon() == 0.15 for agent in a)


def test_pretrained_agents_avoid_an_overloaded_server(world):
    """After pre-training with the strong overload penalty, a greedy agent sends work away from a
    server that holds far more jobs than the others."""
    agents = pretrain_agents(world.fleet, world.signals, 500, np.random.default_rng(0))
    for agent in agents:
        for busy in range(3):
            loads = [0, 0, 0]
            loads[busy] = 9
            probe = agent.copy()
            probe.steps = 10**6  # epsilon at its floor; the draw below never explores
            result = run_sequence(probe, loads, np.array([[0.5, 0.5, 0.5, 0.5]]), np.full((1, 3), 0.5), np.array([[0.99, 0.0]]), 0.2)
            assert result.actions[0] != busy
