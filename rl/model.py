"""The tier agent's data: its hyper-parameters, the exploration schedule, its weights, a sequence's results.

A module of its own so that rl/agent.py (the Python step) and rl/kernel.py (the C step) both import it
and neither imports the other's types.
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class AgentConfig:
    """Hyper-parameters shared by the three tier agents (rl/_kernel.c receives each one as an argument)."""

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


def epsilon(steps: int, config: AgentConfig) -> float:
    """The exploration rate after `steps` decisions: eps_start x max(eps_floor, 1 - steps / eps_decay_steps).

    The one definition in Python; rl/_kernel.c `epsilon` computes the same expression in the same order."""
    return config.eps_start * max(config.eps_floor, 1.0 - steps / config.eps_decay_steps)


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
        """epsilon(steps, config) at this agent's step count, or at `steps`."""
        return epsilon(self.steps if steps is None else steps, self.config)


@dataclass(frozen=True)
class SequenceResult:
    actions: np.ndarray  # (m,) index into the pool
    q_values: np.ndarray  # (m, pool_size) Q(s, .) when the action was chosen
    rl_reward: np.ndarray  # (m,) training reward
    explored: np.ndarray  # (m,) bool, epsilon step
    weights: np.ndarray | None = None
    """(m, pool_size, pool_size + 4) the weights each decision's Q-values were computed with (Q(s, a) =
    W[a] . phi(s)), when asked for: what lets an explanation split a choice into per-feature terms."""
