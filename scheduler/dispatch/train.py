"""Training the learned dispatcher offline: REINFORCE with an input-dependent baseline, in the simulator.

Each iteration draws one instance of one training scenario and runs `rollouts` sampled episodes on it.
A decision's return is the discounted count of the deadline misses still ahead of it
(rl.dispatcher.discounted_misses); its baseline is the same quantity at the same time averaged over the
iteration's other rollouts, which met the very same jobs and failures (Decima's input-dependent baseline):
what remains is the effect of the decisions, not of the instance's luck. After every epoch the greedy
policy is scored on fixed validation instances: that miss rate per epoch is the learning curve.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from rl.dispatcher import DISCOUNT_TIME, Dispatcher, DispatcherConfig, discounted_misses, reinforce_step
from scheduler.dispatch.dispatchers import HEURISTICS, LearnedDispatcher, heuristic
from scheduler.dispatch.simulator import measure, simulate
from scheduler.dispatch.workload import Instance, WorkloadConfig, draw_instance

MAIN = WorkloadConfig(workers=4, load=0.9)
"""The study's workload: four workers, DAGs, failures, at a load where FIFO, priority and SJF all miss >= 10 %."""
SINGLE = WorkloadConfig(workers=1, workflows=20, max_tasks=1, edge_p=0.0, size_sigma=0.5, noise_sigma=0.0, flaky_share=0.0,
                        p_fail=0.0, load=0.5)  # fmt: skip
"""Where EDF is optimal among work-conserving dispatchers: one worker, single-job workflows (no dependencies), exact
runtimes, no failures; a third of these instances are feasible (EDF misses none)."""
TRAIN_MAIN = replace(MAIN, workflows=100)
"""The training instances are smaller than the study's (300 jobs against 450 on average): more steps per second."""


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 80
    iterations: int = 8
    """Policy-gradient steps per epoch."""
    rollouts: int = 8
    """Sampled episodes per step, all on the step's instance."""
    tau: float = DISCOUNT_TIME
    """Discount time of the return, in mean runtimes."""
    scenarios: tuple[WorkloadConfig, ...] = (TRAIN_MAIN, TRAIN_MAIN, TRAIN_MAIN, SINGLE)
    """Drawn uniformly per step: mostly the study's load, sometimes the single worker where EDF is optimal."""
    validation: int = 4
    """Instances of TRAIN_MAIN the greedy policy is scored on after each epoch."""
    policy: DispatcherConfig = field(default_factory=DispatcherConfig)


@dataclass
class Trained:
    policy: Dispatcher
    curve: list[dict[str, float]]  # per epoch: epoch, greedy miss rate on validation, sampled miss rate
    best_epoch: int
    """The epoch whose greedy policy missed least on validation: the policy returned (early stopping, as
    policy gradients wander; the study's instances are a different stream, so this choice does not flatter it)."""


def train(config: TrainConfig, seed: int, progress: Callable[[dict[str, float]], None] | None = None) -> Trained:
    """Deterministic per seed: every draw comes from streams spawned from one SeedSequence."""
    init_ss, draw_ss, act_ss, _ = np.random.SeedSequence(seed).spawn(4)
    policy = Dispatcher.fresh(np.random.default_rng(init_ss), config.policy)
    draws, acts = np.random.default_rng(draw_ss), np.random.default_rng(act_ss)
    validation = validation_set(seed, config.validation)
    curve = [_point(0, policy, validation, float("nan"))]
    best, best_epoch = copy.deepcopy(policy), 0
    if progress:
        progress(curve[-1])
    for epoch in range(1, config.epochs + 1):
        sampled = []
        for _ in range(config.iterations):
            scenario = config.scenarios[int(draws.integers(len(config.scenarios)))]
            instance = draw_instance(scenario, draws)
            sampled.append(_step(policy, instance, config, acts))
        curve.append(_point(epoch, policy, validation, float(np.mean(sampled))))
        if curve[-1]["miss_rate"] < curve[best_epoch]["miss_rate"]:
            best, best_epoch = copy.deepcopy(policy), epoch
        if progress:
            progress(curve[-1])
    return Trained(best, curve, best_epoch)


def _step(policy: Dispatcher, instance: Instance, config: TrainConfig, rng: np.random.Generator) -> float:
    """One REINFORCE step from `rollouts` episodes on one instance; their mean miss rate."""
    runs, misses = [], []
    for _ in range(config.rollouts):
        agent = LearnedDispatcher(policy, rng)
        run = simulate(instance, agent)
        missed = run.dead | (run.finish > instance.deadline + 1e-9)
        runs.append(agent.decisions)
        misses.append(instance.deadline[missed])
    advantages = []
    for k, decisions in enumerate(runs):
        t = np.array(decisions.times)
        own = discounted_misses(t, misses[k], config.tau)
        others = [discounted_misses(t, m, config.tau) for i, m in enumerate(misses) if i != k]
        advantages.append(own - np.mean(others, axis=0))
    spread = float(np.concatenate(advantages).std()) if any(len(a) for a in advantages) else 0.0
    reinforce_step(policy, runs, [a / (spread + 1e-8) for a in advantages])
    return float(np.mean([len(m) for m in misses]) / instance.n)


def _point(epoch: int, policy: Dispatcher, validation: list[Instance], sampled: float) -> dict[str, float]:
    rates = [measure(inst, simulate(inst, LearnedDispatcher(policy))).miss_rate for inst in validation]
    return {"epoch": epoch, "miss_rate": float(np.mean(rates)), "sampled_miss_rate": sampled}


def validation_set(seed: int, instances: int) -> list[Instance]:
    """The instances a training run of this seed scores its greedy policy on after each epoch."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(4)[3])
    return [draw_instance(TRAIN_MAIN, rng) for _ in range(instances)]


def heuristic_rates(seed: int, instances: int = TrainConfig.validation) -> dict[str, float]:
    """Each heuristic's miss rate on that validation set: the lines the learning curve is read against."""
    validation = validation_set(seed, instances)
    return {name: float(np.mean([measure(i, simulate(i, heuristic(name))).miss_rate for i in validation])) for name in HEURISTICS}
