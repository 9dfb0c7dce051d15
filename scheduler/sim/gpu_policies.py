"""The GPU-fraction study's policies: each picks, for one task at a time, its GPU fraction and its GPU.

Every policy has `decide(i, cluster) -> (fraction, gpu)`, called as task i arrives with the cluster's queues
as they are, and `observe(i, completion_s)` once the task is placed. The oracle tries every fraction of
FRACTIONS on every GPU against the queues (scheduler/sim/gpu_cluster.py). hybrid_ml learns the oracle's
fractions; its forest (scikit-learn) is imported only when it first trains, so nothing loads scikit-learn
unless this policy runs.
"""

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from scheduler.sim.gpu_cluster import Cluster
from scheduler.sim.gpu_dqn import DqnPolicy, DqnTraining, pretrain
from scheduler.sim.gpu_workload import EXPERIMENTS, N_GPUS, POLICY_NAMES, GpuTasks

POLICIES = POLICY_NAMES
"""Every policy `make_policy` builds, in report order; the oracle runs first (its choices are hybrid_ml's labels)."""
RETRAIN_EVERY = 50
WINDOW = 1_000
FOREST = {"n_estimators": 10, "max_depth": 8, "min_samples_leaf": 5}
"""10 shallow trees, not scikit-learn's 100 deep ones: a 20,000-task run trains 399 forests at about 3 ms a
tree, and the study must finish in 60 s (bench gpu_fraction). More did not help in a trial run (load 1.0, seed
1: 20 trees of depth 10 reached 81.2 % of the oracle's time against 81.1 %): the labels depend on the queues,
which the five features do not show (docs/gpu-fraction.md)."""


class GpuPolicy(Protocol):
    name: str

    def decide(self, i: int, cluster: Cluster) -> tuple[float, int]: ...

    def observe(self, i: int, completion_s: float) -> None: ...


class _Fixed:
    """A policy whose choices do not depend on what it observes."""

    name = ""

    def observe(self, i: int, completion_s: float) -> None:
        pass


class Oracle(_Fixed):
    name = "oracle"

    def __init__(self, tasks: GpuTasks):
        self.a, self.t = tasks.arrival_s.tolist(), tasks.base_s.tolist()
        self.s, self.x = tasks.speedup.tolist(), tasks.transfer_s.tolist()
        self.waits = np.zeros((len(tasks), 2))
        """The queues each decision met (Cluster.waits): hybrid_ml_queues's features beside its labels."""

    def decide(self, i: int, cluster: Cluster) -> tuple[float, int]:
        self.waits[i] = cluster.waits(self.a[i])
        return cluster.best(self.a[i], self.t[i], self.s[i], self.x[i])


class Greedy(_Fixed):
    """The seed's heuristic: fraction = intensity, on the GPU that falls free first."""

    name = "greedy"

    def __init__(self, tasks: GpuTasks):
        self.intensity = tasks.intensity.tolist()

    def decide(self, i: int, cluster: Cluster) -> tuple[float, int]:
        return self.intensity[i], cluster.earliest_gpu()


class Random(_Fixed):
    """A uniform fraction on a uniform GPU, drawn up front from the policy's own stream."""

    name = "random"

    def __init__(self, tasks: GpuTasks, rng: np.random.Generator, n_gpus: int = N_GPUS):
        self.fraction = rng.uniform(0.0, 1.0, len(tasks)).tolist()
        self.gpu = rng.integers(0, n_gpus, len(tasks)).tolist()

    def decide(self, i: int, cluster: Cluster) -> tuple[float, int]:
        return self.fraction[i], self.gpu[i]


class RoundRobin(_Fixed):
    """Whole tasks in turn on the CPU, GPU 0, ..., GPU 3 (the seed's alternation, over all five devices)."""

    name = "round_robin"

    def __init__(self, n_gpus: int = N_GPUS):
        self.devices = n_gpus + 1

    def decide(self, i: int, cluster: Cluster) -> tuple[float, int]:
        device = i % self.devices
        return (0.0, 0) if device == 0 else (1.0, device - 1)


def default_forest(random_state: int) -> Any:
    from sklearn.ensemble import RandomForestRegressor  # lazily: the service loads it only if this runs

    return RandomForestRegressor(random_state=random_state, n_jobs=1, **FOREST)


