"""Read the reference inputs in `dataset_rl/` once, into typed numpy arrays.

The only module that touches pandas at run time. Every problem with a file (missing, unreadable, a
missing column, a non-numeric or empty value) raises `DatasetError` naming the file and the problem, so
start-up fails fast with a message an operator can act on.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SERVER_FILE = "Server_L.xlsx"
PRICE_FILE = "price.csv"
TASK_FILE = "task_15min_L.csv"
STEEL_FILE = "steel_industry_data.csv"

SERVER_COLUMNS = ("ID", "CPU", "GPU", "cpu_rate", "gpu_rate", "P_idle", "P_peak")
STEEL_TEXT_COLUMNS = ("Load_Type", "WeekStatus", "Day_of_week")


class DatasetError(RuntimeError):
    """A data file is missing or malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class ServerTable:
    """Rows of Server_L.xlsx in file order; power in watts."""

    ids: np.ndarray  # (n_servers,) int64
    cpu: np.ndarray  # (n_servers,) float64, cores
    gpu: np.ndarray  # (n_servers,) float64, devices
    cpu_rate: np.ndarray  # (n_servers,) float64
    gpu_rate: np.ndarray  # (n_servers,) float64
    p_idle_w: np.ndarray  # (n_servers,) float64
    p_peak_w: np.ndarray  # (n_servers,) float64


@dataclass(frozen=True)
class Datasets:
    """All reference inputs as arrays; built once per process and shared read-only."""

    servers: ServerTable
    plan_cpu: np.ndarray  # (n_tasks,) float64, task_15min_L.plan_cpu_i
    plan_mem: np.ndarray  # (n_tasks,) float64, task_15min_L.plan_mem_int
    price: np.ndarray  # (n_prices,) float64, price.price_1
    steel_usage_kwh: np.ndarray  # (n_steel,) float64
    steel_co2_t: np.ndarray  # (n_steel,) float64, CO2(tCO2)
    steel_nsm_s: np.ndarray  # (n_steel,) float64, seconds from midnight
    steel_load_type: np.ndarray  # (n_steel,) object (str)
    steel_week_status: np.ndarray  # (n_steel,) object (str)
    steel_day_of_week: np.ndarray  # (n_steel,) object (str)


def load_datasets(data_dir: Path) -> Datasets:
    """Read and check the four reference files in `data_dir`."""
    if not data_dir.is_dir():
        raise DatasetError(f"data directory {data_dir} does not exist")
    servers = _read(data_dir / SERVER_FILE, SERVER_COLUMNS, excel=True)
    tasks = _read(data_dir / TASK_FILE, ("plan_cpu_i", "plan_mem_int"))
    prices = _read(data_dir / PRICE_FILE, ("price_1",))
    steel = _read(data_dir / STEEL_FILE, ("Usage_kWh", "CO2(tCO2)", "NSM"), STEEL_TEXT_COLUMNS)
    table = ServerTable(
        ids=servers["ID"].astype(np.int64),
        cpu=servers["CPU"],
        gpu=servers["GPU"],
        cpu_rate=servers["cpu_rate"],
        gpu_rate=servers["gpu_rate"],
        p_idle_w=servers["P_idle"],
        p_peak_w=servers["P_peak"],
    )
    _check(SERVER_FILE, (table.cpu_rate > 0).all(), "cpu_rate must be > 0 for every server")
    _check(SERVER_FILE, (table.p_peak_w >= table.p_idle_w).all(), "P_peak must be >= P_idle")
    _check(SERVER_FILE, len(np.unique(table.ids)) == len(table.ids), "server IDs must be unique")
    _check(SERVER_FILE, len(table.ids) >= 3, "needs at least 3 servers (one per tier)")
    return Datasets(
        servers=table,
        plan_cpu=tasks["plan_cpu_i"],
        plan_mem=tasks["plan_mem_int"],
        price=prices["price_1"],
        steel_usage_kwh=steel["Usage_kWh"],
        steel_co2_t=steel["CO2(tCO2)"],
        steel_nsm_s=steel["NSM"],
        steel_load_type=steel["Load_Type"],
        steel_week_status=steel["WeekStatus"],
        steel_day_of_week=steel["Day_of_week"],
    )


def _read(
    path: Path, numeric: tuple[str, ...], text: tuple[str, ...] = (), excel: bool = False
) -> dict[str, np.ndarray]:
    """Columns of one file as arrays: `numeric` as finite float64, `text` as str objects."""
    if not path.is_file():
        raise DatasetError(f"{path.name}: file not found in {path.parent}")
    try:
        frame = pd.read_excel(path) if excel else pd.read_csv(path, encoding="utf-8-sig")
    except Exception as exc:  # pandas raises many types for unreadable files
        raise DatasetError(f"{path.name}: cannot be read ({type(exc).__name__}: {exc})") from exc
    missing = [c for c in (*numeric, *text) if c not in frame.columns]
    _check(path.name, not missing, f"missing column(s) {missing}; found {list(frame.columns)}")
    _check(path.name, len(frame) > 0, "has no data rows")
    columns: dict[str, np.ndarray] = {}
    for name in numeric:
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        # +2: one for the header line, one because people count rows from 1
        _check(path.name, bad.size == 0, f"column {name!r} has a missing or non-numeric value at row {bad[:1] + 2}")
        columns[name] = values
    for name in text:
        values = frame[name].astype(str).to_numpy(dtype=object)
        columns[name] = values
    return columns


def _check(file: str, ok: bool, problem: str) -> None:
    if not ok:
        raise DatasetError(f"{file}: {problem}")
