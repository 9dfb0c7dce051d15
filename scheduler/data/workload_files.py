"""Workload files: `python -m scheduler evaluate --workload PATH.csv`. Three layouts, told apart by the header:

- **GAIA** (`arrival_time`, `length`, `cpus`; hours, cores): kept at their recorded arrival times, as the
  shipped GAIA samples are (scheduler/data/workloads.py).
- **Workload** (`arrival_min`, `cpu`, `memory`, `priority`; optional `latency`, `duration_min`, `size`,
  `intensity`): arrival minutes from the simulation start, non-decreasing.
- **Job CSV**, the file POST /upload takes (scheduler/core/job_csv.py: `priority`, `cpu`, `memory` and its
  optional columns; the dashboard's sample_jobs.csv and dataset_rl/sample_100_jobs.csv are two). It has no
  arrival times, so they are drawn by the task trace's rule: a unit-rate Poisson process from the run's
  workload stream, in row order, then stretched or squeezed so the busiest pool's offered load is `load`
  (--load, 0.7 by default). The simulator reads `priority`, `cpu`, `memory`, `latency` (drawn uniformly
  where empty), `duration_min`, `size` and `intensity`; it has no model for the other columns (`urgency`,
  `deadline`, `interruptible`, `power_w`, `estimated_kwh`, `co2_kg`, `job_id`: placement runs every job
  now on the physical model). Those given are named in the workload's notes, which results.json keeps
  and the CLI prints, rather than dropped unsaid.
"""

import csv
from pathlib import Path

import numpy as np

from scheduler.core.errors import DatasetError, JobValidationError
from scheduler.core.fleet import Fleet
from scheduler.core.job_csv import CSV_REQUIRED, parse_csv
from scheduler.core.states import LATENCIES, TIERS
from scheduler.data.datasets import read_columns
from scheduler.data.workloads import (
    DEFAULT_LOAD,
    RowChecks,
    Workload,
    gaia_columns,
    poisson_arrivals,
    scale_to_load,
    take,
)

GAIA_COLUMNS = ("arrival_time", "length", "cpus")
NATIVE_COLUMNS = ("arrival_min", "cpu", "memory", "priority")
"""Required columns of our own workload CSV; optional: latency, duration_min, size, intensity."""
SIMULATED = ("priority", "cpu", "memory", "cpu_util", "mem", "latency", "duration_min", "size", "intensity")
"""The job CSV columns the simulator reads; the others are named in the workload's notes."""
LAYOUTS = (
    f"a workload ({', '.join(NATIVE_COLUMNS)}), GAIA's ({', '.join(GAIA_COLUMNS)}), "
    f"or a job CSV ({', '.join(CSV_REQUIRED)}, ...; arrivals drawn)"
)


def csv_workload(path: Path, fleet: Fleet, rng: np.random.Generator, n_jobs: int | None = None, load: float = DEFAULT_LOAD) -> Workload:
    """The first `n_jobs` jobs of a workload file in any of the three layouts (module docstring)."""
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    with path.open(encoding="utf-8-sig", newline="") as f:
        header = [h.strip() for h in next(csv.reader(f), [])]
    if set(GAIA_COLUMNS) <= set(header):
        workload = gaia_columns(path, path.stem, fleet, rng)
    elif "arrival_min" in header:
        workload = _native_columns(path, header, fleet, rng)
    elif set(CSV_REQUIRED) <= _job_columns(header):
        return _job_file(path, header, fleet, rng, n_jobs, load)
    else:
        raise DatasetError(f"{path.name}: needs the columns of {LAYOUTS}; found {header}")
    return workload if n_jobs is None else take(workload, min(n_jobs, len(workload)))


def _job_columns(header: list[str]) -> set[str]:
    """The header's columns with the job CSV's aliases read as their fields."""
    aliases = {"cpu_util": "cpu", "mem": "memory"}
    return {aliases.get(h.lower(), h.lower()) for h in header}


