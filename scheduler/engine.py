"""run_batch: place a batch of jobs, each on a server of its tier pool, and learn from it.

Pools are disjoint, so a tier's jobs only ever see that tier's loads and agent: the batch is split by
tier, each tier's jobs run through its agent in submission order, and the results are put back in
order. The state each job sees comes from the series at the session's pointer, which advances by one
per job across all tiers, as in the reference.
"""

from dataclasses import dataclass

import numpy as np

from rl.agent import TierAgent, run_sequence
from rl.features import static_features
from scheduler.fleet import TIERS, Fleet
from scheduler.jobs import JobBatch
from scheduler.scoring import TIER_WEIGHTS, ServerMetrics, pool_scores, server_metrics
from scheduler.signals import Signals, StepIndex


@dataclass(frozen=True)
class World:
    """The process-wide, read-only inputs of every decision."""

    fleet: Fleet
    signals: Signals
    pretrained: tuple[TierAgent, ...]


@dataclass
class EngineState:
    """What a session's decisions depend on and change."""

    loads: np.ndarray  # (n_servers,) int64 jobs placed on each server
    pointer: int  # position in the series of the next job
    agents: list[TierAgent]  # one per tier, the session's own copies
    rngs: list[np.random.Generator]  # one exploration stream per tier


@dataclass(frozen=True)
class BatchRecord:
    """Everything decided in one run; the per-server tables are recomputed from it when asked for."""

    job_ids: np.ndarray  # (n,) int64
    jobs: JobBatch
    pointer: int  # series position of the first job
    chosen: np.ndarray  # (n,) server position
    loads_before: np.ndarray  # (n, n_servers) int64 server loads when the job was placed
    q_values: np.ndarray  # (n, pool_size) the agent's Q(s, .) over the job's pool
    explored: np.ndarray  # (n,) bool, epsilon step
    reward: np.ndarray  # (n,) quality score of the chosen server, 0..1
    rl_reward: np.ndarray  # (n,) training reward: quality minus overload penalty
    energy_kwh: np.ndarray  # (n,) on the chosen server
    cost: np.ndarray  # (n,) on the chosen server
    co2_kg: np.ndarray  # (n,) on the chosen server
    co2_baseline_kg: np.ndarray  # (n,) mean over the performance pool: the "run everything big" baseline
    carbon_factor: np.ndarray  # (n,) at decision time
    dominant: np.ndarray  # (n,) int8 metric (perf, cost, co2, lat) weighing most in the chosen score; 4 = none
    dominant_is_best: np.ndarray  # (n,) bool: the chosen server is the pool's best on that metric

    def __len__(self) -> int:
        return len(self.job_ids)


def run_batch(world: World, state: EngineState, job_ids: np.ndarray, jobs: JobBatch) -> BatchRecord:
    """Decide, learn and advance `state` for `jobs` (in order); returns the record of the decisions."""
    fleet, n = world.fleet, len(jobs)
    idx = world.signals.positions(state.pointer, n)
    metrics = metrics_at(world, idx)
    static = static_features(world.signals.carbon_factor[idx.steel], world.signals.energy_price[idx.price], jobs.cpu, jobs.memory)
    pool_width = max(len(p) for p in fleet.pools)
    chosen = np.empty(n, np.intp)
    reward = np.empty(n)
    rl_reward = np.empty(n)
    explored = np.zeros(n, bool)
    dominant = np.zeros(n, np.int8)
    dominant_is_best = np.zeros(n, bool)
    q_values = np.full((n, pool_width), np.nan)
    loads_start = state.loads.copy()
    for tier in range(len(TIERS)):
        rows = np.flatnonzero(jobs.tier == tier)
        if rows.size == 0:
            continue
        pool = fleet.pools[tier]
        scores = pool_scores(fleet, tier, metrics.take(rows))
        quality = scores.final  # (m, pool_size)
        pool_loads = state.loads[pool].tolist()
        draws = state.rngs[tier].random((rows.size, 2))
        agent = state.agents[tier]
        result = run_sequence(agent, pool_loads, static[rows], quality, draws, 1.0 / agent.config.overload_divisor)
        state.loads[pool] = pool_loads
        chosen[rows] = pool[result.actions]
        reward[rows] = quality[np.arange(rows.size), result.actions]
        rl_reward[rows] = result.rl_reward
        explored[rows] = result.explored
        dominant[rows], dominant_is_best[rows] = _dominant(scores.parts, result.actions, TIER_WEIGHTS[tier])
        q_values[rows, : len(pool)] = result.q_values
    placed = np.zeros((n, fleet.n_servers), np.int64)
    placed[np.arange(n), chosen] = 1
    loads_before = loads_start + np.cumsum(placed, axis=0) - placed
    rows = np.arange(n)
    record = BatchRecord(
        job_ids, jobs, state.pointer, chosen, loads_before, q_values, explored, reward, rl_reward,
        energy_kwh=metrics.energy_kwh[rows, chosen],
        cost=metrics.cost[rows, chosen],
        co2_kg=metrics.co2_kg[rows, chosen],
        co2_baseline_kg=metrics.co2_kg[:, fleet.pools[-1]].mean(axis=1),
        carbon_factor=world.signals.carbon_factor[idx.steel],
        dominant=dominant,
        dominant_is_best=dominant_is_best,
    )  # fmt: skip
    state.pointer += n
    return record


def _dominant(parts: np.ndarray, actions: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each job, the metric contributing most to the chosen server's score (lowest index on ties;
    4 when none contributes) and whether that server leads the pool on it. parts: (m, 4, pool_size)."""
    rows = np.arange(len(actions))
    own = parts[rows, :, actions]  # (m, 4)
    weighted = own * weights
    top = weighted.argmax(axis=1)
    is_best = own[rows, top] >= parts[rows, top].max(axis=1)
    return np.where(weighted[rows, top] > 0, top, len(weights)), is_best


def metrics_at(world: World, idx: StepIndex) -> ServerMetrics:
    s = world.signals
    return server_metrics(world.fleet, s.load[idx.task], s.energy_price[idx.price], s.carbon_factor[idx.steel])
