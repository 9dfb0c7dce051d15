"""The learned dispatcher: a score per ready job from its features, the highest score runs next.

Which job of a ready queue a free worker takes (seed 003's Autonomous Orchestrator). The queue's jobs are
scored one by one by a small MLP over the same features, so the policy works for any queue length and
never depends on a job's position; the greedy action is the argmax (ties to the lowest index, i.e. the
queue's own order), the exploring one samples softmax(scores). Training is REINFORCE with a baseline
(`reinforce_step`): the caller runs rollouts, records every decision's features and choice, and gives each
decision its advantage. Everything is numpy (the service fits in 512 MB; no deep-learning framework).

The features (`job_features`) are built here from plain arrays, so the simulator (scheduler/dispatch) and
the executor's `rl` queue order (scheduler/execution) describe a job the same way.
"""

import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

FEATURES = (
    "to_deadline",
    "slack",
    "late",
    "work",
    "critical_path",
    "waiting",
    "critical",
    "flexible",
    "failures",
    "queue",
    "deadline_rank",
)
"""Per job, all in units of the queue's mean planned runtime (so seconds or minutes give the same policy):
time to the deadline; slack = time to the deadline - own planned work; late = 1 when the slack is already
negative (the job misses whatever we do); own planned work; remaining work on its critical path (itself and
its longest chain of dependants); time waited in the queue; urgency one-hots (critical, flexible); failed
attempts so far (capped at 3); the queue's length per worker (log); the job's deadline rank in the queue
(0 = earliest, 1 = latest), which lets a small network express EDF exactly."""
CLIP = 10.0
"""Times are clipped to +-10 mean runtimes: farther deadlines all look alike, and no input explodes."""


def job_features(to_deadline: np.ndarray, work: np.ndarray, critical_path: np.ndarray, waiting: np.ndarray, priority: np.ndarray,
                 failures: np.ndarray, workers: int) -> np.ndarray:  # fmt: skip
    """(n_jobs, len(FEATURES)) from per-job arrays (n_jobs,). A job without a deadline has to_deadline = inf."""
    n = len(work)
    scale = max(float(np.mean(work)), 1e-9) if n else 1.0
    ttd = np.clip(np.nan_to_num(to_deadline / scale, posinf=CLIP, neginf=-CLIP), -CLIP, CLIP)
    slack = np.clip(np.nan_to_num((to_deadline - work) / scale, posinf=CLIP, neginf=-CLIP), -CLIP, CLIP)
    rank = np.empty(n)
    rank[np.argsort(to_deadline, kind="stable")] = np.arange(n) / max(n - 1, 1)
    x = np.empty((n, len(FEATURES)))
    x[:, 0], x[:, 1], x[:, 2] = ttd, slack, slack < 0
    x[:, 3] = np.minimum(work / scale, CLIP)
    x[:, 4] = np.minimum(critical_path / scale, 2 * CLIP) / 2
    x[:, 5] = np.minimum(waiting / scale, 2 * CLIP) / 2
    x[:, 6], x[:, 7] = priority == 0, priority == 2
    x[:, 8] = np.minimum(failures, 3)
    x[:, 9] = np.log1p(n / max(workers, 1))
    x[:, 10] = rank
    return x


@dataclass(frozen=True)
class DispatcherConfig:
    hidden: int = 16
    """Units of the MLP's one tanh layer: enough to weigh slack against work differently as the queue grows."""
    lr: float = 0.005
    """Adam's step size (0.01 learned faster but wandered off its best policy)."""
    init_scale: float = 0.1
    """Standard deviation of the initial weights: a fresh policy is close to uniform over the queue."""
    entropy: float = 0.001
    """Weight of the entropy bonus: keeps exploring until the advantages say otherwise."""


