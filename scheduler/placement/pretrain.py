"""Pre-train the three tier agents before any real job arrives.

Each episode starts at a random point of the real series (load, price, carbon factor, and a task's
cpu/memory from the trace), gives the pool random loads, and plays EPISODE_JOBS consecutive jobs with a
strong overload penalty (0.8 x the excess over the mean pool load), so the agents start out knowing
that piling jobs on one server is bad. Deterministic for a given rng.
"""

import numpy as np

from rl.agent import AgentConfig, TierAgent, run_sequence
from rl.features import static_features
from scheduler.core.fleet import Fleet
from scheduler.core.job_batch import JobBatch
from scheduler.core.scoring import pool_scores
from scheduler.core.states import TIERS
from scheduler.data.signals import Signals
from scheduler.placement.scenario import ReferenceScenario, Scenario

EPISODE_JOBS = 20
"""Jobs per pre-training episode."""
PRETRAIN_OVERLOAD_WEIGHT = 0.8
"""The seed's strong pre-training penalty; serving uses 1 / overload_divisor (0.2)."""
MAX_START_LOAD = 10
"""Random initial pool loads are drawn from 0 .. MAX_START_LOAD - 1 jobs."""


def pretrain_agents(
    fleet: Fleet,
    signals: Signals,
    episodes: int,
    rng: np.random.Generator,
    config: AgentConfig | None = None,
    scenario: Scenario | None = None,
) -> tuple[TierAgent, ...]:
    """One trained agent per tier, in TIERS order, on `scenario`'s figures (default: the reference).
    The agents' step counters are reset to 0 afterwards so sessions start at the seed's full
    exploration rate (15 %)."""
    scenario = scenario or ReferenceScenario(fleet, signals)
    agents = []
    n_series = max(len(signals.load), len(signals.carbon_factor))
    for tier in range(len(TIERS)):
        pool = fleet.pools[tier]
        # Every episode's states at once: row e * EPISODE_JOBS + j is step j of episode e.
        starts = rng.integers(n_series, size=episodes)
        t = (starts[:, None] + np.arange(EPISODE_JOBS)).ravel()
        task = t % len(signals.load)
        jobs = _trace_jobs(tier, signals.task_cpu[task], signals.task_mem[task])
        step = scenario.evaluate(t, jobs)
        quality = pool_scores(fleet, tier, step.metrics, step.latency).final
        static = static_features(step.carbon_factor, step.price, jobs.cpu, jobs.memory)
        start_loads = rng.integers(MAX_START_LOAD, size=(episodes, len(pool)))
        draws = rng.random((episodes * EPISODE_JOBS, 2))
        agent = TierAgent.fresh(len(pool), config)
        if episodes:
            run_sequence(agent, [0] * len(pool), static, quality, draws, PRETRAIN_OVERLOAD_WEIGHT, episode_loads=start_loads)
        agent.steps = 0
        agents.append(agent)
    return tuple(agents)


def _trace_jobs(tier: int, cpu: np.ndarray, memory: np.ndarray) -> JobBatch:
    """Jobs of one tier with the task trace's cpu and memory and no other fields."""
    n = len(cpu)
    return JobBatch.of(np.full(n, tier, np.int8), np.full(n, -1, np.int8), cpu, memory)
