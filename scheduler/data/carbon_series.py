"""A carbon-intensity series on a regular grid: the rules that put any file's readings on one (read by carbon_csv.py).

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

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import reduce

import numpy as np

from scheduler.core.errors import SeriesError, quote

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
        if when.tzinfo is not None:  # OverflowError: an offset that moves it past year 1 or 9999
            when = when.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return np.datetime64("NaT")
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
        raise SeriesError(f"{where[bad[0]]}: column {t_name!r}: cannot read {quote(time_cells[bad[0]])} as an ISO time")
    given = np.array([c != "" for c in cells], dtype=bool)
    values = np.array(
        [number(c, w, v_name) for c, w in zip(cells, where) if c != ""],
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


def number(cell: str, where: str, column: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 <= value <= MAX_READING):
        limit = f" (at most {MAX_READING:g})" if math.isfinite(value) and value > MAX_READING else ""
        raise SeriesError(f"{where}: column {column!r}: must be a number >= 0, got {quote(cell)}{limit}")
    return value
