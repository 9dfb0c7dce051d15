"""The physical energy model: how long a job runs on each server, what power it draws, and its energy.

Inputs follow the Hybrid ML Scheduler seed where it is specific and state an assumption where it is not:

- A job asks for `cores` = cpu% of a REF_CORES-core reference machine and `memory_gb` = memory% of
  REF_MEMORY_GB. Its base runtime (on the reference machine's cores, no GPU) is `duration_min` when
  given; else, from the seed's size and intensity, T = SIZE_SCALE_MIN x (size / 1000)^1.5 / (intensity
  + 0.5) (the seed says only "proportional"; the scale makes size 1000 at intensity 0.5 take 10 min);
  else DEFAULT_MIN_PER_CPU x cpu% (an assumption: busier jobs are longer).
- Runtime on a server: the base runtime x REF_CPU_RATE / cpu_rate, stretched by cores / server cores
  when the job asks for more cores than the server has. On a server with GPUs, a job with intensity I
  runs 1 + 3 x I times faster (the seed's speed-up) plus a transfer of its memory at PCIE_GB_PER_S.
- Power attributed to the job while it runs: its share f of the server's cores times the idle power,
  plus the dynamic range (P_peak - P_idle) x curve(f), where curve is linear (the seed) or the median
  SPECpower_ssj2008 shape (dataset_rl/power_curve.csv). A job alone on a server is charged the power
  the server draws because of it; a server's unallocated idle power is not charged to any job.
- energy_kwh = power_w x runtime_min / 60 / 1000.
- Execution modes (the Carbon-Aware Orchestrator seed's FAST and ECO workers): FAST is the job as above.
  ECO gives the job ECO.core_fraction of its cores at ECO.frequency of the clock (a power-capped,
  down-clocked worker). Runtime grows by 1 / (core_fraction x frequency); the job's core share shrinks
  by core_fraction, and its dynamic power by frequency^3 (the cube law of voltage-frequency scaling,
  P_dyn ~ f V^2 with V ~ f). Per job, ECO's idle-share energy rises by 1 / frequency and its dynamic
  energy falls by frequency^2, so it saves energy where the dynamic part dominates, and always draws
  less power, for longer.

What it leaves out, on purpose: GPUs draw no power of their own here (Server_L gives one P_idle and
P_peak per server, GPUs included), so a GPU job is charged by its core share and looks cheap on a GPU
server. And the charge is for a job *alone* on its server: with the concave SPECpower curve, jobs that
share a server would together be charged more than P_peak. The service places one job at a time and
uses this view; the simulator, where jobs do share servers, splits the power the server actually draws
at its utilisation (scheduler/sim/simulator.py).
"""

from dataclasses import dataclass

import numpy as np

from scheduler.core.fleet import Fleet
from scheduler.core.units import kwh

REF_CORES = 16.0
"""cpu = 100 % means all cores of a 16-core machine (the fleet's middle servers have 16)."""
REF_MEMORY_GB = 64.0
"""memory = 100 % means 64 GB."""
REF_CPU_RATE = 2.4
"""Core speed at which `duration_min` is measured (the middle server's cpu_rate)."""
SIZE_SCALE_MIN = 10.0
"""Minutes for a size-1000 job at intensity 0.5 (the seed's duration model has no scale)."""
DEFAULT_MIN_PER_CPU = 0.6
"""Base minutes per cpu% when a job gives neither duration_min nor size: 60 min at cpu = 100."""
GPU_SPEEDUP_PER_INTENSITY = 3.0
"""The seed: GPU speed-up = 1 + 3 x intensity."""
PCIE_GB_PER_S = 16.0
"""Host-to-GPU transfer bandwidth (PCIe 4.0 x8 order of magnitude) for the seed's transfer time."""
LINEAR_CURVE = np.linspace(0.0, 1.0, 11)


@dataclass(frozen=True)
class Mode:
    """An execution mode: the share of its cores a job gets and the relative clock speed."""

    name: str
    core_fraction: float
    frequency: float

    @property
    def slowdown(self) -> float:
        """Runtime in this mode / runtime in FAST."""
        return 1.0 / (self.core_fraction * self.frequency)


FAST = Mode("fast", 1.0, 1.0)
ECO = Mode("eco", 0.5, 0.8)
"""Half the cores at 80 % clock: 2.5x the runtime, about a third of the power (on the fleet's servers)."""
MODES: tuple[Mode, Mode] = (FAST, ECO)
"""Mode codes 0 and 1 index this tuple everywhere (records, simulator, API)."""


