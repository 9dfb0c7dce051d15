"""The DQN's network math in numpy: the dueling MLP (forward and its hand-written backward, checked against
finite differences in tests/rl/test_dqn.py), the double-DQN targets and Huber loss, and Adam/SGD.

Pure functions of a parameter dict (W0, b0, ..., Wv, bv, Wa, ba) and arrays, plus the optimizer's state:
rl/dqn.py's agent holds the parameters and calls these; dqn_place.py predicts with them in the service.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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
