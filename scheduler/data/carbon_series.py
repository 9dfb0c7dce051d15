"""A carbon-intensity series on a regular grid, read from any CSV with a time and an intensity column.

The planner (scheduler/timeshift/planner.py) works on a step function: slot k covers [start + k*step,
start + (k+1)*step) and holds values[k]. Real files are not that tidy: Electricity Maps is hourly,
the UK's is half-hourly, WattTime's 5-minute, and some files change resolution half-way or miss rows.
One rule covers them all, so that a plan never depends on how a file happened to be written:

- A reading holds until the next one (the last one for one step). The series is put on the finest grid
  the time stamps allow (the greatest common divisor of their spacings) by forward fill. Empty
  intensity cells are no reading; a gap of more than MAX_GAP_MIN between readings is an error.
- `resample(step_min)` goes to a coarser step by the time-weighted mean of what each new slot covers
  (slots are aligned to midnight UTC; an edge slot the data only partly covers averages that part) and
  to a finer one by repeating values. Every step must divide a day (1440 minutes).

Times are UTC: ISO 8601 with `Z`, `+00:00` or another offset (converted), or no offset at all (taken
as UTC), on whole minutes. Intensities are kept in g/kWh; WattTime's lbs/MWh are converted on reading
(x 0.45359237). Readings must be finite and in 0..MAX_READING: a larger figure is a unit mistake, and
one near float's limit overflows the planner's prefix sums into NaN start times.
`SeriesError` (a ValueError) names the file, the row (the header is row 1) and the column.
"""

import csv
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import reduce
from pathlib import Path

import numpy as np
from scheduler.core.errors import SeriesError

UNITS = {"g_per_kwh": 1.0, "lbs_per_mwh": 0.45359237}
"""Accepted input units and their factor to g/kWh (1 lb/MWh = 453.59237 g / 1000 kWh)."""
UNIT = "g/kWh"
MAX_GAP_MIN = 360
"""Longest stretch a reading may be carried over a missing row: six hours."""
DAY_MIN = 1440
MAX_READING = 1e6
"""Largest intensity accepted, in the file's unit: a thousand times the dirtiest grid's g/kWh."""


