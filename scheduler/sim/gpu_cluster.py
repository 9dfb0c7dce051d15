"""One CPU and four GPUs, each with a queue, and the split model of the GPU-fraction study.

A task sent with GPU fraction f to GPU g has two parts that run in parallel: (1 - f) of its base time on the
CPU, and f of it, sped up 1 + 3I times, on GPU g. Each part waits for its own device (first come, first
served in arrival order) and holds only that device. When both are done, the GPU part's data comes back:
f x M / bandwidth seconds that hold no device (each GPU has its own link). So on an idle cluster

    time(f) = max((1 - f) T, f T / S) + f M / B

which falls while the CPU part is the slower one and rises once the GPU part is: the best fraction is
inside 0..1 for every task whose transfer is shorter than its base time. The seed's model is linear in f,
((1 - f) T + f (T / S + M / B)), so its best fraction is always 0 or 1 (docs/gpu-fraction.md).
A part of zero length uses no device: f = 0 never touches a GPU, f = 1 never the CPU.
"""

import numpy as np

from scheduler.sim.gpu_workload import CPU_USD_H, CPU_W, GPU_USD_H, GPU_W, N_GPUS, GpuTasks

FRACTIONS = np.linspace(0.0, 1.0, 21)
"""The oracle's fractions: 0 %, 5 %, ..., 100 % (the seed's steps)."""


def idle_time(base_s: float, speedup: float, transfer_s: float, fraction: float) -> float:
    """A task's time on an idle cluster with GPU fraction `fraction` (the formula in the docstring)."""
    return max((1.0 - fraction) * base_s, fraction * base_s / speedup) + fraction * transfer_s


def energy_j(tasks: GpuTasks, fraction: np.ndarray) -> np.ndarray:
    """Each task's energy: the CPU's power over its part, the GPU's over its part (transfers cost none)."""
    base = tasks.base_s
    return CPU_W * (1.0 - fraction) * base + GPU_W * fraction * base / tasks.speedup


def cost_usd(tasks: GpuTasks, fraction: np.ndarray) -> np.ndarray:
    """Each task's price: each device's hours of work at its hourly price."""
    base = tasks.base_s
    return (CPU_USD_H * (1.0 - fraction) * base + GPU_USD_H * fraction * base / tasks.speedup) / 3600.0


class Cluster:
    """The devices' queues: when the CPU and each GPU next fall free. Tasks are placed in arrival order."""

    def __init__(self, n_gpus: int = N_GPUS):
        self.cpu_free = 0.0
        self.gpu_free = np.zeros(n_gpus)

    def run(self, arrival: float, base_s: float, speedup: float, transfer_s: float, fraction: float, gpu: int) -> float:
        """Queue the task's parts, hold the devices, and return its finish time."""
        cpu_end = gpu_end = arrival
        if fraction < 1.0:
            cpu_end = max(arrival, self.cpu_free) + (1.0 - fraction) * base_s
            self.cpu_free = cpu_end
        if fraction > 0.0:
            gpu_end = max(arrival, float(self.gpu_free[gpu])) + fraction * base_s / speedup
            self.gpu_free[gpu] = gpu_end
        return max(cpu_end, gpu_end) + fraction * transfer_s

    def finishes(self, arrival: float, base_s: float, speedup: float, transfer_s: float, fractions: np.ndarray) -> np.ndarray:
        """The finish time of every (fraction, GPU) pair on the cluster as it is now, shape (fractions, GPUs):
        the same rule as `run`, for all pairs at once."""
        cpu_end = np.where(fractions < 1.0, max(arrival, self.cpu_free) + (1.0 - fractions) * base_s, arrival)
        gpu_start = np.maximum(arrival, self.gpu_free)
        gpu_end = np.where(fractions[:, None] > 0.0, gpu_start[None, :] + (fractions * base_s / speedup)[:, None], arrival)
        return np.maximum(cpu_end[:, None], gpu_end) + (fractions * transfer_s)[:, None]

    def best(self, arrival: float, base_s: float, speedup: float, transfer_s: float) -> tuple[float, int]:
        """The oracle's choice: the (fraction, GPU) of FRACTIONS x GPUs with the earliest finish given the
        queues; ties go to the lower fraction, then the lower GPU (argmin takes the first)."""
        finish = self.finishes(arrival, base_s, speedup, transfer_s, FRACTIONS)
        k = int(np.argmin(finish))
        f, g = divmod(k, finish.shape[1])
        return float(FRACTIONS[f]), g

    def waits(self, arrival: float) -> tuple[float, float]:
        """How long the CPU and the first GPU to fall free are still busy past `arrival` (0 when free)."""
        return max(self.cpu_free - arrival, 0.0), max(float(self.gpu_free.min()) - arrival, 0.0)

    def earliest_gpu(self) -> int:
        """The GPU that falls free first (the lowest index on a tie): where a given fraction finishes soonest."""
        return int(np.argmin(self.gpu_free))
