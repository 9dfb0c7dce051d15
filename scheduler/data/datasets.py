"""Read the reference inputs in `dataset_rl/` once, into typed numpy arrays.

Every problem with a file (missing, unreadable, a missing column, a non-numeric or empty value) raises
`DatasetError` naming the file and the problem, so start-up fails fast with a message an operator can
act on. The files are small and plain, so the standard library reads them: importing pandas and
openpyxl alone took 0.5 s of a 1.0 s start-up budget and 35 MB of a 120 MB idle-memory budget.
"""

import csv
import hashlib
import logging
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from scheduler.core.errors import DatasetError
from scheduler.core.fleet import ServerTable

SERVER_FILE = "Server_L.xlsx"
PRICE_FILE = "price.csv"
TASK_FILE = "task_15min_L.csv"
STEEL_FILE = "steel_industry_data.csv"

SERVER_COLUMNS = ("ID", "CPU", "GPU", "cpu_rate", "gpu_rate", "P_idle", "P_peak")
STEEL_TEXT_COLUMNS = ("Load_Type", "WeekStatus", "Day_of_week")


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


def load_datasets(data_dir: Path, cache_dir: Path | None = None) -> Datasets:
    """Read and check the four reference files in `data_dir`.

    With `cache_dir`, each file's parsed columns are kept there as .npz, named by a hash of the file's
    bytes, so a later start-up skips parsing (0.2 s of the 1.0 s budget for the 35,040-row steel file)
    and a changed file is parsed afresh. An unwritable or damaged cache is ignored.
    """
    if not data_dir.is_dir():
        raise DatasetError(f"data directory {data_dir} does not exist")
    servers = read_columns(data_dir / SERVER_FILE, SERVER_COLUMNS, excel=True, cache_dir=cache_dir)
    tasks = read_columns(data_dir / TASK_FILE, ("plan_cpu_i", "plan_mem_int"), cache_dir=cache_dir)
    prices = read_columns(data_dir / PRICE_FILE, ("price_1",), cache_dir=cache_dir)
    steel = read_columns(data_dir / STEEL_FILE, ("Usage_kWh", "CO2(tCO2)", "NSM"), STEEL_TEXT_COLUMNS, cache_dir=cache_dir)
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


def read_columns(
    path: Path, numeric: tuple[str, ...], text: tuple[str, ...] = (), excel: bool = False, cache_dir: Path | None = None
) -> dict[str, np.ndarray]:
    """Columns of one file as arrays: `numeric` as finite float64, `text` as str; cached by content."""
    if not path.is_file():
        raise DatasetError(f"{path.name}: file not found in {path.parent}")
    cached = _cache_file(cache_dir, path, (*numeric, *text))
    if cached is not None and cached.is_file():
        try:
            with np.load(cached, allow_pickle=False) as data:
                return {name: data[name] for name in (*numeric, *text)}
        except (OSError, ValueError, KeyError):
            pass  # damaged or foreign file: parse again and overwrite it
    columns = _parse(path, numeric, text, excel)
    if cached is not None:
        _store(cached, columns)
    return columns


def _cache_file(cache_dir: Path | None, path: Path, names: tuple[str, ...]) -> Path | None:
    if cache_dir is None:
        return None
    digest = hashlib.sha256(path.read_bytes() + repr(names).encode()).hexdigest()[:20]
    return cache_dir / f"{path.stem}-{digest}.npz"


def _store(target: Path, columns: dict[str, np.ndarray]) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".npz", dir=target.parent)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **columns)
        os.replace(tmp, target)  # atomic: a concurrent reader never sees half a file
    except OSError as exc:
        log.info("not caching %s: %s", target.name, exc)


def _parse(path: Path, numeric: tuple[str, ...], text: tuple[str, ...], excel: bool) -> dict[str, np.ndarray]:
    try:
        rows = _xlsx_rows(path) if excel else _csv_rows(path)
    except (OSError, UnicodeDecodeError, csv.Error, zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
        raise DatasetError(f"{path.name}: cannot be read ({type(exc).__name__}: {exc})") from exc
    header = [str(h).strip() for h in rows[0]] if rows else []
    missing = [c for c in (*numeric, *text) if c not in header]
    _check(path.name, not missing, f"missing column(s) {missing}; found {header}")
    body = rows[1:]
    _check(path.name, len(body) > 0, "has no data rows")
    ragged = next((i for i, r in enumerate(body) if len(r) != len(header)), None)
    _check(path.name, ragged is None, f"row {(ragged or 0) + 2} has {len(body[ragged or 0])} cells, the header {len(header)}")
    by_column = list(zip(*body))
    columns: dict[str, np.ndarray] = {}
    for name in numeric:
        cells = by_column[header.index(name)]
        try:
            values = np.array(cells, dtype=np.float64)  # parses numeric strings in C
        except ValueError:
            values = np.array([_number(c) for c in cells], dtype=np.float64)  # slow path only to locate the bad cell
        bad = np.flatnonzero(~np.isfinite(values))
        # +2: one for the header line, one because people count rows from 1
        _check(path.name, bad.size == 0, f"column {name!r} has a missing or non-numeric value at row {bad[:1] + 2}")
        columns[name] = values
    for name in text:
        columns[name] = np.array(by_column[header.index(name)], dtype=str)
    return columns


def _number(cell: object) -> float:
    try:
        return float(cell)  # type: ignore[arg-type]  # str or number
    except (TypeError, ValueError):
        return float("nan")


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [row for row in csv.reader(f) if row]


log = logging.getLogger(__name__)
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _xlsx_rows(path: Path) -> list[list[object]]:
    """Cell values of the first worksheet (numbers as str, shared and inline strings resolved)."""
    with zipfile.ZipFile(path) as book:
        workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
        first = workbook.find("m:sheets/m:sheet", _NS)
        if first is None:
            raise KeyError("workbook has no sheets")
        rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
        target = next(r.get("Target", "") for r in rels if r.get("Id") == first.get(_REL))
        sheet_path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        shared = []
        if "xl/sharedStrings.xml" in book.namelist():
            strings = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in si.iter(f"{{{_NS['m']}}}t")) for si in strings.findall("m:si", _NS)]
        sheet = ElementTree.fromstring(book.read(sheet_path))
    rows: list[dict[int, object]] = []
    for row in sheet.iterfind("m:sheetData/m:row", _NS):
        cells: dict[int, object] = {}  # column index -> value
        for cell in row.iterfind("m:c", _NS):
            column = _column_index(cell.get("r", ""))
            kind, value = cell.get("t"), cell.find("m:v", _NS)
            if kind == "inlineStr":
                cells[column] = "".join(t.text or "" for t in cell.iter(f"{{{_NS['m']}}}t"))
            elif value is not None and value.text is not None:
                cells[column] = shared[int(value.text)] if kind == "s" else value.text
        rows.append(cells)
    width = max((max(r, default=-1) + 1 for r in rows), default=0)  # Excel omits empty trailing cells
    return [[r.get(i, "") for i in range(width)] for r in rows]


def _column_index(ref: str) -> int:
    """0-based column of a cell reference such as "C7"."""
    letters = re.match(r"[A-Z]+", ref)
    if letters is None:
        raise KeyError(f"cell reference {ref!r}")
    index = 0
    for ch in letters.group():
        index = index * 26 + ord(ch) - 64
    return index - 1


def _check(file: str, ok: bool, problem: str) -> None:
    if not ok:
        raise DatasetError(f"{file}: {problem}")
