"""Placement policies for the simulator, behind one interface: `choose(job, now_min, state) -> server`.

Every policy picks a server of the job's tier pool (the service's rule); ties go to the lowest fleet
position. `close()` ends a run (learners settle their last update). Policies that ignore the fleet's
state decide every job up front with numpy (`Fixed`); the others look at the state job by job.

- tier_agents: the service's TierAgent algorithm, three agents pre-trained on the reference scenario
  (copies are used), acting and learning online one job at a time with the step `rl.agent.run_sequence_py`
  takes (rl.agent.Learner); their loads are the jobs in the system on each pool server, their reward is
  the quality score minus the overload penalty.
- round_robin: each tier's k-th job goes to its pool's (k mod pool size)-th server.
- random: a uniform pool server, from the policy's own rng.
- greedy: the highest quality score at arrival (the seed's tier-weighted perf, cost, CO2, latency).
- least_loaded: the lowest share of its cores held by queued or running jobs.
- lowest_carbon: the greenest grid at the hour of arrival.
- greenest_free: among the pool servers that can start the job at once (their queue is empty and enough
  cores are free, FleetState), the greenest grid at the hour of arrival; when none can, the least loaded.
- dqn: the DQN pre-trained offline on the grid scenario (scheduler/sim/dqn_policy.py, weights from
  `python -m scheduler train-dqn`), acting greedily on per-server grid features: each pool server's
  intensity now and over the job's run, its queue, the job's size there. It does not learn during a run.
- oracle, the job-CO2 oracle (it ignores completion): knows every queue and every future carbon value;
  for each job it takes the pool server whose actual start (given the queue) and actual runtime give
  the least CO2, ties to the earlier completion.
  What is true of it: per job, given the jobs placed before it, its choice is optimal (FIFO: a job's
  choice never changes an earlier job's start). Over a run it is never worse than any policy when
  capacity never binds, i.e. every pool server is free at every arrival whatever the placement: every
  job then starts on arrival under every policy, its CO2 depends only on its own server, and the oracle
  takes the least. Otherwise it is greedy, not optimal over the run: sending a job to a green server
  can push later jobs onto dirtier servers or into dirtier hours, so a policy whose jobs never wait can
  beat it even when the oracle's jobs never wait either, and so can a policy that queues a job into a
  greener hour. All of this is for the linear power curve (the default): with SPECpower's a job's
  charge also depends on what runs beside it, later jobs included (simulator.sharing), and the oracle
  ranks servers by the job's stand-alone energy.
  sim_metrics.co2_lower_bound_g is a bound that holds for every policy.
"""

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rl.agent import Learner, TierAgent
from rl.features import static_features
from scheduler.placement.grid_features import load_dqn
from scheduler.sim.config import POLICIES
from scheduler.sim.dqn_policy import DEFAULT_LAMBDA, DQNPlacement
from scheduler.sim.simulator import FleetState, Problem


class Fixed:
    """A policy whose every choice is known before the run (it does not look at the state)."""

    def __init__(self, name: str, choice: np.ndarray):
        self.name = name
        self._choice = choice.tolist()

    def choose(self, job: int, now_min: float, state: FleetState) -> int:
        return self._choice[job]

    def close(self) -> None:
        pass


