"""The GPU-fraction study's DQN (rl/dqn.py): its state, its actions, its episodes and its policy.

State (9 numbers, each near 0..1): the task's intensity, its base time (linear and log), its whole transfer
time, and how long the CPU and each GPU are busy past the task's arrival, in mean base times (capped at 5).
The task's own features alone cannot say when the CPU is the bottleneck; the queues can.
Action: one of FRACTION_BINS x GPUs (11 x 4): action a sends fraction FRACTION_BINS[a // 4] to GPU a % 4.
Reward: minus the task's completion time (waiting included) in mean base times: the study's time metric.
Episodes: pre-training draws its own tasks (the policy's stream, never the evaluated ones), EPISODE_TASKS at
a time on an empty cluster; the last task of an episode is a real terminal (nothing follows it), the others
bootstrap with gamma, so a choice pays for the queue it leaves to the next tasks. It is then evaluated
frozen (greedy, no learning) on the study's tasks.
"""

from dataclasses import dataclass

import numpy as np

from rl.dqn import DQNAgent, DQNConfig
from scheduler.sim.gpu_cluster import Cluster
from scheduler.sim.gpu_workload import BANDWIDTH_MB_S, DQN_EPISODE_TASKS, MEAN_BASE_S, MEMORY_MB_RANGE, N_GPUS, GpuTasks, draw_tasks

FRACTION_BINS = np.linspace(0.0, 1.0, 11)
STATE_DIM = 5 + N_GPUS
N_ACTIONS = len(FRACTION_BINS) * N_GPUS
MAX_BASE_S = 71.0
"""The largest base time (size 5,000, intensity 0): scales the linear base-time feature to 0..1."""
WAIT_CAP = 5.0


@dataclass(frozen=True)
class DqnTraining:
    """How the DQN is pre-trained; the defaults are the study's."""

    episodes: int = 60
    episode_tasks: int = DQN_EPISODE_TASKS
    config: DQNConfig = DQNConfig(
        hidden=(64, 64), gamma=0.9, learning_starts=1_000, train_frequency=4, target_network_frequency=250, exploration_steps=20_000
    )


def state(task: tuple[float, float, float, float], cluster: Cluster) -> np.ndarray:
    """The state of one task (arrival, intensity, base, transfer) arriving at the cluster as it is."""
    arrival, intensity, base, transfer = task
    waits = [cluster.cpu_free - arrival, *(cluster.gpu_free - arrival).tolist()]
    return np.array(
        [
            intensity,
            base / MAX_BASE_S,
            np.log1p(base) / np.log1p(MAX_BASE_S),
            transfer * BANDWIDTH_MB_S / MEMORY_MB_RANGE[1],
            *(min(max(w, 0.0) / MEAN_BASE_S, WAIT_CAP) for w in waits),
        ]
    )


def decode(action: int) -> tuple[float, int]:
    """An action's (fraction, GPU)."""
    return float(FRACTION_BINS[action // N_GPUS]), action % N_GPUS


def _rows(tasks: GpuTasks) -> list[tuple[float, float, float, float]]:
    return list(zip(*(v.tolist() for v in (tasks.arrival_s, tasks.intensity, tasks.base_s, tasks.transfer_s))))


def pretrain(load: float, rng: np.random.Generator, training: DqnTraining = DqnTraining()) -> DQNAgent:
    """A new agent trained on `training.episodes` episodes of tasks drawn from `rng` at `load`."""
    agent = DQNAgent(STATE_DIM, N_ACTIONS, training.config, seed=int(rng.integers(0, 2**31 - 1)))
    for _ in range(training.episodes):
        tasks = draw_tasks(training.episode_tasks, load, rng)
        rows, speedup, cluster = _rows(tasks), tasks.speedup.tolist(), Cluster()
        s = state(rows[0], cluster)
        for i, (arrival, _, base, transfer) in enumerate(rows):
            action = agent.act(s)
            f, g = decode(action)
            reward = -(cluster.run(arrival, base, speedup[i], transfer, f, g) - arrival) / MEAN_BASE_S
            last = i == len(rows) - 1
            s2 = s if last else state(rows[i + 1], cluster)  # a terminal's next state is never bootstrapped from
            agent.observe(s, action, reward, s2, last)
            s = s2
    return agent


class DqnPolicy:
    """A pre-trained agent, frozen: the greedy action of each task's state."""

    name = "dqn"

    def __init__(self, tasks: GpuTasks, agent: DQNAgent):
        self.rows, self.agent = _rows(tasks), agent

    def decide(self, i: int, cluster: Cluster) -> tuple[float, int]:
        return decode(self.agent.act(state(self.rows[i], cluster), greedy=True))

    def observe(self, i: int, completion_s: float) -> None:
        pass
