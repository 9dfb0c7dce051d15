"""A numpy DQN, CleanRL-shaped: double DQN, dueling head, experience replay, target network, Huber loss.

Reads top to bottom: the config, the replay buffer, the agent (act / observe / learn / save / load), and
`train`, the flat loop over episodes of any environment with a discrete action space. The network it learns
(the dueling MLP, the double-DQN loss, Adam/SGD) is rl/dqn_net.py.

Generic on purpose: a state is a float vector of any size and an action an index in range(n_actions);
nothing here knows about servers or grids (those states are built in scheduler/placement). numpy only,
because the service deploys on a 512 MB instance where a deep-learning framework does not fit.

Deterministic per seed: every draw (initial weights, exploration, replay sampling) comes from the one
np.random.Generator the agent is built with, in the order the calls are made.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from rl.dqn_net import Optimizer, forward, init_params, loss_and_grads, td_targets

FORMAT = "taskpilot-dqn/1"


@dataclass(frozen=True)
class DQNConfig:
    hidden: tuple[int, ...] = (64, 64)
    """Widths of the shared ReLU trunk; the value and advantage heads are linear on top of it."""
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    """'adam' or 'sgd'."""
    gamma: float = 0.99
    """Discount of the bootstrapped next-state value (0 at a terminal transition)."""
    buffer_size: int = 50_000
    batch_size: int = 64
    learning_starts: int = 1_000
    """Transitions stored before the first gradient step."""
    train_frequency: int = 4
    """One gradient step every this many observed transitions."""
    target_network_frequency: int = 500
    """Gradient steps between target-network updates."""
    tau: float = 1.0
    """Target update rate: 1 copies the online weights, < 1 is a Polyak average."""
    start_e: float = 1.0
    end_e: float = 0.05
    exploration_steps: int = 10_000
    """Observed transitions over which epsilon falls linearly from start_e to end_e."""
    huber_delta: float = 1.0
    grad_clip: float = 10.0
    """Global L2 norm the gradient is clipped to before the optimizer step (0: no clipping)."""


# ---------------------------------------------------------------- replay


class ReplayBuffer:
    """A ring of the last `size` transitions; uniform sampling with replacement from the agent's generator."""

    def __init__(self, size: int, state_dim: int):
        self.states = np.zeros((size, state_dim))
        self.next_states = np.zeros((size, state_dim))
        self.actions = np.zeros(size, dtype=np.intp)
        self.rewards = np.zeros(size)
        self.dones = np.zeros(size)
        self.size, self.pos, self.full = size, 0, False

    def __len__(self) -> int:
        return self.size if self.full else self.pos

    def add(self, s, a: int, r: float, s2, done: bool) -> None:
        i = self.pos
        self.states[i], self.actions[i], self.rewards[i], self.next_states[i], self.dones[i] = s, a, r, s2, float(done)
        self.pos = (i + 1) % self.size
        self.full = self.full or self.pos == 0

    def sample(self, rng: np.random.Generator, batch: int):
        idx = rng.integers(0, len(self), size=batch)
        return self.states[idx], self.actions[idx], self.rewards[idx], self.next_states[idx], self.dones[idx]


# ---------------------------------------------------------------- the agent


def linear_schedule(start_e: float, end_e: float, duration: int, t: int) -> float:
    if duration <= 0:
        return end_e
    return max(end_e, start_e + (end_e - start_e) * t / duration)