def _by_tier(problem: Problem, pick: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """(n,) server positions: pick(rows, pool) -> index into the pool for each of the tier's rows."""
    choice = np.empty(len(problem), np.intp)
    for tier, pool in enumerate(problem.fleet.pools):
        rows = np.flatnonzero(problem.workload.tier == tier)
        choice[rows] = pool[pick(rows, pool)]
    return choice


def round_robin(problem: Problem) -> Fixed:
    return Fixed("round_robin", _by_tier(problem, lambda rows, pool: np.arange(len(rows)) % len(pool)))


def random_choice(problem: Problem, rng: np.random.Generator) -> Fixed:
    return Fixed("random", _by_tier(problem, lambda rows, pool: rng.integers(len(pool), size=len(rows))))


def greedy(problem: Problem) -> Fixed:
    """argmax of the quality score (argmax takes the first, i.e. lowest-index, maximum)."""
    return Fixed("greedy", _by_tier(problem, lambda rows, pool: problem.quality[np.ix_(rows, pool)].argmax(axis=1)))


def lowest_carbon(problem: Problem) -> Fixed:
    carbon = problem.clock.carbon_now(problem.workload.arrival_min)  # (n, n_servers) g/kWh
    return Fixed("lowest_carbon", _by_tier(problem, lambda rows, pool: carbon[np.ix_(rows, pool)].argmin(axis=1)))


class LeastLoaded:
    name = "least_loaded"

    def __init__(self, problem: Problem):
        self._pools = problem.lists.pools
        self._tier = problem.lists.tier
        self._capacity = problem.fleet.cores.tolist()

    def choose(self, job: int, now_min: float, state: FleetState) -> int:
        held, capacity = state.cores_in_system, self._capacity
        return min(self._pools[self._tier[job]], key=lambda s: held[s] / capacity[s])  # min keeps the first

    def close(self) -> None:
        pass


class Oracle:
    """Least CO2 per job from each pool server's actual start and the actual future carbon."""

    name = "oracle"

    def __init__(self, problem: Problem):
        lists = problem.lists
        self._pools, self._tier, self._runtime, self._cores = lists.pools, lists.tier, lists.runtime_min, lists.cores_milli
        self._energy = problem.pool_rows(problem.energy_kwh)
        self._carbon = problem.clock.carbon_mean_one

    def choose(self, job: int, now_min: float, state: FleetState) -> int:
        best, best_key = -1, (float("inf"), float("inf"))
        runtime, energy, cores = self._runtime[job], self._energy[job], self._cores[job]
        for k, s in enumerate(self._pools[self._tier[job]]):
            start = state.queues[s].earliest_start(now_min, cores[k])
            key = (energy[k] * self._carbon(s, start, runtime[k]), start + runtime[k])
            if key < best_key:  # strict: on a full tie the lower position, met first, stays
                best, best_key = s, key
        return best

    def close(self) -> None:
        pass


class GreenestFree:
    """The greenest grid now among the pool servers that can start the job now, else the least loaded.

    "Can start now": the job would start at its arrival (ServerQueue.earliest_start == now): its queue is
    empty and enough cores are free. It looks only at what a scheduler knows at arrival (the grid now, the
    cores held), so it is an online baseline, not a hindsight one. Ties go to the lowest fleet position."""

    name = "greenest_free"

    def __init__(self, problem: Problem):
        lists = problem.lists
        self._pools, self._tier, self._cores = lists.pools, lists.tier, lists.cores_milli
        self._carbon = problem.pool_rows(problem.clock.carbon_now(problem.workload.arrival_min))  # g/kWh now, per pool server
        self._capacity = problem.fleet.cores.tolist()

    def choose(self, job: int, now_min: float, state: FleetState) -> int:
        pool, cores, carbon, queues = self._pools[self._tier[job]], self._cores[job], self._carbon[job], state.queues
        free = [(carbon[k], s) for k, s in enumerate(pool) if queues[s].earliest_start(now_min, cores[k]) <= now_min]
        if free:
            return min(free)[1]
        held, capacity = state.cores_in_system, self._capacity
        return min((held[s] / capacity[s], s) for s in pool)[1]

    def close(self) -> None:
        pass


class TierAgents:
    """The service's TierAgents learning online in the simulator.

    One rl.agent.Learner per tier takes each job's step, as run_sequence_py does: phi = pool loads / the
    busiest one, then 1 - carbon factor, price, cpu / 100, memory / 100 (clipped to the service's 0..100);
    epsilon-greedy on two uniforms drawn per job from the tier's own stream; reward = quality -
    overload_weight x max(0, load - mean pool load); the TD update of a job waits for the next job of its
    tier. The loads are the jobs in the system on each pool server. The carbon factor here is the pool's
    mean grid intensity now, min-max scaled over the zones the fleet's servers draw from
    (Problem.carbon_factor): the agents see one number for the pool, not which server's grid is green,
    as in the service. `pretrained` are the agents run_evaluation pre-trains on the reference scenario.
    `allowed` (n_jobs, widest pool) bool, column k for pool position k, limits the servers each job may
    take, as the service's deadline mask does (None, the simulator's runs: every pool server).
    """

    name = "tier_agents"

    def __init__(
        self, problem: Problem, pretrained: Sequence[TierAgent], rngs: Sequence[np.random.Generator], allowed: np.ndarray | None = None
    ):
        self.agents = [agent.copy() for agent in pretrained]
        self._learners = [Learner(agent) for agent in self.agents]
        self._overload = [1.0 / agent.config.overload_divisor for agent in self.agents]
        wl, lists = problem.workload, problem.lists
        self._pools, self._tier = lists.pools, lists.tier
        static = static_features(problem.carbon_factor, problem.price_now, np.clip(wl.cpu, 0, 100), np.clip(wl.memory, 0, 100))
        self._static = static.tolist()
        self._quality = problem.pool_rows(problem.quality)
        draws = np.empty((len(problem), 2))
        for tier, rng in enumerate(rngs):
            rows = np.flatnonzero(wl.tier == tier)
            draws[rows] = rng.random((len(rows), 2))
        self._draws = draws.tolist()
        self._allowed = [None] * len(problem) if allowed is None else _pool_indices(allowed, [len(self._pools[t]) for t in self._tier])
        self.rl_reward = [0.0] * len(problem)
        self.explored = [False] * len(problem)

    def choose(self, job: int, now_min: float, state: FleetState) -> int:
        tier = self._tier[job]
        pool = self._pools[tier]
        u, v = self._draws[job]
        loads = [state.in_system[s] for s in pool]
        a, _, self.rl_reward[job], self.explored[job] = self._learners[tier].step(
            loads, self._static[job], self._quality[job], u, v, self._overload[tier], self._allowed[job]
        )
        return pool[a]

    def close(self) -> None:
        """The last job of each tier learns from its reward alone; the weights go back to the agents."""
        for learner in self._learners:
            learner.close()


def _pool_indices(allowed: np.ndarray, widths: list[int]) -> list[list[int]]:
    """Each job's allowed pool positions, from its row of `allowed` cut to its pool's width."""
    if len(allowed) != len(widths):
        raise ValueError(f"allowed: {len(allowed)} rows for {len(widths)} jobs")
    rows = [[k for k, ok in enumerate(row[:width]) if ok] for row, width in zip(allowed.tolist(), widths)]
    empty = next((j for j, row in enumerate(rows) if not row), None)
    if empty is not None:
        raise ValueError(f"allowed: row {empty} allows no server of its pool")
    return rows


def make_policy(
    name: str, problem: Problem, rng: np.random.Generator, pretrained: Sequence[TierAgent], dqn_weights: Path | None = None
) -> Fixed | LeastLoaded | GreenestFree | Oracle | TierAgents | DQNPlacement:
    """The policy `name` for `problem`; `rng` feeds random (one stream) or the agents (spawned per tier).
    dqn: the pre-trained weights in `dqn_weights` (default: the shipped grid file), acting greedily."""
    if name == "dqn":
        agent = load_dqn(dqn_weights)
        return DQNPlacement(problem, agent, agent.meta.get("lam_g_per_min", DEFAULT_LAMBDA))
    if name == "tier_agents":
        return TierAgents(problem, pretrained, rng.spawn(len(pretrained)))
    if name == "random":
        return random_choice(problem, rng)
    builders = {
        "round_robin": round_robin,
        "greedy": greedy,
        "lowest_carbon": lowest_carbon,
        "least_loaded": LeastLoaded,
        "greenest_free": GreenestFree,
        "oracle": Oracle,
    }
    if name not in builders:
        raise ValueError(f"unknown policy {name!r}; known: {', '.join(POLICIES)}")
    return builders[name](problem)