@dataclass(frozen=True)
class CarbonSeries:
    """Carbon intensity (g/kWh) as a step function on a regular grid of `step_min` minutes."""

    start: np.datetime64  # minute precision, UTC: the start of slot 0
    step_min: int
    values: np.ndarray  # (n,) float64, g/kWh
    unit: str = UNIT
    name: str = "intensity"
    notes: tuple[str, ...] = ()
    """What reading the source did to it (mixed steps forward-filled), for the output's warnings."""

    def __post_init__(self) -> None:
        # Every constructor passes here (files, the API's lists, the shipped grid, resample), so a NaN or an
        # overflowing figure is named once instead of surfacing as NaT start times in a plan.
        bad = np.flatnonzero(~(np.isfinite(self.values) & (self.values >= 0) & (self.values <= MAX_READING)))
        if bad.size:
            k = int(bad[0])
            when = iso(self.start + np.timedelta64(k * self.step_min, "m"))
            raise SeriesError(f"{self.name}: slot {k} ({when}): intensity must be in 0..{MAX_READING:g}, got {self.values[k]}")

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def end(self) -> np.datetime64:
        """The end of the last slot (exclusive)."""
        return self.start + np.timedelta64(self.n * self.step_min, "m")

    def time_of(self, slot: float | np.ndarray) -> np.datetime64 | np.ndarray:
        """Time (datetime64[s], rounded to the second) at `slot` slots from the start."""
        seconds = np.rint(np.asarray(slot, dtype=np.float64) * self.step_min * 60.0)
        return self.start.astype("datetime64[s]") + seconds.astype(np.int64)

    def slot_of(self, when: np.datetime64 | np.ndarray) -> float | np.ndarray:
        """Slots (fractional) from the start to `when`."""
        delta = np.asarray(when).astype("datetime64[s]") - self.start.astype("datetime64[s]")
        return delta.astype(np.int64) / (self.step_min * 60.0)

    def resample(self, step_min: int) -> "CarbonSeries":
        """This series on a `step_min` grid: time-weighted means when coarser, repeats when finer."""
        check_step(step_min)
        if step_min == self.step_min:
            return self
        day = self.start.astype("datetime64[D]").astype("datetime64[m]")
        into_day = int((self.start - day) // np.timedelta64(1, "m"))
        new_start = day + np.timedelta64(into_day - into_day % step_min, "m")
        lead = into_day % step_min  # minutes of the first new slot before the data
        fine = math.gcd(self.step_min, step_min, lead)
        values = np.repeat(self.values, self.step_min // fine)
        per_slot = step_min // fine
        total = lead // fine + len(values)
        padded = np.full(-(-total // per_slot) * per_slot, np.nan)
        padded[lead // fine : total] = values
        blocks = padded.reshape(-1, per_slot)  # (new n, per_slot)
        means = np.nansum(blocks, axis=1) / (~np.isnan(blocks)).sum(axis=1)
        return CarbonSeries(new_start, step_min, means, self.unit, self.name, self.notes)


def check_step(step_min: int) -> None:
    if not (isinstance(step_min, int | np.integer) and 0 < step_min <= DAY_MIN and DAY_MIN % step_min == 0):
        raise SeriesError(f"step_min must be a whole number of minutes dividing 1440, got {step_min}")


def unit_factor(unit: str) -> float:
    """Factor from `unit` (g_per_kwh, lbs_per_mwh; also spelled g/kWh, lbs/MWh) to g/kWh."""
    key = unit.strip().lower().replace("/", "_per_")
    if key not in UNITS:
        raise SeriesError(f"unknown unit {unit!r}; known: {', '.join(UNITS)}")
    return UNITS[key]


def parse_utc(cells: Sequence[str]) -> np.ndarray:
    """(n,) datetime64[s] UTC of ISO 8601 cells; NaT where a cell is empty or not a time.

    Numpy parses the usual case (no offset) in one pass; cells with an offset, and every cell when
    that pass fails, go through datetime.fromisoformat one by one."""
    text = np.char.strip(np.asarray(cells, dtype=str)) if len(cells) else np.array([], str)
    bare = np.char.rstrip(text, "Z")
    has_offset = (np.char.rfind(bare, "+") >= 10) | (np.char.rfind(bare, "-") >= 10)
    out = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[s]")
    plain = ~has_offset & (np.char.str_len(bare) >= 10)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[plain] = np.array(bare[plain], dtype="datetime64[s]")
        slow = np.flatnonzero(has_offset)
    except ValueError:
        slow = np.flatnonzero(has_offset | plain)
    for i in slow:
        out[i] = _one_time(str(text[i]))
    return out


def _one_time(cell: str) -> np.datetime64:
    try:
        when = datetime.fromisoformat(cell)
    except ValueError:
        return np.datetime64("NaT")
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return np.datetime64(when, "s")


def iso(when: np.datetime64 | np.ndarray) -> str | list[str]:
    """ISO 8601 UTC with Z, to the minute unless the seconds are not zero: 2023-01-01T03:00Z."""
    t = np.asarray(when).astype("datetime64[s]")
    minutes = t.astype("datetime64[m]")
    whole = (t - minutes).astype(np.int64) == 0
    text = np.where(
        whole,
        np.datetime_as_string(minutes, unit="m"),
        np.datetime_as_string(t, unit="s"),
    )
    text = np.char.add(text.astype(str), "Z")
    return str(text) if text.ndim == 0 else text.tolist()


def read_series_csv(path: Path, column: str | None = None, unit: str = "g_per_kwh") -> CarbonSeries:
    """The series in a CSV: the first column whose header says time or date (else the first column)
    and `column` (default: the first other column whose first value is a number)."""
    path, factor = Path(path), unit_factor(unit)
    header, rows, lines = _read_csv(path)
    t_col = next(
        (i for i, h in enumerate(header) if "time" in h.lower() or "date" in h.lower()),
        0,
    )
    v_col = _value_column(path, header, rows, t_col, column)
    times = [r[t_col] if t_col < len(r) else "" for r in rows]
    cells = [r[v_col].strip() if v_col < len(r) else "" for r in rows]
    where = [f"{path.name}: row {line}" for line in lines]
    return build_series(times, cells, where, header[t_col], header[v_col], factor)


def series_from_lists(
    times: Sequence[str],
    values: Sequence[float | str | None],
    unit: str = "g_per_kwh",
    name: str = "intensity",
) -> CarbonSeries:
    """The series from two parallel lists (the API's JSON form); errors name the list index."""
    if len(times) != len(values):
        raise SeriesError(f"times has {len(times)} entries, values {len(values)}")
    cells = ["" if v is None else str(v).strip() for v in values]
    where = [f"index {i}" for i in range(len(times))]
    return build_series(
        [str(t) for t in times],
        cells,
        where,
        "times",
        "values",
        unit_factor(unit),
        name,
    )


def build_series(
    time_cells: list[str],
    cells: list[str],
    where: list[str],
    t_name: str,
    v_name: str,
    factor: float,
    name: str | None = None,
) -> CarbonSeries:
    """Put readings (time and value cells as text) on the finest regular grid (the module rule)."""
    times = parse_utc(time_cells)
    bad = np.flatnonzero(np.isnat(times))
    if bad.size:
        raise SeriesError(f"{where[bad[0]]}: column {t_name!r}: cannot read {time_cells[bad[0]]!r} as an ISO time")
    given = np.array([c != "" for c in cells], dtype=bool)
    values = np.array(
        [_number(c, w, v_name) for c, w in zip(cells, where) if c != ""],
        dtype=np.float64,
    )
    times, where = times[given], [w for w, g in zip(where, given) if g]
    if len(times) < 2:
        raise SeriesError(f"{v_name}: needs at least 2 readings, got {len(times)}")
    # Whole minutes on the clock, not only apart: readings at hh:mm:30 would be moved half a minute.
    odd = np.flatnonzero((times - times.astype("datetime64[m]")).astype(np.int64))
    if odd.size:
        raise SeriesError(f"{where[odd[0]]}: column {t_name!r}: times must be whole minutes, got {times[odd[0]]}")
    minutes = (times - times[0]).astype(np.int64) // 60
    steps = np.diff(minutes)
    _check_steps(steps, where, t_name, times)
    base = reduce(math.gcd, np.unique(steps).tolist())
    if DAY_MIN % base:
        raise SeriesError(f"{t_name}: the time steps ({base}-minute grid) must divide a day (1440 minutes)")
    slot = minutes // base
    holder = np.zeros(slot[-1] + 1, dtype=np.intp)
    holder[slot] = np.arange(len(slot))
    # Forward fill: each slot takes the latest reading at or before it.
    filled = values[np.maximum.accumulate(holder)]
    distinct = ", ".join(map(str, np.unique(steps).tolist()))
    notes = ()
    if len(np.unique(steps)) > 1:
        notes = (f"{v_name}: steps of {distinct} min put on a {base}-min grid; each reading holds until the next",)
    start = times[0].astype("datetime64[m]")
    return CarbonSeries(start, int(base), filled * factor, UNIT, name or v_name, notes)


def _check_steps(steps: np.ndarray, where: list[str], t_name: str, times: np.ndarray) -> None:
    back = np.flatnonzero(steps <= 0)
    if back.size:
        i = back[0] + 1
        raise SeriesError(
            f"{where[i]}: column {t_name!r}: time {times[i]} is not after the previous reading's {times[i - 1]} (times must increase)"
        )
    gap = np.flatnonzero(steps > MAX_GAP_MIN)
    if gap.size:
        i = gap[0] + 1
        raise SeriesError(f"{where[i]}: column {t_name!r}: a gap of {steps[gap[0]]} min after {times[i - 1]} (at most {MAX_GAP_MIN} min)")


def _number(cell: str, where: str, column: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 <= value <= MAX_READING):
        limit = f" (at most {MAX_READING:g})" if math.isfinite(value) and value > MAX_READING else ""
        raise SeriesError(f"{where}: column {column!r}: must be a number >= 0, got {cell!r}{limit}")
    return value


def _read_csv(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
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


def _value_column(path: Path, header: list[str], rows: list[list[str]], t_col: int, column: str | None) -> int:
    if column is not None:
        if column not in header:
            raise SeriesError(f"{path.name}: no column {column!r}; columns: {', '.join(header)}")
        return header.index(column)
    for i in (i for i in range(len(header)) if i != t_col):
        # An empty cell is no reading, so a column is judged by its first non-empty value.
        first = next((r[i].strip() for r in rows if i < len(r) and r[i].strip()), "")
        if _is_number(first):
            return i
    columns = ", ".join(header)
    raise SeriesError(f"{path.name}: no numeric column (none whose first value is a number); name one with column= (--column): {columns}")


def _is_number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False


@dataclass(frozen=True)
class IssuedForecasts:
    """Forecasts as issued: at each request time, values for the forecast times that follow.

    Each issue's values form a step function like the series: a value holds from its forecast time
    for `step_min` (the finest spacing of forecast times in the file)."""

    request: np.ndarray  # (m,) datetime64[m], increasing: the issue times
    offsets: np.ndarray  # (m + 1,) issue i's rows are offsets[i]:offsets[i + 1] below
    forecast_time: np.ndarray  # (k,) datetime64[m], increasing within each issue
    values: np.ndarray  # (k,) float64, g/kWh
    step_min: int
    name: str = "forecast"

    def issue(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        rows = slice(self.offsets[i], self.offsets[i + 1])
        return self.forecast_time[rows], self.values[rows]

    def latest_at(self, when: np.datetime64) -> int:
        """Index of the latest issue at or before `when`; -1 when none was issued yet."""
        after = np.searchsorted(self.request, np.datetime64(when, "m"), side="right")
        return int(after) - 1


def read_issued_forecasts(path: Path, column: str | None = None, unit: str = "g_per_kwh") -> IssuedForecasts:
    """A `request_time, forecast_time, <value>` CSV (WattTime's layout); value column as in read_series_csv."""
    path, factor = Path(path), unit_factor(unit)
    header, rows, lines = _read_csv(path)
    missing = [c for c in ("request_time", "forecast_time") if c not in header]
    if missing:
        raise SeriesError(f"{path.name}: row 1: missing column(s) {', '.join(missing)}; columns: {', '.join(header)}")
    r_col, f_col = header.index("request_time"), header.index("forecast_time")
    v_col = (
        _value_column(path, header, rows, -1, column) if column else next((i for i in range(len(header)) if i not in (r_col, f_col)), None)
    )
    if v_col is None:
        raise SeriesError(f"{path.name}: no value column besides request_time and forecast_time")
    request, forecast = (parse_utc([r[c] if c < len(r) else "" for r in rows]) for c in (r_col, f_col))
    cells = [r[v_col].strip() if v_col < len(r) else "" for r in rows]
    where = [f"{path.name}: row {line}" for line in lines]
    values = np.array([_number(c, w, header[v_col]) for c, w in zip(cells, where)])
    for times, name in ((request, "request_time"), (forecast, "forecast_time")):
        bad = np.flatnonzero(np.isnat(times) | ((times - times.astype("datetime64[m]")).astype(np.int64) != 0))
        if bad.size:
            raise SeriesError(
                f"{path.name}: row {lines[bad[0]]}: column {name!r}: not a whole-minute ISO time: {rows[bad[0]][header.index(name)]!r}"
            )
    return issued_from_arrays(request, forecast, values * factor, header[v_col], path.name)


def issued_from_arrays(
    request: np.ndarray,
    forecast: np.ndarray,
    values: np.ndarray,
    name: str = "forecast",
    file: str = "forecasts",
) -> IssuedForecasts:
    """IssuedForecasts from parallel (k,) arrays of issue times, forecast times and g/kWh, any order."""
    request = np.asarray(request).astype("datetime64[m]")
    forecast = np.asarray(forecast).astype("datetime64[m]")
    values = np.asarray(values, dtype=np.float64)
    if not len(request):
        raise SeriesError(f"{file}: no forecast rows")
    order = np.lexsort((forecast, request))
    request, forecast, values = request[order], forecast[order], values[order]
    starts = np.flatnonzero(np.r_[True, request[1:] != request[:-1]])
    same = request[1:] == request[:-1]
    spacing = (forecast[1:] - forecast[:-1]).astype(np.int64)[same]
    if (spacing <= 0).any():
        raise SeriesError(f"{file}: a forecast time appears twice in one issue")
    if not spacing.size:  # one value per issue: each holds until the next issue
        spacing = np.diff(request[starts]).astype(np.int64)
    step = reduce(math.gcd, np.unique(spacing).tolist()) if spacing.size else 60
    offsets = np.r_[starts, len(request)]
    return IssuedForecasts(request[starts], offsets, forecast, values, int(step), name)
