"""TierAgent: linear Q-learning over one tier pool, TD(0), epsilon-greedy.

Q(s, a) = W[a] . phi(s), with phi = [load_i / max_load for the pool's servers] + [1 - carbon_factor,
energy_price, cpu / 100, memory / 100]. The TD target bootstraps from the next state *of the same tier*:
the update for a job waits for the next job of its tier, and the last job of a sequence learns from its
reward alone.

`Learner.step` is the one Python definition of a decision (act, then learn): `run_sequence_py` runs it
over a tier's jobs and the simulator's TierAgents policy runs it job by job. `run_sequence` is the entry
point of the service and pre-training; it runs the C kernel (rl/kernel.py, rl/_kernel.c, which mirrors
the step line for line) when one could be built and `run_sequence_py` otherwise. Tests check that all
three agree bit for bit.
"""

from operator import mul

import numpy as np

from rl import kernel
from rl.model import AgentConfig, SequenceResult, TierAgent, epsilon

__all__ = ["AgentConfig", "Learner", "SequenceResult", "TierAgent", "act", "epsilon", "run_sequence", "run_sequence_py", "td_update"]


def act(q: list[float], eps: float, u: float, v: float, allowed: list[int] | None) -> tuple[int, bool]:
    """Epsilon-greedy: (the chosen pool index, whether it explored).

    u < eps explores: the int(v x n)-th of the n allowed servers; otherwise the highest Q among the allowed,
    the lowest index on ties. allowed: the pool indices the job may take, one at least (None: all)."""
    if u < eps:
        choices = range(len(q)) if allowed is None else allowed
        return choices[min(int(v * len(choices)), len(choices) - 1)], True
    if allowed is None:
        return q.index(max(q)), False
    return max(allowed, key=lambda k: (q[k], -k)), False


def td_update(w: list[list[float]], phi: list[float], action: int, q_sa: float, target: float, lr: float) -> None:
    """One TD(0) step on the action's row: W[a] += lr x (target - Q(s, a)) x phi(s), in place.

    q_sa is Q(s, a) = W[a] . phi(s) as the step computed it: the row has not changed since."""
    step = lr * (target - q_sa)
    w[action] = [wj + step * fj for wj, fj in zip(w[action], phi)]


class Learner:
    """One tier agent deciding and learning one job at a time, on plain-float rows (per job, numpy calls
    would cost more than the arithmetic). `close()` settles the last job's update and writes the weights
    and step count back to the agent."""

    __slots__ = ("agent", "_cfg", "_w", "_steps", "_pending")

    def __init__(self, agent: TierAgent):
        self.agent = agent
        self._cfg = agent.config
        self._w = agent.weights.tolist()
        self._steps = agent.steps
        self._pending: tuple[list[float], int, float, float] | None = None  # (phi, action, reward, Q(s, a)) of the tier's last job

    def step(
        self,
        loads: list[int],
        features: list[float],
        quality: list[float],
        u: float,
        v: float,
        overload_weight: float,
        allowed: list[int] | None = None,
    ) -> tuple[int, list[float], float, bool]:
        """Decide the tier's next job: (pool index, Q(s, .) it was chosen on, training reward, explored).

        loads: the pool's job counts before it (the caller places the job); features: its four static
        features; quality: its quality score per pool server; u, v: its two uniforms (see act); allowed:
        see act. The previous job's update happens first, now that its next state is known; the target
        maximises over every action, allowed or not. reward = quality - overload_weight x the chosen
        server's load above the pool mean."""
        busiest = max(loads) or 1
        phi = [load / busiest for load in loads] + features
        w = self._w
        q = [sum(map(mul, row, phi)) for row in w]
        if self._pending is not None:
            phi_prev, a_prev, r_prev, q_prev = self._pending
            cfg = self._cfg
            td_update(w, phi_prev, a_prev, q_prev, r_prev + cfg.gamma * max(q), cfg.lr)
            q[a_prev] = sum(map(mul, w[a_prev], phi))
        a, explored = act(q, epsilon(self._steps, self._cfg), u, v, allowed)
        reward = quality[a] - overload_weight * max(0.0, loads[a] - sum(loads) / len(loads))
        self._steps += 1
        self._pending = (phi, a, reward, q[a])
        return a, q, reward, explored

    def close(self) -> None:
        """The last job learns from its reward alone (it has no next state); the agent gets the results."""
        if self._pending is not None:
            phi, a, reward, q_sa = self._pending
            td_update(self._w, phi, a, q_sa, reward, self._cfg.lr)
            self._pending = None
        self.agent.weights[:] = self._w
        self.agent.steps = self._steps


