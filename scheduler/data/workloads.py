"""Workloads for the simulator: when each job arrives, what it asks for, its tier and latency class.

Four sources, one shape (`Workload`, arrays in arrival order):

- `task_trace`: the reference task trace (dataset_rl/task_15min_L.csv), one job per row, cycling when
  more jobs are asked for than it has. cpu/memory are plan_cpu_i/plan_mem_int; the base runtime is the
  energy model's default (energy.DEFAULT_MIN_PER_CPU x cpu%). The trace has no timestamps, so arrivals
  are a Poisson process scaled to an offered load (`scale_to_load`). Tier from `priority` (TASK_TIERS),
  latency class from `task_type` (TASK_LATENCIES).
- `poisson`: the Hybrid ML seed's jobs: size U(100, 5000), intensity U(0, 1), memory U(10, 500) MB,
  exponential inter-arrival times scaled to an offered load. The seed gives no core count; we take
  1 + floor(15 x intensity) cores (parallel work spreads over more cores), an assumption.
- `gaia`: the GAIA cluster traces (Azure, Alibaba PAI: arrival_time and length in hours, cpus), kept
  at their real arrival times. They give no memory: we assume 4 GB per core (the reference machine's
  ratio), so memory% = cpu%. Jobs asking for more than 16 cores have cpu% > 100.
- files (`scheduler/data/workload_files.py`): GAIA's columns, our own (arrival_min, cpu, memory,
  priority, ...), or a job CSV as POST /upload takes it, with arrivals drawn as the task trace's are.

Tiers and latency classes that a source does not give are drawn from the rng: tiers with probability
proportional to each pool's capacity (sum of cores x cpu_rate), so a pool's share of work matches its
share of the fleet and one load figure describes all three; latency classes uniformly.
"""

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from scheduler.core.energy import REF_CORES, REF_CPU_RATE, REF_MEMORY_GB, Work, job_work
from scheduler.core.errors import DatasetError
from scheduler.core.fleet import Fleet
from scheduler.core.states import LATENCIES, TIERS
from scheduler.data.datasets import TASK_FILE, read_columns

DEFAULT_LOAD = 0.7
"""Offered load of the busiest pool for generated arrivals (task trace, Poisson)."""

WORKLOAD_DIR = "workloads"
"""Folder of dataset_rl holding the shipped GAIA samples."""
GAIA_TRACES = {"gaia-azure": "azure", "gaia-pai": "pai"}
"""Workload name -> trace name; the sample is `<trace>-10k.csv`, the full trace `<trace>-100k.csv`."""
GAIA_SAMPLE_ROWS = 10_000
TASK_TIERS = (0, 1, 1, *(2,) * 7)
"""Tier of task-trace priority 0..9: 0 -> green, 1-2 -> balanced, 3-9 -> performance (about 10/20/70 %
of the trace, close to the pools' 4/21/75 % shares of capacity)."""
TASK_LATENCIES = {"service": 0, "daemon": 1, "batch": 2}
"""task_type -> latency class: services need low latency, batch jobs tolerate high."""
POISSON_SIZE = (100.0, 5000.0)
POISSON_MEMORY_MB = (10.0, 500.0)


@dataclass(frozen=True)
class Workload:
    """Jobs in arrival order; NaN marks a field a source does not give (see energy.job_work)."""

    name: str
    arrival_min: np.ndarray  # (n,) float64, non-decreasing, minutes from the simulation start
    cpu: np.ndarray  # (n,) % of the 16-core reference machine (> 100 for bigger jobs)
    memory: np.ndarray  # (n,) % of 64 GB
    duration_min: np.ndarray  # (n,) runtime on the reference machine, NaN when not given
    size: np.ndarray  # (n,) the Hybrid ML seed's problem size, NaN when not given
    intensity: np.ndarray  # (n,) 0..1 share a GPU speeds up, NaN when not given
    tier: np.ndarray  # (n,) int8 index into TIERS
    latency: np.ndarray  # (n,) int8 index into LATENCIES
    notes: tuple[str, ...] = ()
    """What a reader of the results must know about the source (a job file's columns the simulator does not read)."""

    def __len__(self) -> int:
        return len(self.arrival_min)

    def work(self) -> Work:
        return job_work(self.cpu, self.memory, self.duration_min, self.size, self.intensity)