class DQNAgent:
    """act(state, greedy) -> action; observe(s, a, r, s2, done) stores and trains on schedule; save/load."""

    def __init__(self, state_dim: int, n_actions: int, config: DQNConfig | None = None, seed: int = 0):
        self.config = config or DQNConfig()
        self.state_dim, self.n_actions, self.seed = int(state_dim), int(n_actions), int(seed)
        self.rng = np.random.default_rng(seed)
        self.params = init_params(self.state_dim, self.n_actions, tuple(self.config.hidden), self.rng)
        self.target = {k: v.copy() for k, v in self.params.items()}
        self.optimizer = Optimizer(self.config.optimizer, self.config.learning_rate)
        self.buffer: ReplayBuffer | None = None  # allocated on the first observe: a loaded, acting-only agent needs none
        self.steps = 0  # transitions observed
        self.updates = 0  # gradient steps
        self.last_loss = float("nan")
        self.meta: dict = {}  # what save() was given, after load()

    # acting
    def q_values(self, state) -> np.ndarray:
        q, _ = forward(self.params, np.asarray(state, dtype=np.float64).reshape(1, -1))
        return q[0]

    def epsilon(self) -> float:
        c = self.config
        return linear_schedule(c.start_e, c.end_e, c.exploration_steps, self.steps)

    def act(self, state, greedy: bool = False, allowed=None) -> int:
        """Epsilon-greedy (greedy=True: never explores, draws nothing). allowed: optional bool mask or index
        list of the actions this state permits; the best allowed one wins, the lowest index on ties."""
        ok = None
        if allowed is not None:
            ok = np.asarray(allowed)
            ok = np.flatnonzero(ok) if ok.dtype == bool else ok.astype(np.intp)
        if not greedy and self.rng.random() < self.epsilon():
            return int(self.rng.integers(self.n_actions)) if ok is None else int(ok[self.rng.integers(len(ok))])
        q = self.q_values(state)
        if ok is None:
            return int(q.argmax())
        return int(ok[q[ok].argmax()])

    # learning
    def observe(self, s, a: int, r: float, s2, done: bool) -> float | None:
        """Store one transition; every train_frequency transitions past learning_starts take a gradient
        step (returned: its loss, else None). done=True marks a real terminal: no bootstrap past it."""
        c = self.config
        if self.buffer is None:
            self.buffer = ReplayBuffer(c.buffer_size, self.state_dim)
        self.buffer.add(s, a, r, s2, done)
        self.steps += 1
        if self.steps >= c.learning_starts and self.steps % c.train_frequency == 0:
            return self.learn()
        return None

    def learn(self) -> float:
        """One gradient step on a replayed batch; the target network follows on schedule."""
        c = self.config
        s, a, r, s2, d = self.buffer.sample(self.rng, c.batch_size)
        targets = td_targets(self.params, self.target, r, s2, d, c.gamma)
        loss, grads = loss_and_grads(self.params, s, a, targets, c.huber_delta)
        if c.grad_clip > 0:
            norm = np.sqrt(sum(float((g * g).sum()) for g in grads.values()))
            if norm > c.grad_clip:
                grads = {k: g * (c.grad_clip / norm) for k, g in grads.items()}
        self.optimizer.step(self.params, grads)
        self.updates += 1
        if self.updates % c.target_network_frequency == 0:
            for k, p in self.params.items():
                self.target[k] = c.tau * p + (1.0 - c.tau) * self.target[k]
        self.last_loss = loss
        return loss

    # persistence
    def save(self, path: str | Path, meta: dict | None = None) -> None:
        """The online weights, the config and `meta` (e.g. the feature names the states were built with) in
        one .npz; no pickles, so loading a file runs no code."""
        header = {
            "format": FORMAT,
            "state_dim": self.state_dim,
            "n_actions": self.n_actions,
            "seed": self.seed,
            "steps": self.steps,
            "updates": self.updates,
            "config": asdict(self.config),
            "meta": meta or {},
        }
        with open(path, "wb") as f:  # an open file: np.savez would append .npz to a path without it
            np.savez_compressed(f, __header__=np.array(json.dumps(header)), **self.params)

    @classmethod
    def load(cls, path: str | Path) -> DQNAgent:
        """An agent with the saved weights (online and target), ready to act greedily or train further."""
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["__header__"]))
            if header.get("format") != FORMAT:
                raise ValueError(f"{path}: not a {FORMAT} weights file")
            cfg = header["config"]
            cfg["hidden"] = tuple(cfg["hidden"])
            agent = cls(header["state_dim"], header["n_actions"], DQNConfig(**cfg), header["seed"])
            for k in agent.params:
                if data[k].shape != agent.params[k].shape:
                    raise ValueError(f"{path}: {k} has shape {data[k].shape}, expected {agent.params[k].shape}")
                agent.params[k] = data[k].astype(np.float64)
        agent.target = {k: v.copy() for k, v in agent.params.items()}
        agent.steps, agent.updates = header["steps"], header["updates"]
        agent.meta = header["meta"]
        return agent


# ---------------------------------------------------------------- the flat loop


class Env(Protocol):
    """What `train` needs: reset() -> state; step(action) -> (next_state, reward, done); optional allowed()."""

    def reset(self) -> np.ndarray: ...

    def step(self, action: int) -> tuple[np.ndarray, float, bool]: ...


def train(agent: DQNAgent, env: Env, episodes: int, log: Callable[[int, float, float], None] | None = None) -> list[float]:
    """Run `episodes` episodes, learning as it goes; returns each episode's undiscounted return.

    An episode ends when the environment says done; that last transition is terminal (no bootstrap)."""
    returns = []
    allowed = getattr(env, "allowed", None)
    for episode in range(episodes):
        state, done, total = env.reset(), False, 0.0
        while not done:
            action = agent.act(state, allowed=allowed() if allowed else None)
            next_state, reward, done = env.step(action)
            agent.observe(state, action, reward, next_state, done)
            state, total = next_state, total + reward
        returns.append(total)
        if log:
            log(episode, total, agent.epsilon())
    return returns