def run_sequence(
    agent: TierAgent,
    loads: list[int],
    static: np.ndarray,
    quality: np.ndarray,
    draws: np.ndarray,
    overload_weight: float,
    episode_loads: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    record_weights: bool = False,
) -> SequenceResult:
    """Act and learn on m consecutive jobs of one tier (see run_sequence_py); the fast path when built.

    episode_loads: (e, pool_size), for pre-training: the m jobs are e equal episodes, each starting
    from its row of loads and ending without bootstrap, exactly as e separate calls would run them.
    allowed: (m, pool_size) bool, the servers each job may take (None: all); see run_sequence_py.
    record_weights: also return the weights of each decision (SequenceResult.weights).
    """
    if kernel.available():
        return kernel.run_sequence(agent, loads, static, quality, draws, overload_weight, episode_loads, allowed, record_weights)
    if episode_loads is None:
        return run_sequence_py(agent, loads, static, quality, draws, overload_weight, allowed, record_weights)
    length = len(static) // len(episode_loads)
    parts = []
    for e, start in enumerate(episode_loads.tolist()):
        rows = slice(e * length, (e + 1) * length)
        loads[:] = start
        parts.append(run_sequence_py(agent, loads, static[rows], quality[rows], draws[rows], overload_weight, None, record_weights))
    joined = [np.concatenate([getattr(p, f) for p in parts]) for f in ("actions", "q_values", "rl_reward", "explored")]
    return SequenceResult(*joined, np.concatenate([p.weights for p in parts]) if record_weights else None)


def run_sequence_py(
    agent: TierAgent,
    loads: list[int],
    static: np.ndarray,
    quality: np.ndarray,
    draws: np.ndarray,
    overload_weight: float,
    allowed: np.ndarray | None = None,
    record_weights: bool = False,
) -> SequenceResult:
    """Act and learn on m consecutive jobs of one tier; mutates `agent` and `loads` (the pool's job counts).

    static: (m, 4) load-independent features; quality: (m, pool_size) quality scores;
    draws: (m, 2) uniforms in [0, 1): the first decides exploration, the second picks the random server.
    Drawing exactly two per job keeps a session's stream independent of how jobs are split into batches.
    allowed: (m, pool_size) bool or None: the servers a job may take, greedy or exploring (the ones that
    can meet its deadline); each row allows one at least. Each job is one Learner.step.
    record_weights: also return the weights each step's Q-values were computed with.
    """
    m, n_actions = len(static), len(loads)
    actions = [0] * m
    q_rows: list[list[float]] = [[]] * m
    rewards = [0.0] * m
    explored = [False] * m
    ok_rows = [None] * m if allowed is None else [[k for k, ok in enumerate(row) if ok] for row in allowed.tolist()]
    learner = Learner(agent)
    step = learner.step
    weights = np.empty((m, n_actions, n_actions + 4)) if record_weights else None
    for i, (feat, qual, (u, v), ok) in enumerate(zip(static.tolist(), quality.tolist(), draws.tolist(), ok_rows)):
        a, q_rows[i], rewards[i], explored[i] = step(loads, feat, qual, u, v, overload_weight, ok)
        if weights is not None:
            weights[i] = learner._w  # after step: the rows q was computed with (this job's own update is still pending)
        loads[a] += 1
        actions[i] = a
    learner.close()
    return SequenceResult(
        actions=np.asarray(actions, dtype=np.intp),
        q_values=np.asarray(q_rows, dtype=np.float64).reshape(m, n_actions),
        rl_reward=np.asarray(rewards),
        explored=np.asarray(explored),
        weights=weights,
    )
