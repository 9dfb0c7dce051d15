"""The GPU-fraction study's tasks and physics (the Hybrid ML seed's cluster, docs/gpu-fraction.md).

A task has a size N (100-5,000 units), a compute intensity I (0-1) and a memory M (10-500 MB), and arrives
by a Poisson process. Its base time (on the CPU alone) is SECONDS_PER_UNIT x N^1.5 / (I + 0.5); a GPU runs
it 1 + 3I times faster; moving the GPU's share of its data costs that share of M / BANDWIDTH_MB_S. Power is
30 W on the CPU and 50 W on a GPU while they work. The seed gives these shapes and only says "proportional
to" for the base time: the two scales below are ours, chosen so the transfer matters for small tasks and
not for large ones (so the right fraction depends on the task), and written here once.
"""

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

SIZE_RANGE = (100.0, 5_000.0)
MEMORY_MB_RANGE = (10.0, 500.0)
SECONDS_PER_UNIT = 1e-4
"""Base time of a task of size N and intensity I: SECONDS_PER_UNIT x N^1.5 / (I + 0.5) seconds, so 0.07 s
to 71 s, 15.9 s on average (MEAN_BASE_S)."""
BANDWIDTH_MB_S = 100.0
"""Host-GPU bandwidth: a GPU part's data takes fraction x M / 100 s to move (0 to 5 s). Slower than a bare
PCIe link on purpose (the seed's "PCIe bottleneck"): it stands for the copy, the serialisation and the
launch, and it makes small, memory-heavy tasks better left on the CPU."""
CPU_W, GPU_W = 30.0, 50.0
"""Power while a device works on a task's part (the seed's figures); idle power is not counted."""
CPU_USD_H, GPU_USD_H = 0.40, 2.50
"""Price of an hour of each device's work (ours: typical on-demand prices of a CPU and a GPU instance)."""
N_GPUS = 4

# E[N^1.5] for N uniform on SIZE_RANGE, times E[1 / (I + 0.5)] = ln 3 for I uniform on 0..1.
_LO, _HI = SIZE_RANGE
MEAN_BASE_S = SECONDS_PER_UNIT * (_HI**2.5 - _LO**2.5) / (2.5 * (_HI - _LO)) * float(np.log(3.0))
POLICY_NAMES: tuple[str, ...] = ("oracle", "hybrid_ml", "dqn", "greedy", "random", "round_robin")
"""Every policy of the study, in report order (scheduler/sim/gpu_policies.py builds them)."""
EXPERIMENTS: tuple[str, ...] = ("hybrid_ml_queues",)
"""Policies run only when named (never by "all"): hybrid_ml with the queues as two more features, the
experiment docs/gpu-fraction.md uses to show what the seed's five features miss."""
MAX_TASKS = 200_000
MAX_SEEDS = 30
DQN_EPISODE_TASKS = 500
"""Tasks in one of the DQN's pre-training episodes (scheduler/sim/gpu_dqn.py)."""


class GpuFractionConfig(BaseModel):
    """What the study may be asked for (the CLI's flags; the Compare tab could take it as a body)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    study: Literal["gpu-fraction"] = "gpu-fraction"
    """Names the study in a POST /simulate body and in a run's view."""
    tasks: int = Field(20_000, ge=100, le=MAX_TASKS, strict=True)
    seed: int = Field(1, ge=0, le=2**63 - 1, strict=True)
    seeds: int = Field(1, ge=1, le=MAX_SEEDS, strict=True)
    """Runs with seeds seed, seed + 1, ...: the table gives their means and 95 % confidence intervals."""
    load: float = Field(1.0, gt=0, le=4, strict=True)
    """Offered work as a share of what the CPU alone could do: arrivals per second = load / MEAN_BASE_S.
    At 1.0 a CPU-only scheduler saturates; every policy that sends work to the GPUs keeps up."""
    policies: tuple[str, ...] = POLICY_NAMES
    """A subset of POLICY_NAMES ("all" or a comma list are read too); the oracle always runs, first."""
    warmup: int = Field(1_000, ge=0, le=MAX_TASKS - 1, strict=True)
    """Tasks left out of the after-warm-up figures (hybrid_ml's first training window)."""
    dqn_episodes: int = Field(60, ge=1, le=1_000, strict=True)
    """The DQN's pre-training: episodes of DQN_EPISODE_TASKS tasks of its own, per seed (scheduler/sim/gpu_dqn.py)."""

    def dqn_training_tasks(self) -> int:
        """Tasks the DQN's pre-training runs over the whole study (0 without the DQN): it is trained anew for each seed."""
        return self.dqn_episodes * DQN_EPISODE_TASKS * self.seeds if "dqn" in self.policies else 0

    @field_validator("warmup")
    @classmethod
    def _warmup_below_tasks(cls, warmup: int, info: ValidationInfo) -> int:
        tasks = info.data.get("tasks")
        if tasks is not None and warmup >= tasks:
            raise ValueError(f"must be below tasks ({tasks}): the figures after the warm-up need tasks; got {warmup}")
        return warmup

    @field_validator("policies", mode="before")
    @classmethod
    def _known_policies(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = POLICY_NAMES if value.strip() == "all" else tuple(p.strip() for p in value.split(",") if p.strip())
        if isinstance(value, list | tuple):
            known = POLICY_NAMES + EXPERIMENTS
            unknown = [p for p in value if p not in known]
            if unknown:
                raise ValueError(f"unknown policies {', '.join(map(str, unknown))}; known: {', '.join(known)}")
            if not value:
                raise ValueError("name at least one policy")
            return tuple(p for p in known if p in value or p == "oracle")
        return value


@dataclass(frozen=True)
class GpuTasks:
    """Tasks as arrays, in arrival order; derived physics computed once for every policy."""

    arrival_s: np.ndarray
    size: np.ndarray
    intensity: np.ndarray
    memory_mb: np.ndarray

    def __len__(self) -> int:
        return len(self.arrival_s)

    @property
    def base_s(self) -> np.ndarray:
        return SECONDS_PER_UNIT * self.size**1.5 / (self.intensity + 0.5)

    @property
    def speedup(self) -> np.ndarray:
        return 1.0 + 3.0 * self.intensity

    @property
    def transfer_s(self) -> np.ndarray:
        """Time to move the whole task's data; a split moves its GPU share of it."""
        return self.memory_mb / BANDWIDTH_MB_S

    def features(self) -> np.ndarray:
        """hybrid_ml's five features, one row per task: size, intensity, memory, memory per unit of size, and
        compute to memory (base seconds per MB: the ratio that decides whether moving the data pays)."""
        return np.column_stack([self.size, self.intensity, self.memory_mb, self.memory_mb / self.size, self.base_s / self.memory_mb])


def draw_tasks(n: int, load: float, rng: np.random.Generator) -> GpuTasks:
    """n tasks with uniform attributes and exponential gaps of mean MEAN_BASE_S / load (a Poisson process)."""
    gaps = rng.exponential(MEAN_BASE_S / load, n)
    size = rng.uniform(*SIZE_RANGE, n)
    intensity = rng.uniform(0.0, 1.0, n)
    memory = rng.uniform(*MEMORY_MB_RANGE, n)
    return GpuTasks(arrival_s=np.cumsum(gaps) - gaps[0], size=size, intensity=intensity, memory_mb=memory)