@dataclass(frozen=True)
class Machines:
    """Physical figures of the fleet's servers, in fleet order."""

    cores: np.ndarray  # (n_servers,)
    gpus: np.ndarray  # (n_servers,)
    cpu_rate: np.ndarray  # (n_servers,)
    gpu_rate: np.ndarray  # (n_servers,)
    p_idle_w: np.ndarray  # (n_servers,)
    p_peak_w: np.ndarray  # (n_servers,)
    curve: np.ndarray  # (11,) fraction of the dynamic power range drawn at utilisation 0, 0.1, .., 1

    def dynamic_fraction(self, utilisation: np.ndarray) -> np.ndarray:
        return np.interp(utilisation, np.linspace(0.0, 1.0, len(self.curve)), self.curve)


@dataclass(frozen=True)
class Work:
    """What each job asks for; (n_jobs,) arrays."""

    cores: np.ndarray
    base_min: np.ndarray  # runtime on REF_CPU_RATE cores, no GPU
    intensity: np.ndarray  # 0..1, share that parallelises onto a GPU; 0 runs on CPU only
    memory_gb: np.ndarray

    def __len__(self) -> int:
        return len(self.cores)


def build_machines(fleet: Fleet, curve: np.ndarray | None = None) -> Machines:
    curve = LINEAR_CURVE if curve is None else np.asarray(curve, dtype=np.float64)
    return Machines(fleet.cores, fleet.gpus, fleet.cpu_rate, fleet.gpu_rate, fleet.p_idle_w, fleet.p_peak_w, curve)


def job_work(
    cpu: np.ndarray,
    memory: np.ndarray,
    duration_min: np.ndarray | None = None,
    size: np.ndarray | None = None,
    intensity: np.ndarray | None = None,
) -> Work:
    """Work of each job from its cpu% and memory%; NaN in `duration_min` / `size` means "not given"."""
    cpu = np.asarray(cpu, dtype=np.float64)
    n = len(cpu)
    given_intensity = np.zeros(n) if intensity is None else np.nan_to_num(np.asarray(intensity, dtype=np.float64))
    base = DEFAULT_MIN_PER_CPU * np.maximum(cpu, 1.0)
    if size is not None:
        size = np.asarray(size, dtype=np.float64)
        from_size = SIZE_SCALE_MIN * (size / 1000.0) ** 1.5 / (given_intensity + 0.5)
        base = np.where(np.isnan(size), base, from_size)
    if duration_min is not None:
        duration_min = np.asarray(duration_min, dtype=np.float64)
        base = np.where(np.isnan(duration_min), base, duration_min)
    return Work(
        cores=np.maximum(cpu / 100.0 * REF_CORES, 1.0),  # every job needs at least one core
        base_min=base,
        intensity=given_intensity,
        memory_gb=np.asarray(memory, dtype=np.float64) / 100.0 * REF_MEMORY_GB,
    )


def runtime_min(m: Machines, w: Work) -> np.ndarray:
    """(n_jobs, n_servers) minutes the job runs on each server."""
    cpu_min = w.base_min[:, None] * (REF_CPU_RATE / m.cpu_rate) * np.maximum(w.cores[:, None] / m.cores, 1.0)
    has_gpu = (m.gpus > 0)[None, :] & (w.intensity > 0)[:, None]
    gpu_min = cpu_min / (1.0 + GPU_SPEEDUP_PER_INTENSITY * w.intensity[:, None]) + (w.memory_gb / PCIE_GB_PER_S / 60.0)[:, None]
    return np.where(has_gpu, gpu_min, cpu_min)


def core_share(m: Machines, w: Work) -> np.ndarray:
    """(n_jobs, n_servers) share of each server's cores the job occupies, 0..1."""
    return np.minimum(w.cores[:, None] / m.cores, 1.0)


def power_w(m: Machines, w: Work, mode: Mode = FAST) -> np.ndarray:
    """(n_jobs, n_servers) watts attributed to the job while it runs in `mode`."""
    share = core_share(m, w) * mode.core_fraction
    return share * m.p_idle_w + (m.p_peak_w - m.p_idle_w) * m.dynamic_fraction(share) * mode.frequency**3


def energy_kwh(m: Machines, w: Work, mode: Mode = FAST) -> np.ndarray:
    """(n_jobs, n_servers) kWh in `mode`: watts x minutes / 60 (-> Wh) / 1000 (-> kWh)."""
    return kwh(power_w(m, w, mode), runtime_min(m, w) * mode.slowdown)
