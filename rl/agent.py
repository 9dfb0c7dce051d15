"""TierAgent: linear Q-learning over one tier pool, TD(0), epsilon-greedy.

Q(s, a) = W[a] . phi(s), with phi = [load_i / max_load for the pool's servers] + [1 - carbon_factor,
energy_price, cpu / 100, memory / 100]. The TD target bootstraps from the next state *of the same tier*:
the update for a job waits for the next job of its tier, and the last job of a sequence learns from its
reward alone. `run_sequence` is the one entry point for acting and learning (the service and
pre-training both call it); it runs the C kernel of `rl/kernel.py` when one could be built and this
module's plain Python loop otherwise. Tests check that the two agree bit for bit.
"""

from dataclasses import dataclass, field
from operator import mul

import numpy as np


@dataclass(frozen=True)
class AgentConfig:
    """Hyper-parameters shared by the three tier agents."""

    lr: float = 0.01
    """Step size of the TD(0) update."""
    gamma: float = 0.9
    """Discount of the bootstrapped next-state value."""
    eps_start: float = 0.15
    """Exploration rate of a fresh agent."""
    eps_floor: float = 0.1
    """Exploration never falls below eps_start x eps_floor (1.5 %)."""
    eps_decay_steps: int = 2000
    """Steps over which exploration decays linearly to its floor."""
    overload_divisor: float = 5.0
    """reward = quality - max(0, load(chosen) - mean pool load) / overload_divisor."""


@dataclass
class TierAgent:
    """Weights and step count of one tier's agent; copy() gives a session its own."""

    weights: np.ndarray  # (pool_size, pool_size + 4)
    steps: int = 0
    config: AgentConfig = field(default_factory=AgentConfig)

    @classmethod
    def fresh(cls, pool_size: int, config: AgentConfig | None = None) -> "TierAgent":
        return cls(np.zeros((pool_size, pool_size + 4)), 0, config or AgentConfig())

    def copy(self) -> "TierAgent":
        return TierAgent(self.weights.copy(), self.steps, self.config)

    def epsilon(self, steps: int | None = None) -> float:
        """eps_start x max(eps_floor, 1 - steps / eps_decay_steps)."""
        s = self.steps if steps is None else steps
        c = self.config
        return c.eps_start * max(c.eps_floor, 1.0 - s / c.eps_decay_steps)


@dataclass(frozen=True)
class SequenceResult:
    actions: np.ndarray  # (m,) index into the pool
    q_values: np.ndarray  # (m, pool_size) Q(s, .) when the action was chosen
    rl_reward: np.ndarray  # (m,) training reward
    explored: np.ndarray  # (m,) bool, epsilon step


def run_sequence(
    agent: TierAgent,
    loads: list[int],
    static: np.ndarray,
    quality: np.ndarray,
    draws: np.ndarray,
    overload_weight: float,
    episode_loads: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
) -> SequenceResult:
    """Act and learn on m consecutive jobs of one tier (see run_sequence_py); the fast path when built.

    episode_loads: (e, pool_size), for pre-training: the m jobs are e equal episodes, each starting
    from its row of loads and ending without bootstrap, exactly as e separate calls would run them.
    allowed: (m, pool_size) bool, the servers each job may take (None: all); see run_sequence_py.
    """
    from rl import kernel  # imported here: kernel imports this module's types

    if kernel.available():
        return kernel.run_sequence(agent, loads, static, quality, draws, overload_weight, episode_loads, allowed)
    if episode_loads is None:
        return run_sequence_py(agent, loads, static, quality, draws, overload_weight, allowed)
    length = len(static) // len(episode_loads)
    parts = []
    for e, start in enumerate(episode_loads.tolist()):
        rows = slice(e * length, (e + 1) * length)
        loads[:] = start
        parts.append(run_sequence_py(agent, loads, static[rows], quality[rows], draws[rows], overload_weight))
    return SequenceResult(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("actions", "q_values", "rl_reward", "explored")))