def _job_file(path: Path, header: list[str], fleet: Fleet, rng: np.random.Generator, n_jobs: int | None, load: float) -> Workload:
    """A job CSV as a workload: its jobs in row order, arrivals drawn (module docstring)."""
    try:
        batch = parse_csv(path.read_bytes())
    except JobValidationError as exc:
        shown = "; ".join(
            f"row {e['row']}, {e['field']}: {e['message']}" if e.get("field") else f"row {e['row']}: {e['message']}" for e in exc.errors[:5]
        )
        more = f" (and {len(exc.errors) - 5} more)" if len(exc.errors) > 5 else ""
        raise DatasetError(f"{path.name}: not a workload ({LAYOUTS}); read as a job CSV: {shown}{more}") from None
    if n_jobs is not None:
        batch = batch.take(slice(0, n_jobs))
    n = len(batch)
    arrival = poisson_arrivals(n, rng)
    drawn = rng.integers(len(LATENCIES), size=n).astype(np.int8)  # drawn for every row, so a given latency moves no other draw
    workload = Workload(
        name=path.stem,
        arrival_min=arrival,
        cpu=batch.cpu,
        memory=batch.memory,
        duration_min=batch.duration_min,
        size=batch.size,
        intensity=batch.intensity,
        tier=batch.tier,
        latency=np.where(batch.latency >= 0, batch.latency, drawn).astype(np.int8),
        notes=_notes(path.name, header, load),
    )
    return scale_to_load(workload, fleet, load) if n > 1 else workload


def _notes(name: str, header: list[str], load: float) -> tuple[str, ...]:
    """What the results must say about a job CSV: its arrivals were drawn, and the columns it gave that the
    simulator has no model for."""
    drawn = f"{name}: a job CSV without arrival times; drawn as a Poisson process, the busiest pool's offered load {load:g}"
    unread = [h for h in header if h.lower() not in SIMULATED]
    if not unread:
        return (drawn,)
    return drawn, f"{name}: columns not simulated: {', '.join(unread)} (the simulator runs every job now, on the physical energy model)"


def _native_columns(path: Path, header: list[str], fleet: Fleet, rng: np.random.Generator) -> Workload:
    if not set(NATIVE_COLUMNS) <= set(header):
        raise DatasetError(f"{path.name}: needs the columns {', '.join(NATIVE_COLUMNS)} or arrival_time,length,cpus; found {header}")
    optional = tuple(c for c in ("duration_min", "size", "intensity") if c in header)
    text = ("priority",) + (("latency",) if "latency" in header else ())
    cols = read_columns(path, ("arrival_min", "cpu", "memory"), text)
    n = len(cols["cpu"])
    extra = _optional_numbers(path, optional, n)
    tier = _codes(path.name, "priority", cols["priority"], TIERS)
    latency = (
        _codes(path.name, "latency", cols["latency"], LATENCIES)
        if "latency" in cols
        else rng.integers(len(LATENCIES), size=n).astype(np.int8)
    )
    checks = RowChecks(path.name)
    checks.arrivals("arrival_min", cols["arrival_min"])
    checks.values("cpu", cols["cpu"], cols["cpu"] > 0, "> 0 (% of 16 cores)")
    checks.values("memory", cols["memory"], cols["memory"] >= 0, ">= 0 (% of 64 GB)")
    given = {name: ~np.isnan(values) for name, values in extra.items()}  # an empty cell is "not given"
    checks.values("duration_min", extra["duration_min"], ~given["duration_min"] | (extra["duration_min"] > 0), "> 0 or empty")
    checks.values("size", extra["size"], ~given["size"] | (extra["size"] > 0), "> 0 or empty")
    intensity = extra["intensity"]
    checks.values("intensity", intensity, ~given["intensity"] | ((intensity >= 0) & (intensity <= 1)), "in [0, 1] or empty")
    checks.done()
    return Workload(
        path.stem, cols["arrival_min"], cols["cpu"], cols["memory"], extra["duration_min"], extra["size"], extra["intensity"], tier, latency
    )


def _optional_numbers(path: Path, names: tuple[str, ...], n: int) -> dict[str, np.ndarray]:
    """Optional numeric columns; an empty cell is NaN ("not given")."""
    out = {name: np.full(n, np.nan) for name in ("duration_min", "size", "intensity")}
    if names:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
        for name in names:
            try:
                out[name] = np.array([float(r[name]) if r[name].strip() else np.nan for r in rows])
            except ValueError as exc:
                raise DatasetError(f"{path.name}: column {name!r}: {exc}") from exc
            spelled = np.flatnonzero(np.isnan(out[name]) & np.array([bool(r[name].strip()) for r in rows], dtype=bool))
            if spelled.size:  # "nan" written out is not an empty cell: say which row
                raise DatasetError(f"{path.name}: row {spelled[0] + 2}: {name} must be a number or empty, got {rows[spelled[0]][name]!r}")
    return out


def _codes(file: str, column: str, values: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    lowered = np.char.lower(np.char.strip(values.astype(str)))
    bad = sorted(set(lowered.tolist()) - set(names))
    if bad:
        raise DatasetError(f"{file}: column {column!r} must be one of {', '.join(names)}; got {bad[:5]}")
    return np.array([names.index(v) for v in lowered.tolist()], np.int8)
