"""Workload builders: the task trace, the Hybrid ML seed's Poisson jobs, the GAIA traces, CSV files."""

import csv
from pathlib import Path

import numpy as np
import pytest

from scheduler.core.energy import REF_MEMORY_GB
from scheduler.core.errors import DatasetError
from scheduler.core.states import TIERS
from scheduler.data import workload_files, workloads
from scheduler.settings import ROOT

DATA = ROOT / "dataset_rl"
SHARED_GAIA = ROOT.parent / "shared" / "data" / "workloads" / "gaia"
needs_shared = pytest.mark.skipif(not SHARED_GAIA.is_dir(), reason=f"the full GAIA traces are not at {SHARED_GAIA} (../shared is absent)")


def test_task_trace_follows_the_file(world):
    wl = workloads.task_trace(DATA, 4500, world.fleet, np.random.default_rng(1), load=0.6)
    with (DATA / "task_15min_L.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(wl) == 4500
    for j in (0, 1999, 2000, 4499):  # rows cycle after the 2,000th
        row = rows[j % 2000]
        assert wl.cpu[j] == float(row["plan_cpu_i"]) and wl.memory[j] == float(row["plan_mem_int"])
        assert wl.tier[j] == workloads.TASK_TIERS[int(row["priority"])]
        assert wl.latency[j] == workloads.TASK_LATENCIES[row["task_type"]]
    assert (np.diff(wl.arrival_min) >= 0).all() and wl.arrival_min[0] == 0.0
    assert workloads.offered_load(wl, world.fleet).max() == pytest.approx(0.6)


def test_poisson_has_the_seed_attributes(world):
    wl = workloads.poisson(5000, world.fleet, np.random.default_rng(2))
    assert wl.size.min() >= 100 and wl.size.max() <= 5000
    assert wl.intensity.min() >= 0 and wl.intensity.max() <= 1
    memory_mb = wl.memory / 100.0 * REF_MEMORY_GB * 1024.0  # % of 64 GB -> MB
    assert memory_mb.min() >= 10 - 1e-9 and memory_mb.max() <= 500 + 1e-9
    assert np.isnan(wl.duration_min).all()  # runtime comes from size and intensity
    gaps = np.diff(wl.arrival_min)
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, abs=0.05)  # exponential gaps: coefficient of variation 1
    assert workloads.offered_load(wl, world.fleet).max() == pytest.approx(workloads.DEFAULT_LOAD)