@dataclass
class Dispatcher:
    """score(x) = w2 . tanh(x W1 + b1); the policy is softmax(score) over a ready queue."""

    w1: np.ndarray  # (n_features, hidden)
    b1: np.ndarray  # (hidden,)
    w2: np.ndarray  # (hidden,)
    config: DispatcherConfig = field(default_factory=DispatcherConfig)
    adam: dict[str, np.ndarray] = field(default_factory=dict)
    steps: int = 0

    @classmethod
    def fresh(cls, rng: np.random.Generator, config: DispatcherConfig | None = None) -> "Dispatcher":
        config = config or DispatcherConfig()
        n, h = len(FEATURES), config.hidden
        return cls(rng.normal(0, config.init_scale, (n, h)), np.zeros(h), rng.normal(0, config.init_scale, h), config)

    def params(self) -> dict[str, np.ndarray]:
        return {"w1": self.w1, "b1": self.b1, "w2": self.w2}

    def scores(self, x: np.ndarray) -> np.ndarray:
        """(n_jobs,) from (n_jobs, n_features)."""
        return np.tanh(x @ self.w1 + self.b1) @ self.w2

    def act(self, x: np.ndarray, rng: np.random.Generator | None = None) -> tuple[int, np.ndarray]:
        """The chosen row and the policy's probabilities: argmax (lowest index on ties) without rng, a sample with it."""
        s = self.scores(x)
        p = np.exp(s - s.max())
        p /= p.sum()
        if rng is None:
            return int(np.argmax(s)), p
        return int(min(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right"), len(p) - 1)), p

    def grad_log_prob(self, x: np.ndarray, segments: np.ndarray, chosen: np.ndarray, weights: np.ndarray) -> dict[str, np.ndarray]:
        """Sum over decisions k of weights[k] * d log pi(chosen[k] | queue k) / d params, plus the entropy bonus.

        x: (n_rows, n_features), every decision's queue stacked; segments: (n_rows,) decision of each row;
        chosen: (n_decisions,) row index (into x) of each decision's choice; weights: (n_decisions,).
        """
        z = x @ self.w1 + self.b1  # (n_rows, hidden)
        h = np.tanh(z)
        s = h @ self.w2
        top = np.full(len(chosen), -np.inf)
        np.maximum.at(top, segments, s)
        e = np.exp(s - top[segments])
        p = e / np.bincount(segments, e, len(chosen))[segments]
        g = -p * weights[segments]  # d/ds of sum_k w_k log p_k(chosen)
        g[chosen] += weights
        if self.config.entropy:
            logp = np.log(np.maximum(p, 1e-300))
            mean_logp = np.bincount(segments, p * logp, len(chosen))[segments]
            g += self.config.entropy / len(chosen) * -p * (logp - mean_logp)  # d mean entropy / ds
        dz = (g[:, None] * self.w2[None, :]) * (1 - h * h)
        return {"w1": x.T @ dz, "b1": dz.sum(0), "w2": h.T @ g}

    def ascend(self, grads: dict[str, np.ndarray]) -> None:
        """One Adam step up the gradient."""
        self.steps += 1
        b1, b2, lr = 0.9, 0.999, self.config.lr
        for name, value in self.params().items():
            m = self.adam.setdefault("m_" + name, np.zeros_like(value))
            v = self.adam.setdefault("v_" + name, np.zeros_like(value))
            m[:] = b1 * m + (1 - b1) * grads[name]
            v[:] = b2 * v + (1 - b2) * grads[name] ** 2
            value += lr * (m / (1 - b1**self.steps)) / (np.sqrt(v / (1 - b2**self.steps)) + 1e-8)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **self.params(), hidden=self.config.hidden, features=np.array(FEATURES))

    @classmethod
    def load(cls, path: Path, config: DispatcherConfig | None = None) -> "Dispatcher":
        """The weights `save` wrote; a file that is not such weights is a ValueError naming it."""
        try:
            with np.load(path) as data:
                features = tuple(str(f) for f in data["features"])
                w1, b1, w2 = data["w1"].copy(), data["b1"].copy(), data["w2"].copy()
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{path}: not a dispatcher weights file ({exc})") from exc
        if features != FEATURES:
            raise ValueError(f"{path}: trained on features {list(features)}, this code builds {list(FEATURES)}")
        return cls(w1, b1, w2, config or DispatcherConfig(hidden=len(b1)))


@dataclass
class Decisions:
    """Decisions recorded for learning: each queue's features, stacked, and the row chosen."""

    rows: list[np.ndarray] = field(default_factory=list)  # each (queue_len, n_features)
    chosen: list[int] = field(default_factory=list)  # index within its queue
    times: list[float] = field(default_factory=list)

    def add(self, x: np.ndarray, chosen: int, time: float) -> None:
        self.rows.append(x)
        self.chosen.append(chosen)
        self.times.append(time)

    def stacked(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x (n_rows, n_features), segments (n_rows,), chosen rows (n_decisions,)."""
        sizes = np.array([len(r) for r in self.rows])
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        return np.concatenate(self.rows), np.repeat(np.arange(len(sizes)), sizes), starts + np.array(self.chosen)


def reinforce_step(policy: Dispatcher, decisions: list[Decisions], advantages: list[np.ndarray]) -> None:
    """One policy-gradient step from several rollouts: each decision's log-probability weighted by its advantage."""
    xs, segs, chosen, weights, offset, rows = [], [], [], [], 0, 0
    for d, adv in zip(decisions, advantages, strict=True):
        if not d.rows:
            continue
        x, seg, ch = d.stacked()
        xs.append(x), segs.append(seg + offset), chosen.append(ch + rows), weights.append(adv)
        offset, rows = offset + len(d.rows), rows + len(x)
    if not xs:
        return
    w = np.concatenate(weights)
    grads = policy.grad_log_prob(np.concatenate(xs), np.concatenate(segs), np.concatenate(chosen), w / len(w))
    policy.ascend(grads)


DISCOUNT_TIME = 5.0
"""The returns' discount time tau, in mean (planned) runtimes: the training's, the online loop's and the executor's."""


def discounted_misses(times: np.ndarray, miss_deadlines: np.ndarray, tau: float) -> np.ndarray:
    """The return of a decision at each time t: -sum over missed jobs with deadline d >= t of exp(-(d - t) / tau).

    A job misses at its deadline, so a decision is blamed for the misses still ahead of it, the nearer the
    more: what it chose can no longer save a job whose deadline has passed, and hardly matters to one due
    many runtimes later.
    """
    ahead = miss_deadlines[None, :] - times[:, None]  # (n_times, n_misses)
    return -np.where(ahead >= 0, np.exp(-np.maximum(ahead, 0) / tau), 0.0).sum(1)


@dataclass
class OnlineLearner:
    """Seed 003's online feedback loop: a policy that keeps learning from the decisions it really made.

    The caller records each decision (features, choice, time) and reports every deadline it saw missed.
    A decision is ripe once `horizon` discount times have passed after it (the misses that matter to it
    are known by then); every `batch` ripe decisions make one REINFORCE step. There are no parallel rollouts
    to compare with, as in training, so a decision's return is measured against what its situation predicts:
    a ridge regression of the returns on the queue's mean features (how busy, how late), refitted after every
    step with older steps forgotten. A plain running mean left the load's ups and downs in the advantages,
    and the policy drifted (docs/dispatch.md, the online loop).
    """

    policy: Dispatcher
    tau_s: float
    """Discount time of the return, in the caller's seconds."""
    batch: int = 32
    horizon: float = 3.0
    decisions: Decisions = field(default_factory=Decisions)
    misses: list[float] = field(default_factory=list)  # deadline of every miss seen, in the caller's seconds
    lr: float = 0.001
    """Adam's step size online: a fifth of the training's, as the advantages are noisier."""
    forget: float = 0.95
    """Each step, the baseline's older evidence counts this much less (it follows the last ~20 steps)."""
    gram: np.ndarray = field(default_factory=lambda: np.zeros((len(FEATURES) + 1, len(FEATURES) + 1)))  # (n_features + 1,)^2
    moments: np.ndarray = field(default_factory=lambda: np.zeros(len(FEATURES) + 1))  # (n_features + 1,)
    spread: float = 1.0
    updates: int = 0
    misses_seen: int = 0

    def __post_init__(self) -> None:
        self.policy.config = replace(self.policy.config, lr=self.lr)

    def record(self, x: np.ndarray, chosen: int, time: float) -> None:
        if len(x) > 1:  # a queue of one teaches nothing
            self.decisions.add(x, chosen, time)

    def missed(self, deadline: float) -> None:
        self.misses.append(deadline)
        self.misses_seen += 1

    def learn(self, now: float) -> bool:
        """One step if `batch` decisions are ripe at `now`; True if the policy changed."""
        times = np.array(self.decisions.times)
        ripe = int(np.searchsorted(times, now - self.horizon * self.tau_s, side="right"))
        if ripe < self.batch:
            return False
        done = Decisions(self.decisions.rows[:ripe], self.decisions.chosen[:ripe], self.decisions.times[:ripe])
        del self.decisions.rows[:ripe], self.decisions.chosen[:ripe], self.decisions.times[:ripe]
        returns = discounted_misses(times[:ripe], np.array(self.misses), self.tau_s)
        context = np.array([[1.0, *x.mean(0)] for x in done.rows])  # (ripe, n_features + 1)
        ridge = 1e-2 * np.eye(len(self.moments))  # features that never vary (no critical task yet) stay solvable
        advantages = returns - context @ np.linalg.solve(self.gram + ridge, self.moments)
        self.spread += 0.1 * (float(advantages.std()) + 1e-3 - self.spread)
        reinforce_step(self.policy, [done], [advantages / self.spread])
        self.gram = self.forget * self.gram + context.T @ context
        self.moments = self.forget * self.moments + context.T @ returns
        # misses older than every pending decision can no longer weigh on any return
        oldest = self.decisions.times[0] if self.decisions.times else now
        self.misses = [d for d in self.misses if d >= oldest]
        self.updates += 1
        return True