def run_sequence_py(
    agent: TierAgent,
    loads: list[int],
    static: np.ndarray,
    quality: np.ndarray,
    draws: np.ndarray,
    overload_weight: float,
    allowed: np.ndarray | None = None,
) -> SequenceResult:
    """Act and learn on m consecutive jobs of one tier; mutates `agent` and `loads` (the pool's job counts).

    static: (m, 4) load-independent features; quality: (m, pool_size) quality scores;
    draws: (m, 2) uniforms in [0, 1): the first decides exploration, the second picks the random server.
    Drawing exactly two per job keeps a session's stream independent of how jobs are split into batches.
    Greedy ties go to the lowest pool index. overload_weight scales max(0, load - mean load) in the reward.
    allowed: (m, pool_size) bool or None: the servers a job may take, greedy or exploring (the ones that
    can meet its deadline); each row allows one at least. The TD target still maximises over all actions.
    """
    cfg = agent.config
    lr, gamma = cfg.lr, cfg.gamma
    n_actions = len(loads)
    w = agent.weights.tolist()
    steps = agent.steps
    m = len(static)
    actions = [0] * m
    q_rows: list[list[float]] = [[]] * m
    rewards = [0.0] * m
    explored = [False] * m
    pending: tuple[list[float], int, float] | None = None
    ok_rows = [None] * m if allowed is None else [[k for k, ok in enumerate(row) if ok] for row in allowed.tolist()]
    for i, (feat, qual, (u, v), ok) in enumerate(zip(static.tolist(), quality.tolist(), draws.tolist(), ok_rows)):
        busiest = max(loads) or 1
        phi = [load / busiest for load in loads] + feat
        q = [sum(map(mul, row, phi)) for row in w]
        if pending is not None:  # finish the previous job's update now that its next state is known
            phi_prev, a_prev, r_prev = pending
            td_update(w, phi_prev, a_prev, r_prev + gamma * max(q), lr)
            q[a_prev] = sum(map(mul, w[a_prev], phi))
        eps = cfg.eps_start * max(cfg.eps_floor, 1.0 - steps / cfg.eps_decay_steps)
        if u < eps:
            choices = range(n_actions) if ok is None else ok
            a = choices[min(int(v * len(choices)), len(choices) - 1)]
            explored[i] = True
        elif ok is None:
            a = q.index(max(q))
        else:
            a = max(ok, key=lambda k: (q[k], -k))  # the highest Q among the allowed, lowest index on ties
        mean_load = sum(loads) / n_actions
        reward = qual[a] - overload_weight * max(0.0, loads[a] - mean_load)
        loads[a] += 1
        steps += 1
        actions[i], q_rows[i], rewards[i] = a, q, reward
        pending = (phi, a, reward)
    if pending is not None:  # last job of the sequence: no next state, the target is the reward alone
        td_update(w, pending[0], pending[1], pending[2], lr)
    agent.weights[:] = w
    agent.steps = steps
    return SequenceResult(
        actions=np.asarray(actions, dtype=np.intp),
        q_values=np.asarray(q_rows, dtype=np.float64).reshape(m, n_actions),
        rl_reward=np.asarray(rewards),
        explored=np.asarray(explored),
    )


def td_update(w: list[list[float]], phi: list[float], action: int, target: float, lr: float) -> None:
    """One TD(0) step on the action's row: W[a] += lr x (target - Q(s, a)) x phi(s), in place.

    Public so that the simulator's TierAgents (scheduler/sim/policies.py) learn with the very arithmetic of
    run_sequence_py, bit for bit. `w` holds plain-float rows: per job, numpy calls would cost more than
    the arithmetic."""
    row = w[action]
    step = lr * (target - sum(map(mul, row, phi)))
    w[action] = [wj + step * fj for wj, fj in zip(row, phi)]