def test_same_rng_same_workload(world):
    a = workloads.poisson(300, world.fleet, np.random.default_rng(3))
    b = workloads.poisson(300, world.fleet, np.random.default_rng(3))
    for name in ("arrival_min", "cpu", "memory", "size", "intensity", "tier", "latency"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_tiers_are_drawn_in_proportion_to_pool_capacity(world):
    tiers = workloads.draw_tiers(60_000, world.fleet, np.random.default_rng(4))
    capacity = workloads.pool_capacity(world.fleet)
    np.testing.assert_allclose(np.bincount(tiers) / len(tiers), capacity / capacity.sum(), atol=0.01)


@pytest.mark.parametrize("name", ["gaia-azure", "gaia-pai"])
def test_gaia_sample_keeps_real_times(world, name):
    wl = workloads.gaia(name, 1000, world.fleet, np.random.default_rng(5), DATA)
    path = DATA / "workloads" / f"{workloads.GAIA_TRACES[name]}-10k.csv"
    with path.open() as f:
        rows = list(csv.DictReader(f))[:1000]
    np.testing.assert_allclose(wl.arrival_min, [float(r["arrival_time"]) * 60.0 for r in rows])  # hours -> minutes
    np.testing.assert_allclose(wl.duration_min, [float(r["length"]) * 60.0 for r in rows])
    np.testing.assert_allclose(wl.cpu, [float(r["cpus"]) / 16.0 * 100.0 for r in rows])  # cpus -> % of 16 cores


def test_gaia_beyond_the_sample_needs_the_full_trace(world, tmp_path):
    with pytest.raises(DatasetError, match="20000 jobs asked for, the shipped sample has 10000"):
        workloads.gaia("gaia-azure", 20_000, world.fleet, np.random.default_rng(0), DATA, full_dir=tmp_path)


@needs_shared
@pytest.mark.parametrize("trace", ["azure", "pai"])
def test_shipped_samples_are_the_head_of_the_upstream_traces(trace):
    shipped = (DATA / "workloads" / f"{trace}-10k.csv").read_bytes().splitlines()
    upstream = (SHARED_GAIA / f"{trace}-100k.csv").read_bytes().splitlines()
    assert len(shipped) == workloads.GAIA_SAMPLE_ROWS + 1
    assert shipped == upstream[: len(shipped)]


@needs_shared
def test_gaia_full_trace_when_asked_for_more(world):
    wl = workloads.gaia("gaia-azure", 15_000, world.fleet, np.random.default_rng(6), DATA, SHARED_GAIA)
    assert len(wl) == 15_000 and (np.diff(wl.arrival_min) >= 0).all()


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_native_csv(world, tmp_path):
    path = write_csv(
        tmp_path / "mine.csv",
        ["arrival_min", "cpu", "memory", "priority", "latency", "duration_min"],
        [[0, 50, 10, "green", "low", 30], [5, 100, 20, "Performance", "high", ""]],
    )
    wl = workload_files.csv_workload(path, world.fleet, np.random.default_rng(0))
    assert wl.name == "mine" and wl.tier.tolist() == [0, 2] and wl.latency.tolist() == [0, 2]
    assert wl.duration_min[0] == 30 and np.isnan(wl.duration_min[1])


def test_gaia_format_csv(world, tmp_path):
    path = write_csv(tmp_path / "trace.csv", ["arrival_time", "length", "cpus"], [[0.0, 1.5, 4], [0.5, 2.0, 32]])
    wl = workload_files.csv_workload(path, world.fleet, np.random.default_rng(0), n_jobs=5)
    assert wl.arrival_min.tolist() == [0.0, 30.0] and wl.duration_min.tolist() == [90.0, 120.0] and wl.cpu.tolist() == [25.0, 200.0]


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        (
            ["arrival_min", "cpu", "memory", "priority"],
            [[0, 5, 5, "purple"]],
            "must be one of green, balanced, performance; got \\['purple'\\]",
        ),
        (
            ["arrival_min", "cpu", "memory", "priority"],
            [[5, 5, 5, "green"], [1, 5, 5, "green"]],
            "row 3: arrival_min is earlier than the row before",
        ),
        (["when", "cpu"], [[0, 5]], "needs the columns of a workload \\(arrival_min, cpu, memory, priority\\), GAIA's"),
        (["priority", "cpu", "memory"], [["green", 5, 5], ["green", 500, 5]], "read as a job CSV: row 3, cpu: "),
    ],
    ids=["bad-priority", "decreasing-arrivals", "unknown-columns", "bad-job-csv"],
)
def test_bad_csv_is_named(world, tmp_path, header, rows, message):
    path = write_csv(tmp_path / "bad.csv", header, rows)
    with pytest.raises(DatasetError, match=message):
        workload_files.csv_workload(path, world.fleet, np.random.default_rng(0))


NATIVE = ["arrival_min", "cpu", "memory", "priority", "duration_min", "size", "intensity"]
GOOD = [0, 50, 10, "green", 30, 200, 0.5]


def with_cell(column: str, value: object) -> list[object]:
    row = list(GOOD)
    row[NATIVE.index(column)] = value
    return row


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("cpu", 0, "> 0"),
        ("cpu", -5, "> 0"),
        ("memory", -1, ">= 0"),
        ("duration_min", 0, "> 0 or empty"),
        ("duration_min", -3, "> 0 or empty"),
        ("duration_min", "inf", "> 0 or empty"),
        ("duration_min", "nan", "a number or empty"),
        ("size", 0, "> 0 or empty"),
        ("intensity", 1.5, "in \\[0, 1\\] or empty"),
        ("intensity", -0.1, "in \\[0, 1\\] or empty"),
        ("arrival_min", -1, ">= 0"),
    ],
    ids=[
        "zero-cpu",
        "negative-cpu",
        "negative-memory",
        "zero-duration",
        "negative-duration",
        "infinite-duration",
        "nan-duration",
        "zero-size",
        "intensity-above-1",
        "negative-intensity",
        "negative-arrival",
    ],
)
def test_native_csv_physics_are_checked(world, tmp_path, column, value, rule):
    """One data row breaks one rule: the second (file row 3), or the first for a negative arrival, since
    arrivals must not decrease either."""
    first = column == "arrival_min"
    path = write_csv(tmp_path / "jobs.csv", NATIVE, [with_cell(column, value), GOOD] if first else [GOOD, with_cell(column, value)])
    bad_row = 2 if first else 3
    with pytest.raises(DatasetError, match=f"jobs.csv: row {bad_row}: {column} must be {rule}"):
        workload_files.csv_workload(path, world.fleet, np.random.default_rng(0))


