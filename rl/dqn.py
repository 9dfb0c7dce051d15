"""A numpy DQN, CleanRL-shaped: double DQN, dueling head, experience replay, target network, Huber loss.

Reads top to bottom: the config, the dueling MLP (forward and its hand-written backward, checked against
finite differences in tests/rl/test_dqn.py), the double-DQN loss, Adam/SGD, the replay buffer, the agent
(act / observe / learn / save / load), and `train`, the flat loop over episodes of any environment with a
discrete action space.

Generic on purpose: a state is a float vector of any size and an action an index in range(n_actions);
nothing here knows about servers or grids (those states are built in scheduler/placement). numpy only,
because the service deploys on a 512 MB instance where a deep-learning framework does not fit.

Deterministic per seed: every draw (initial weights, exploration, replay sampling) comes from the one
np.random.Generator the agent is built with, in the order the calls are made.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

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


# ---------------------------------------------------------------- the dueling MLP
# params: W0, b0, ..., W{L-1}, b{L-1} for the trunk, then Wv, bv (value, 1 output) and Wa, ba (advantage).
# Q(s, .) = V(s) + A(s, .) - mean_a A(s, a): the mean keeps V and A identifiable.


def init_params(state_dim: int, n_actions: int, hidden: tuple[int, ...], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """He-uniform weights for the ReLU trunk, zero biases; small heads so initial Q-values are near 0."""
    params: dict[str, np.ndarray] = {}
    fan_in = state_dim
    for i, width in enumerate(hidden):
        bound = np.sqrt(6.0 / fan_in)
        params[f"W{i}"] = rng.uniform(-bound, bound, size=(fan_in, width))
        params[f"b{i}"] = np.zeros(width)
        fan_in = width
    bound = np.sqrt(1.0 / fan_in)
    params["Wv"] = rng.uniform(-bound, bound, size=(fan_in, 1)) * 0.1
    params["bv"] = np.zeros(1)
    params["Wa"] = rng.uniform(-bound, bound, size=(fan_in, n_actions)) * 0.1
    params["ba"] = np.zeros(n_actions)
    return params


def n_layers(params: dict[str, np.ndarray]) -> int:
    return sum(1 for k in params if k.startswith("W") and k[1:].isdigit())


def forward(params: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Q-values (batch, n_actions) and the activations backward needs (the input, then each ReLU output)."""
    acts = [x]
    h = x
    i = 0
    while f"W{i}" in params:  # the trunk's layers, in order (cheaper per call than n_layers' scan)
        h = np.maximum(h @ params[f"W{i}"] + params[f"b{i}"], 0.0)
        acts.append(h)
        i += 1
    v = h @ params["Wv"] + params["bv"]
    a = h @ params["Wa"] + params["ba"]
    # sum / n is np.mean's own arithmetic, without its per-call overhead (the simulator calls this per job)
    return v + a - a.sum(axis=1, keepdims=True) / a.shape[1], acts


PREDICT_ROWS = 128
"""Rows per matrix product in `predict`. Above about this size OpenBLAS splits a product over threads; on a
busy two-core host that made 3,333 rows take 40-120 ms instead of 5-7 ms (measured here), so large batches
go through in blocks that stay on one thread."""


def predict(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Q-values (batch, n_actions) of a batch of any size, in blocks of PREDICT_ROWS: forward's numbers."""
    if len(x) <= PREDICT_ROWS:
        return forward(params, x)[0]
    return np.concatenate([forward(params, x[i : i + PREDICT_ROWS])[0] for i in range(0, len(x), PREDICT_ROWS)])


def backward(params: dict[str, np.ndarray], acts: list[np.ndarray], dq: np.ndarray) -> dict[str, np.ndarray]:
    """Gradients of a scalar loss with respect to every parameter, given dL/dQ (batch, n_actions)."""
    h = acts[-1]
    dv = dq.sum(axis=1, keepdims=True)  # dQ_j/dV = 1 for every j
    da = dq - dq.mean(axis=1, keepdims=True)  # dQ_j/dA_k = [j == k] - 1/n
    grads = {"Wv": h.T @ dv, "bv": dv.sum(axis=0), "Wa": h.T @ da, "ba": da.sum(axis=0)}
    dh = dv @ params["Wv"].T + da @ params["Wa"].T
    for i in reversed(range(n_layers(params))):
        dz = dh * (acts[i + 1] > 0.0)
        grads[f"W{i}"] = acts[i].T @ dz
        grads[f"b{i}"] = dz.sum(axis=0)
        dh = dz @ params[f"W{i}"].T
    return grads


def huber(x: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Huber loss per element and its derivative: quadratic within delta, linear beyond (bounded TD steps)."""
    ax = np.abs(x)
    loss = np.where(ax <= delta, 0.5 * x * x, delta * (ax - 0.5 * delta))
    return loss, np.clip(x, -delta, delta)


def td_targets(online: dict, target: dict, rewards: np.ndarray, next_states: np.ndarray, dones: np.ndarray, gamma: float) -> np.ndarray:
    """Double DQN: the online network picks the next action, the target network values it."""
    q_next_online, _ = forward(online, next_states)
    best = q_next_online.argmax(axis=1)
    q_next_target, _ = forward(target, next_states)
    return rewards + gamma * (1.0 - dones) * q_next_target[np.arange(len(best)), best]


def loss_and_grads(params: dict, states: np.ndarray, actions: np.ndarray, targets: np.ndarray, delta: float) -> tuple[float, dict]:
    """Mean Huber loss of Q(s, a) against fixed targets, and its gradient for every parameter."""
    q, acts = forward(params, states)
    rows = np.arange(len(actions))
    loss, dloss = huber(q[rows, actions] - targets, delta)
    dq = np.zeros_like(q)
    dq[rows, actions] = dloss / len(actions)
    return float(loss.mean()), backward(params, acts, dq)


# ---------------------------------------------------------------- optimizers


@dataclass
class Optimizer:
    """Adam (Kingma & Ba) or plain SGD over a dict of arrays, updated in place."""

    kind: str
    lr: float
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    t: int = 0
    m: dict[str, np.ndarray] = field(default_factory=dict)
    v: dict[str, np.ndarray] = field(default_factory=dict)

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        if self.kind == "sgd":
            for k, g in grads.items():
                params[k] -= self.lr * g
            return
        self.t += 1
        c1, c2 = 1.0 - self.beta1**self.t, 1.0 - self.beta2**self.t
        for k, g in grads.items():
            m = self.m.setdefault(k, np.zeros_like(g))
            v = self.v.setdefault(k, np.zeros_like(g))
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            params[k] -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


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
