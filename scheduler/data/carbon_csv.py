"""Carbon series and issued forecasts read from CSV files, by the rules of scheduler/data/carbon_series.py.

A file's time column is the first whose header says time or date (else the first column); its value
column is the one named, else the first other column whose first non-empty value is a number. Errors
are `SeriesError`s naming the file, the row (the header is row 1) and the column.
"""

import csv
import math
from pathlib import Path

import numpy as np

from scheduler.core.errors import SeriesError
from scheduler.data.carbon_series import CarbonSeries, build_series, number, parse_utc, unit_factor
from scheduler.data.issued_forecasts import IssuedForecasts, issued_from_arrays


def read_series_csv(path: Path, column: str | None = None, unit: str = "g_per_kwh") -> CarbonSeries:
    """The series in a CSV: the first column whose header says time or date (else the first column)
    and `column` (default: the first other column whose first value is a number)."""
    path, factor = Path(path), unit_factor(unit)
    header, rows, lines = read_rows(path)
    t_col = next(
        (i for i, h in enumerate(header) if "time" in h.lower() or "date" in h.lower()),
        0,
    )
    v_col = value_column(path, header, rows, t_col, column)
    times = [r[t_col] if t_col < len(r) else "" for r in rows]
    cells = [r[v_col].strip() if v_col < len(r) else "" for r in rows]
    where = [f"{path.name}: row {line}" for line in lines]
    return build_series(times, cells, where, header[t_col], header[v_col], factor)


def read_issued_forecasts(path: Path, column: str | None = None, unit: str = "g_per_kwh") -> IssuedForecasts:
    """A `request_time, forecast_time, <value>` CSV (WattTime's layout); value column as in read_series_csv."""
    path, factor = Path(path), unit_factor(unit)
    header, rows, lines = read_rows(path)
    missing = [c for c in ("request_time", "forecast_time") if c not in header]
    if missing:
        raise SeriesError(f"{path.name}: row 1: missing column(s) {', '.join(missing)}; columns: {', '.join(header)}")
    r_col, f_col = header.index("request_time"), header.index("forecast_time")
    v_col = (
        value_column(path, header, rows, -1, column) if column else next((i for i in range(len(header)) if i not in (r_col, f_col)), None)
    )
    if v_col is None:
        raise SeriesError(f"{path.name}: no value column besides request_time and forecast_time")
    request, forecast = (parse_utc([r[c] if c < len(r) else "" for r in rows]) for c in (r_col, f_col))
    cells = [r[v_col].strip() if v_col < len(r) else "" for r in rows]
    where = [f"{path.name}: row {line}" for line in lines]
    values = np.array([number(c, w, header[v_col]) for c, w in zip(cells, where)])
    for times, name in ((request, "request_time"), (forecast, "forecast_time")):
        bad = np.flatnonzero(np.isnat(times) | ((times - times.astype("datetime64[m]")).astype(np.int64) != 0))
        if bad.size:
            raise SeriesError(
                f"{path.name}: row {lines[bad[0]]}: column {name!r}: not a whole-minute ISO time: {rows[bad[0]][header.index(name)]!r}"
            )
    return issued_from_arrays(request, forecast, values * factor, header[v_col], path.name)


def read_rows(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, non-blank rows and their line numbers (the header is row 1)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = [h.strip() for h in next(reader, [])]
            rows, lines = [], []
            for row in reader:
                if any(c.strip() for c in row):
                    rows.append(row)
                    lines.append(reader.line_num)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SeriesError(f"{path}: cannot be read ({exc})") from exc
    if not header:
        raise SeriesError(f"{path.name}: the file is empty; expected a header row")
    return header, rows, lines


def value_column(path: Path, header: list[str], rows: list[list[str]], t_col: int, column: str | None) -> int:
    if column is not None:
        if column not in header:
            raise SeriesError(f"{path.name}: no column {column!r}; columns: {', '.join(header)}")
        return header.index(column)
    for i in (i for i in range(len(header)) if i != t_col):
        # An empty cell is no reading, so a column is judged by its first non-empty value.
        first = next((r[i].strip() for r in rows if i < len(r) and r[i].strip()), "")
        if is_number(first):
            return i
    columns = ", ".join(header)
    raise SeriesError(f"{path.name}: no numeric column (none whose first value is a number); name one with column= (--column): {columns}")


def is_number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False