@pytest.mark.parametrize(
    ("column", "row", "rule"),
    [
        ("length", [0.5, 0.0, 4], "> 0"),
        ("length", [0.5, -1.0, 4], "> 0"),
        ("cpus", [0.5, 1.0, 0], "> 0"),
        ("arrival_time", [-0.5, 1.0, 4], ">= 0"),
    ],
    ids=["zero-length", "negative-length", "zero-cpus", "negative-arrival"],
)
def test_gaia_csv_physics_are_checked(world, tmp_path, column, row, rule):
    rows = [row, [1.0, 1.0, 4]] if column == "arrival_time" else [[0.0, 1.0, 4], row]
    path = write_csv(tmp_path / "trace.csv", ["arrival_time", "length", "cpus"], rows)
    with pytest.raises(DatasetError, match=f"trace.csv: row {2 if column == 'arrival_time' else 3}: {column} must be {rule}"):
        workload_files.csv_workload(path, world.fleet, np.random.default_rng(0))


def test_empty_optional_cells_are_not_given(world, tmp_path):
    path = write_csv(tmp_path / "jobs.csv", NATIVE, [GOOD, with_cell("intensity", ""), with_cell("size", "")])
    wl = workload_files.csv_workload(path, world.fleet, np.random.default_rng(0))
    assert np.isnan(wl.intensity[1]) and np.isnan(wl.size[2]) and wl.memory.tolist() == [10.0] * 3


def test_load_must_be_positive(world):
    wl = workloads.poisson(10, world.fleet, np.random.default_rng(0))
    with pytest.raises(ValueError, match="got 0"):
        workloads.scale_to_load(wl, world.fleet, 0.0)


@pytest.mark.parametrize(
    "path",
    [ROOT / "frontend" / "static" / "sample_jobs.csv", DATA / "sample_100_jobs.csv", DATA / "demo_jobs.csv"],
    ids=["dashboard-sample", "reference-sample", "reference-demo"],
)
def test_a_job_csv_is_a_workload_with_drawn_arrivals(world, path):
    """The CSV a user has (the one /upload takes): its rows in order, arrivals drawn by the task trace's rule,
    and every column the simulator cannot read named in the notes."""
    rows = list(csv.DictReader(path.open()))
    wl = workload_files.csv_workload(path, world.fleet, np.random.default_rng(5), load=0.5)
    assert len(wl) == len(rows)
    assert wl.cpu.tolist() == [float(r["cpu"]) for r in rows] and wl.tier.tolist() == [TIERS.index(r["priority"]) for r in rows]
    assert wl.arrival_min[0] == 0.0 and (np.diff(wl.arrival_min) >= 0).all()
    assert workloads.offered_load(wl, world.fleet).max() == pytest.approx(0.5)
    unread = [c for c in rows[0] if c not in workload_files.SIMULATED]
    assert "arrival times" in wl.notes[0] and all(c in wl.notes[-1] for c in unread)
    again = workload_files.csv_workload(path, world.fleet, np.random.default_rng(5), load=0.5)
    np.testing.assert_array_equal(again.arrival_min, wl.arrival_min)  # one stream, one draw


def test_a_job_csvs_first_jobs_are_taken_before_the_arrivals_are_drawn(world):
    path = DATA / "sample_100_jobs.csv"
    wl = workload_files.csv_workload(path, world.fleet, np.random.default_rng(5), n_jobs=10, load=0.5)
    assert len(wl) == 10 and workloads.offered_load(wl, world.fleet).max() == pytest.approx(0.5)


def test_a_files_problems_come_in_row_order_whichever_check_found_them(world, tmp_path):
    """Row 3's intensity and row 4's cpu both break a rule: row 3 is named first (the cpu check used to run,
    and raise, before the intensity check looked), and both are named."""
    path = write_csv(tmp_path / "jobs.csv", NATIVE, [GOOD, with_cell("intensity", 1.5), with_cell("cpu", 0)])
    with pytest.raises(DatasetError, match=r"jobs.csv: row 3: intensity must be in \[0, 1\] or empty, got 1.5; row 4: cpu must be > 0"):
        workload_files.csv_workload(path, world.fleet, np.random.default_rng(0))