def pool_capacity(fleet: Fleet) -> np.ndarray:
    """(3,) sum of cores x cpu_rate over each tier pool: work per minute in reference-core-minutes x 2.4."""
    return np.array([float((fleet.cores[p] * fleet.cpu_rate[p]).sum()) for p in fleet.pools])


def offered_load(workload: Workload, fleet: Fleet, span_min: float | None = None) -> np.ndarray:
    """(3,) work asked of each pool over `span_min` (default: the arrival span) / its capacity.

    Work counts cores x base runtime at the reference core speed; GPU speed-ups are ignored, so this
    overstates the load of GPU-friendly jobs. Above 1, a pool's queues grow without bound."""
    work = workload.work()
    demand = np.bincount(workload.tier, weights=work.cores * work.base_min * REF_CPU_RATE, minlength=len(TIERS))
    span = span_min if span_min is not None else float(workload.arrival_min[-1] - workload.arrival_min[0])
    return demand / (max(span, 1e-9) * pool_capacity(fleet))


def scale_to_load(workload: Workload, fleet: Fleet, load: float) -> Workload:
    """Stretch or squeeze the arrival times so the busiest pool's offered load is `load`."""
    if not load > 0:
        raise ValueError(f"load must be > 0, got {load}")
    span = float(workload.arrival_min[-1] - workload.arrival_min[0])
    current = offered_load(workload, fleet, span).max()
    return replace(workload, arrival_min=workload.arrival_min * (current / load))


def draw_tiers(n: int, fleet: Fleet, rng: np.random.Generator) -> np.ndarray:
    """(n,) int8 tiers with probability proportional to pool capacity."""
    capacity = pool_capacity(fleet)
    return rng.choice(len(TIERS), size=n, p=capacity / capacity.sum()).astype(np.int8)


def poisson_arrivals(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) arrival minutes of a unit-rate Poisson process starting at 0 (scale it afterwards)."""
    gaps = rng.exponential(1.0, size=n)
    gaps[0] = 0.0
    return np.cumsum(gaps)


def task_trace(data_dir: Path, n_jobs: int, fleet: Fleet, rng: np.random.Generator, load: float = DEFAULT_LOAD) -> Workload:
    """The reference task trace as n_jobs jobs (rows cycle), Poisson arrivals at offered `load`."""
    cols = read_columns(data_dir / TASK_FILE, ("plan_cpu_i", "plan_mem_int", "priority"), ("task_type",))
    rows = np.arange(n_jobs) % len(cols["priority"])
    priority = cols["priority"].astype(np.int64)
    if ((priority < 0) | (priority >= len(TASK_TIERS))).any():
        raise DatasetError(f"{TASK_FILE}: priority must be 0..{len(TASK_TIERS) - 1}, got {sorted(set(priority.tolist()))}")
    unknown = sorted(set(cols["task_type"].tolist()) - set(TASK_LATENCIES))
    if unknown:
        raise DatasetError(f"{TASK_FILE}: unknown task_type {unknown}; known: {', '.join(TASK_LATENCIES)}")
    nan = np.full(n_jobs, np.nan)
    workload = Workload(
        name="task",
        arrival_min=poisson_arrivals(n_jobs, rng),
        cpu=cols["plan_cpu_i"][rows],
        memory=cols["plan_mem_int"][rows],
        duration_min=nan,
        size=nan,
        intensity=nan,
        tier=np.asarray(TASK_TIERS, np.int8)[priority[rows]],
        latency=np.array([TASK_LATENCIES[t] for t in cols["task_type"]], np.int8)[rows],
    )
    return scale_to_load(workload, fleet, load)


def poisson(n_jobs: int, fleet: Fleet, rng: np.random.Generator, load: float = DEFAULT_LOAD) -> Workload:
    """The Hybrid ML seed's synthetic jobs, arriving as a Poisson process at offered `load`."""
    arrival = poisson_arrivals(n_jobs, rng)
    size = rng.uniform(*POISSON_SIZE, size=n_jobs)
    intensity = rng.uniform(0.0, 1.0, size=n_jobs)
    memory_mb = rng.uniform(*POISSON_MEMORY_MB, size=n_jobs)
    cores = 1.0 + np.floor(15.0 * intensity)
    workload = Workload(
        name="poisson",
        arrival_min=arrival,
        cpu=cores / REF_CORES * 100.0,
        memory=memory_mb / 1024.0 / REF_MEMORY_GB * 100.0,
        duration_min=np.full(n_jobs, np.nan),
        size=size,
        intensity=intensity,
        tier=draw_tiers(n_jobs, fleet, rng),
        latency=rng.integers(len(LATENCIES), size=n_jobs).astype(np.int8),
    )
    return scale_to_load(workload, fleet, load)