class HybridML:
    """A random forest predicts the oracle's fraction from the task's five features; the task goes to the GPU
    that falls free first. Before task RETRAIN_EVERY it has no model and uses greedy's fraction. At every
    multiple t of RETRAIN_EVERY it trains a new forest on the oracle's fractions for tasks max(0, t - WINDOW)
    .. t - 1 (placed already, so their labels are known) and predicts the next RETRAIN_EVERY tasks at once:
    the model does not change between trainings, and one call is much cheaper than fifty."""

    name = "hybrid_ml"

    def __init__(self, tasks: GpuTasks, labels: np.ndarray, rng: np.random.Generator, make_model: Callable[[int], Any] = default_forest):
        self.features, self.labels = tasks.features(), np.asarray(labels, dtype=float)
        self.intensity = tasks.intensity
        self.seeds = rng.integers(0, 2**31 - 1, size=len(tasks) // RETRAIN_EVERY + 1)
        self.make_model = make_model
        self.planned: list[float] = []
        self.trainings: list[tuple[int, int, int]] = []
        """(task, first label, last label + 1) of every training, for the report and the tests."""

    def decide(self, i: int, cluster: Cluster) -> tuple[float, int]:
        if i % RETRAIN_EVERY == 0:
            self._plan(i)
        return self.planned[i % RETRAIN_EVERY], cluster.earliest_gpu()

    def _plan(self, i: int) -> None:
        upcoming = slice(i, i + RETRAIN_EVERY)
        if i == 0:
            self.planned = self.intensity[upcoming].tolist()
            return
        lo = max(0, i - WINDOW)
        model = self.make_model(int(self.seeds[i // RETRAIN_EVERY]))
        model.fit(self.features[lo:i], self.labels[lo:i])
        self.trainings.append((i, lo, i))
        self.planned = np.clip(model.predict(self.features[upcoming]), 0.0, 1.0).tolist()

    def observe(self, i: int, completion_s: float) -> None:
        pass


class HybridMLQueues(HybridML):
    """An experiment, not the seed's policy (run only when named): hybrid_ml with two more features, the CPU's
    and the first free GPU's wait at the task's arrival: as the oracle met them, beside its labels, for
    training, and as this policy meets them when it decides. It measures what the five task features miss
    (docs/gpu-fraction.md). Its features change with the queues, so it predicts task by task (about 1-2 ms
    each), not fifty at a time; it trains on the same schedule and labels as hybrid_ml."""

    name = "hybrid_ml_queues"

    def __init__(self, tasks: GpuTasks, labels: np.ndarray, oracle_waits: np.ndarray, rng: np.random.Generator, make_model=default_forest):
        super().__init__(tasks, labels, rng, make_model)
        self.train_features = np.hstack([self.features, oracle_waits])
        self.arrival = tasks.arrival_s.tolist()
        self.model: Any = None

    def decide(self, i: int, cluster: Cluster) -> tuple[float, int]:
        if i and i % RETRAIN_EVERY == 0:
            lo = max(0, i - WINDOW)
            self.model = self.make_model(int(self.seeds[i // RETRAIN_EVERY]))
            self.model.fit(self.train_features[lo:i], self.labels[lo:i])
            self.trainings.append((i, lo, i))
        if self.model is None:
            return float(self.intensity[i]), cluster.earliest_gpu()
        row = np.array([[*self.features[i], *cluster.waits(self.arrival[i])]])
        return float(np.clip(self.model.predict(row)[0], 0.0, 1.0)), cluster.earliest_gpu()


def make_policy(
    name: str,
    tasks: GpuTasks,
    rng: np.random.Generator | None,
    load: float,
    oracle_fractions: np.ndarray | None = None,
    dqn_episodes: int = DqnTraining.episodes,
    oracle_waits: np.ndarray | None = None,
) -> GpuPolicy:
    """The policy `name` for these tasks. random, hybrid_ml and dqn draw from `rng` (their own stream);
    hybrid_ml needs the oracle's fractions on the same tasks; dqn is pre-trained here on `dqn_episodes`
    episodes of tasks of its own at `load` (scheduler/sim/gpu_dqn.py)."""
    if name == "oracle":
        return Oracle(tasks)
    if name == "greedy":
        return Greedy(tasks)
    if name == "round_robin":
        return RoundRobin()
    if name not in POLICIES + EXPERIMENTS:
        raise ValueError(f"unknown policy {name!r}; known: {', '.join(POLICIES + EXPERIMENTS)}")
    if rng is None:
        raise ValueError(f"{name} draws: give it a generator")
    if name == "random":
        return Random(tasks, rng)
    if name == "dqn":
        return DqnPolicy(tasks, pretrain(load, rng, replace(DqnTraining(), episodes=dqn_episodes)))
    if oracle_fractions is None:
        raise ValueError(f"{name} learns from the oracle's fractions: run the oracle first")
    if name == "hybrid_ml_queues":
        if oracle_waits is None:
            raise ValueError("hybrid_ml_queues learns from the queues the oracle met: run the oracle first")
        return HybridMLQueues(tasks, oracle_fractions, oracle_waits, rng)
    return HybridML(tasks, oracle_fractions, rng)
