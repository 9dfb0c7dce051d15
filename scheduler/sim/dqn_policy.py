"""The `dqn` placement policy: rl.dqn's agent over the per-server grid state, in the simulator's event loop.

State: scheduler.placement.grid_features.grid_state of the arriving job (each pool server's intensity now
and over the job's run, its queue, the job's size on it, the tier). Action: a position in the job's pool
(the network has one output per position of the widest pool; narrower pools mask the rest).

Reward, per job: -(dynamic CO2 g + lam x completion minutes) / REWARD_SCALE_G. Summed over a run it is
-(CO2 with idle - the fleet's idle draw over the horizon + lam x total completion) / REWARD_SCALE_G: the
objective every policy is scored on (co2_with_idle_kg, scheduler/sim/metrics.py), less a term no single
placement changes, with completion priced at lam g per minute (the Lagrangian of "least CO2 at a mean
completion no worse than least_loaded's"). The idle draw only moves with the horizon (first arrival to
last finish), which one job's placement barely stretches, so it is left out of the per-job reward.

Episodes are windows of `episode_jobs` consecutive arrivals: a job's transition bootstraps from the next
arrival's state (any tier: they share the fleet's queues), and the window's last job is terminal. With
`learn` False (evaluation, the service) the agent acts greedily and draws nothing: the same weights give
the same choices. With `learn` True it explores and trains on its own generator (the training CLI).
"""

import numpy as np

from rl.dqn import DQNAgent, DQNConfig
from scheduler.placement.grid_features import dynamic_kwh, grid_state, state_size
from scheduler.sim.simulator import MILLI, FleetState, Problem

REWARD_SCALE_G = 10.0
"""Grams of CO2 per unit of reward: keeps per-job rewards near 1, where the Huber loss is quadratic."""
DEFAULT_LAMBDA = 0.3
"""g CO2 a minute of completion is worth in the reward (weights files record the one they were trained with).
Chosen on training runs only (seeds and 2022 hours of scheduler/cli/train_dqn.py): of 0.03, 0.1, 0.3 and 1,
the least that kept the one-step version of this objective within 5 % of least_loaded's mean completion
on the task trace (0.1 took 1.06x and 1.10x; 0.3 0.94x and 0.96x) — see docs/placement.md."""
DEFAULT_EPISODE_JOBS = 200
FORECASTS = ("perfect", "persistence")
"""What the state's intensity_forecast is: the series' mean over the job's run on each server (perfect, as
the grid scenario reads it), or the reading at arrival held over the run (persistence: what a scheduler
without a forecast knows). The reward always counts the carbon the job really meets."""


def pool_width(problem: Problem) -> int:
    return max(len(p) for p in problem.fleet.pools)


def fresh_agent(problem: Problem, config: DQNConfig, seed: int) -> DQNAgent:
    width = pool_width(problem)
    return DQNAgent(state_size(width), width, config, seed)


class DQNPlacement:
    """Chooses with a DQNAgent; learns online when `learn` is True (see the module docstring)."""

    name = "dqn"

    def __init__(
        self,
        problem: Problem,
        agent: DQNAgent,
        lam: float = DEFAULT_LAMBDA,
        learn: bool = False,
        episode_jobs: int = DEFAULT_EPISODE_JOBS,
        forecast: str = "perfect",
    ):
        width = pool_width(problem)
        if agent.state_dim != state_size(width) or agent.n_actions != width:
            raise ValueError(
                f"dqn weights expect a state of {agent.state_dim} and {agent.n_actions} actions; "
                f"this fleet gives {state_size(width)} and {width}"
            )
        if forecast not in FORECASTS:
            raise ValueError(f"forecast must be one of {', '.join(FORECASTS)}; got {forecast!r}")
        self._persistence = forecast == "persistence"
        lists, fleet = problem.lists, problem.fleet
        self.agent, self.lam, self.learn, self.episode_jobs = agent, float(lam), learn, episode_jobs
        self._width = width
        self._pools, self._tier, self._runtime, self._cores = lists.pools, lists.tier, lists.runtime_min, lists.cores_milli
        self._arrival = lists.arrival_min
        share = problem.cores_milli / (fleet.cores * MILLI)[None, :]
        # (n, width) arrays in pool order, a row turned into a list per job: lists of lists for all jobs would
        # hold about 90 MB more at the simulator's 200,000 jobs.
        self._share = _pool_matrix(problem, share, width)
        self._dyn = _pool_matrix(problem, dynamic_kwh(problem.energy_kwh, problem.runtime_min, share, fleet.p_idle_w[None, :]), width)
        self._now = _pool_matrix(problem, problem.clock.carbon_now(problem.workload.arrival_min), width)
        self._carbon = problem.clock.carbon_mean_one
        self._allowed = [np.arange(len(p)) for p in lists.pools]
        self._pending: tuple[np.ndarray, int, float] | None = None
        self.rewards = np.zeros(len(problem))
        """Each job's reward, in arrival order."""

    def choose(self, job: int, now_min: float, state: FleetState) -> int:
        tier = self._tier[job]
        pool, runtime, cores = self._pools[tier], self._runtime[job], self._cores[job]
        wait, forecast = [], []
        for k, s in enumerate(pool):
            start = state.queues[s].earliest_start(now_min, cores[k])
            wait.append(start - now_min)
            forecast.append(self._carbon(s, start, runtime[k]))
        in_system = [state.in_system[s] for s in pool]
        k = len(pool)
        dyn, now, share = self._dyn[job, :k].tolist(), self._now[job, :k].tolist(), self._share[job, :k].tolist()
        seen = now if self._persistence else forecast  # what the state says the grid will be over the run
        x = grid_state(tier, self._width, now, seen, wait, in_system, runtime, share, dyn)
        a = self.agent.act(x, greedy=not self.learn, allowed=self._allowed[tier])
        completion = (now_min - self._arrival[job]) + wait[a] + runtime[a]
        reward = -(dyn[a] * forecast[a] + self.lam * completion) / REWARD_SCALE_G
        self.rewards[job] = reward
        if self.learn:
            if self._pending is not None:
                self.agent.observe(*self._pending, x, False)
            self._pending = (x, a, reward)
            if (job + 1) % self.episode_jobs == 0:
                self._end_episode(x)
        return pool[a]

    def _end_episode(self, x: np.ndarray) -> None:
        """The window's last job is terminal: its next state is never bootstrapped (x is a placeholder)."""
        if self._pending is not None:
            self.agent.observe(*self._pending, x, True)
            self._pending = None

    def close(self) -> None:
        if self._pending is not None:
            self._end_episode(self._pending[0])


def _pool_matrix(problem: Problem, values: np.ndarray, width: int) -> np.ndarray:
    """values (n_jobs, n_servers) as (n_jobs, width): each job's row over its pool's servers, in pool order."""
    out = np.zeros((len(problem), width))
    for tier, pool in enumerate(problem.fleet.pools):
        rows = np.flatnonzero(problem.workload.tier == tier)
        out[rows, : len(pool)] = values[np.ix_(rows, pool)]
    return out