def gaia(name: str, n_jobs: int, fleet: Fleet, rng: np.random.Generator, data_dir: Path, full_dir: Path | None = None) -> Workload:
    """The first n_jobs jobs of a GAIA trace: the shipped 10,000-row sample, or the full trace in
    `full_dir` (../shared/data/workloads/gaia) when more are asked for and it is there."""
    if name not in GAIA_TRACES:
        raise ValueError(f"unknown GAIA trace {name!r}; known: {', '.join(GAIA_TRACES)}")
    trace = GAIA_TRACES[name]
    path = data_dir / WORKLOAD_DIR / f"{trace}-10k.csv"
    if n_jobs > GAIA_SAMPLE_ROWS:
        full = None if full_dir is None else full_dir / f"{trace}-100k.csv"
        if full is None or not full.is_file():
            raise DatasetError(
                f"{name}: {n_jobs} jobs asked for, the shipped sample has {GAIA_SAMPLE_ROWS}; the full trace {full} is not there"
            )
        path = full
    workload = gaia_columns(path, name, fleet, rng)
    if n_jobs > len(workload):
        raise DatasetError(f"{path.name}: {n_jobs} jobs asked for, the trace has {len(workload)}")
    return take(workload, n_jobs)


def gaia_columns(path: Path, name: str, fleet: Fleet, rng: np.random.Generator) -> Workload:
    cols = read_columns(path, ("arrival_time", "length", "cpus"))
    n = len(cols["cpus"])
    checks = RowChecks(path.name)
    checks.arrivals("arrival_time", cols["arrival_time"])
    checks.values("length", cols["length"], cols["length"] > 0, "> 0 (hours)")
    checks.values("cpus", cols["cpus"], cols["cpus"] > 0, "> 0")
    checks.done()
    cpu = cols["cpus"] / REF_CORES * 100.0
    return Workload(
        name=name,
        arrival_min=cols["arrival_time"] * 60.0,
        cpu=cpu,
        memory=cpu.copy(),  # 4 GB per core, the reference machine's ratio
        duration_min=cols["length"] * 60.0,
        size=np.full(n, np.nan),
        intensity=np.full(n, np.nan),
        tier=draw_tiers(n, fleet, rng),
        latency=rng.integers(len(LATENCIES), size=n).astype(np.int8),
    )


class RowChecks:
    """A workload file's checks, run together: each reports the first row (counted from 1, header
    included) that fails it, and `done` raises one DatasetError listing them in row order, whichever check
    found each, so the file's first problem comes first. NaN and infinity fail every rule that does not
    let them through explicitly."""

    SHOWN = 5

    def __init__(self, file: str):
        self.file = file
        self.found: list[tuple[int, str]] = []

    def values(self, column: str, values: np.ndarray, ok: np.ndarray, rule: str) -> None:
        bad = np.flatnonzero(~ok | np.isinf(values))
        if bad.size:
            self.found.append((int(bad[0]) + 2, f"{column} must be {rule}, got {values[bad[0]]}"))

    def arrivals(self, column: str, arrival: np.ndarray) -> None:
        earlier = np.flatnonzero(np.diff(arrival) < 0)
        if earlier.size:
            self.found.append((int(earlier[0]) + 3, f"{column} is earlier than the row before (arrival times must not decrease)"))
        self.values(column, arrival, arrival >= 0, ">= 0")

    def done(self) -> None:
        if self.found:
            shown = sorted(self.found)[: self.SHOWN]
            more = f"; and {len(self.found) - self.SHOWN} more" if len(self.found) > self.SHOWN else ""
            raise DatasetError(f"{self.file}: " + "; ".join(f"row {row}: {text}" for row, text in shown) + more)


def take(workload: Workload, n_jobs: int) -> Workload:
    """The first n_jobs jobs."""
    fields = ("arrival_min", "cpu", "memory", "duration_min", "size", "intensity", "tier", "latency")
    return replace(workload, **{f: getattr(workload, f)[:n_jobs] for f in fields})
