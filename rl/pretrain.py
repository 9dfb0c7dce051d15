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
        # Every episode's states at once: row e * EPISODE_JOBS + j is step j of episode e.
        starts = rng.integers(n_series, size=episodes)
        t = (starts[:, None] + np.arange(EPISODE_JOBS)).ravel()
        task, price_row, steel = t % len(signals.load), t % len(signals.energy_price), t % len(signals.carbon_factor)
        load, price, carbon = signals.load[task], signals.energy_price[price_row], signals.carbon_factor[steel]
        quality = pool_scores(fleet, tier, server_metrics(fleet, load, price, carbon)).final
        static = static_features(carbon, price, signals.task_cpu[task], signals.task_mem[task])
        start_loads = rng.integers(MAX_START_LOAD, size=(episodes, len(pool)))
        draws = rng.random((episodes * EPISODE_JOBS, 2))
        agent = TierAgent.fresh(len(pool), config)
        if episodes:
            run_sequence(agent, [0] * len(pool), static, quality, draws, PRETRAIN_OVERLOAD_WEIGHT, episode_loads=start_loads)
        agent.steps = 0
        agents.append(agent)
    return tuple(agents)
