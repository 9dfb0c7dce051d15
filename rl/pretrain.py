"""Pre-train the three tier agents before any real job arrives.

Each episode starts at a random point of the real series (load, price, carbon factor, and a task's
cpu/memory from the trace), gives the pool random loads, and plays EPISODE_JOBS consecutive jobs with a
strong overload penalty (0.8 x the excess over the mean pool load), so the agents start out knowing
that piling jobs on one server is bad. Deterministic for a given rng.
"""

import numpy as np

from rl.agent import AgentConfig, TierAgent, run_sequence
from rl.features import static_features
from scheduler.fleet import TIERS, Fleet
from scheduler.scoring import pool_scores, server_metrics
from scheduler.signals import Signals

EPISODE_JOBS = 20
"""Jobs per pre-training episode."""
PRETRAIN_OVERLOAD_WEIGHT = 0.8
"""The seed's strong pre-training penalty; serving uses 1 / overload_divisor (0.2)."""
MAX_START_LOAD = 10
"""Random initial pool loads are drawn from 0 .. MAX_START_LOAD - 1 jobs."""


def pretrain_agents(
    fleet: Fleet, signals: Signals, episodes: int, rng: np.random.Generator, config: AgentConfig | None = None
) -> tuple[TierAgent, ...]:
    """One trained agent per tier, in TIERS order. The agents' step counters are reset to 0 afterwards
    so sessions start at the seed's full exploration rate (15 %)."""
    agents = []
    n_series = max(len(signals.load), len(signals.carbon_factor))
    for tier in range(len(TIERS)):
        pool = fleet.pools[tier]
        agent = TierAgent.fresh(len(pool), config)
        for _ in range(episodes):
            start = int(rng.integers(n_series))
            idx = signals.positions(start, EPISODE_JOBS)
            load, price = signals.load[idx.task], signals.energy_price[idx.price]
            carbon = signals.carbon_factor[idx.steel]
            metrics = server_metrics(fleet, load, price, carbon)
            quality = pool_scores(fleet, tier, metrics).final
            static = static_features(carbon, price, signals.task_cpu[idx.task], signals.task_mem[idx.task])
            loads = rng.integers(MAX_START_LOAD, size=len(pool)).tolist()
            run_sequence(agent, loads, static, quality, rng.random((EPISODE_JOBS, 2)), PRETRAIN_OVERLOAD_WEIGHT)
        agent.steps = 0
        agents.append(agent)
    return tuple(agents)
