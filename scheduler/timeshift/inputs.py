"""Jobs for the planner: JOBS.csv rows or the API's JSON objects, validated, then put on a series' slots.

Both forms go through one validator, so the CLI and POST /plan accept the same fields and reject the same
values with the same words; the only difference is how a job is named in an error (`row 3`: the CSV's
line, the header being row 1; `index 2`: the JSON list's position). Every problem is collected before
anything is raised, so a file with ten bad rows is fixed in one pass, not ten.

Fields: `job_id, submit_time, duration_min` and optionally `deadline` (an ISO time, or a number of
minutes after submission; empty: the job starts at submission), `interruptible` (true/false, 1/0,
yes/no; empty: false) and `power_w` (default 1). `PlanInputError.errors` holds {row|index, field,
message} for each problem; `describe` turns one into a line of text.

`jobs_to_slots` puts the jobs on a series' slots: a job submitted outside the readings, or running past
their end, is an error naming its row; a deadline past the end is clipped to the end, and a warning says so.
"""

import csv
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scheduler.core.errors import InputError, Problems, cut, quote
from scheduler.data.carbon_series import CarbonSeries, iso, parse_utc
from scheduler.timeshift.planner import PlanJobs

JOB_FIELDS = ("job_id", "submit_time", "duration_min", "deadline", "interruptible", "power_w")
REQUIRED = ("job_id", "submit_time", "duration_min")
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}


class PlanInputError(InputError):
    """The planner's jobs were rejected; the message quotes the first three problems."""

    items_at = ("jobs",)  # POST /plan's body; the CLI's CSV names rows instead

    def __init__(self, errors: list[dict[str, Any]], *, omitted: int = 0, exact: bool = True):
        more = len(errors) - 3 + omitted
        super().__init__(
            errors, "; ".join(describe(e) for e in errors[:3]) + (f" (and {more} more)" if more > 0 else ""), omitted=omitted, exact=exact
        )


def describe(error: dict[str, Any]) -> str:
    """One error as text: `row 3, deadline: ...`."""
    where = ", ".join(p for p in (_where(error), error.get("field")) if p)
    return f"{where}: {error['message']}" if where else error["message"]


def _where(key: dict[str, Any]) -> str:
    """`row 3` or `index 2` (empty when the problem is not one job's)."""
    return next((f"{k} {key[k]}" for k in ("row", "index") if key.get(k) is not None), "")


@dataclass(frozen=True)
class JobTable:
    """Jobs as given, before they are put on a series' slots."""

    job_id: list[str]
    submit: np.ndarray  # (n,) datetime64[s], UTC
    duration_min: np.ndarray  # (n,) float64, > 0
    deadline_min: np.ndarray  # (n,) float64, minutes after submission; NaN: none
    interruptible: np.ndarray  # (n,) bool
    power_w: np.ndarray  # (n,) float64, > 0
    where: list[dict[str, int]]
    """(n,) {"row": r} or {"index": i}: how errors name each job."""


def parse_job_dicts(items: Sequence[Any]) -> JobTable:
    """Jobs as JSON objects with the CSV's fields; raises PlanInputError with {index, field, message}."""
    return _table(list(items), [{"index": i} for i in range(len(items))])


def read_jobs_csv(path: Path) -> JobTable:
    """JOBS.csv; raises PlanInputError with {row, field, message} (the header is row 1)."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = [h.strip() for h in next(reader, [])]
            rows, where = [], []
            for cells in reader:
                if any(c.strip() for c in cells):
                    rows.append(dict(zip(header, (c.strip() for c in cells))) if len(cells) == len(header) else cells)
                    where.append({"row": reader.line_num})
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        # The CLI puts the file's name before every message; the OS error names the path.
        raise PlanInputError([_error({"row": None}, None, f"cannot be read ({exc})")]) from exc
    head = {"row": 1}
    allowed = ", ".join(JOB_FIELDS)
    errors = [_error(head, c, f"required column {c!r} is missing") for c in REQUIRED]
    errors = [e for e in errors if e["field"] not in header]
    errors += [_error(head, cut(c), f"unknown column {quote(c)}; allowed: {allowed}") for c in header if c not in JOB_FIELDS]
    # A repeated column would silently keep its last cell in every row.
    counts = Counter(header)
    errors += [_error(head, cut(c), f"column {quote(c)} appears {n} times") for c, n in counts.items() if n > 1]
    errors += [_error(w, None, f"row has {len(r)} cells; the header has {len(header)}") for r, w in zip(rows, where) if isinstance(r, list)]
    if not rows and not errors:
        errors.append(_error({"row": None}, None, "the file has no job rows"))
    if errors:
        raise PlanInputError(errors)
    return _table(rows, where)


def _error(key: dict[str, Any], field: str | None, message: str) -> dict[str, Any]:
    return {**key, "field": field, "message": message}


def _table(items: list[Any], where: list[dict[str, int]]) -> JobTable:
    """Validate every job, collecting its problems (the first MAX_ERRORS of each check listed, the rest
    counted: one job may have a million unknown keys), then build the arrays."""
    found = Problems()
    errors: list[dict[str, Any]] = []
    cols: dict[str, list[Any]] = {f: [] for f in JOB_FIELDS}
    allowed = ", ".join(JOB_FIELDS)
    for item, key in zip(items, where):
        if not isinstance(item, dict):
            errors.append(_error(key, None, f"must be an object with fields {allowed}"))
            item = {}
        found.add(_error(key, cut(str(f)), f"unknown field; allowed: {allowed}") for f in item if f not in JOB_FIELDS)
        errors += [_error(key, f, "is required") for f in REQUIRED if _blank(item.get(f))]
        for f in JOB_FIELDS:
            cols[f].append(item.get(f))

    def bad(i: int, field: str, message: str) -> None:
        # A missing required value has been reported already.
        if not (field in REQUIRED and _blank(cols[field][i])):
            errors.append(_error(where[i], field, message))

    submit = parse_utc([v if _time_like(v) else "" for v in cols["submit_time"]])
    for i in np.flatnonzero(np.isnat(submit)).tolist():
        bad(i, "submit_time", f"must be an ISO time (UTC unless it says otherwise), got {quote(cols['submit_time'][i])}")
    duration = np.array([_number(v, i, "duration_min", bad, MAX_DURATION_MIN) for i, v in enumerate(cols["duration_min"])])
    power = np.array([1.0 if _blank(v) else _number(v, i, "power_w", bad, MAX_POWER_W) for i, v in enumerate(cols["power_w"])])
    deadline = _deadlines(cols["deadline"], submit, bad)
    interruptible = np.array([_flag(v, i, bad) for i, v in enumerate(cols["interruptible"])], dtype=bool)
    job_id = ["" if _blank(v) else str(v).strip() for v in cols["job_id"]]
    seen: dict[str, int] = {}
    for i, name in enumerate(job_id):
        if name and seen.setdefault(name, i) != i:
            bad(i, "job_id", f"{quote(name)} is used twice (first at {_where(where[seen[name]])})")
    for i in np.flatnonzero(deadline < duration).tolist():
        end = iso(submit[i] + np.int64(round(duration[i] * 60)))
        bad(i, "deadline", f"{cut(str(cols['deadline'][i]))} is before submit_time + duration_min ({end}); a deadline is the latest finish")
    order = "row" if where and "row" in where[0] else "index"
    found.add(sorted(errors, key=lambda e: e[order] or 0))  # each check's problems in the order of the jobs
    if found:
        raise found.error(PlanInputError, order)
    return JobTable(job_id, submit, duration, deadline, interruptible, power, where)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


MAX_TIME_CHARS = 64
"""Longer text is no ISO time, and is not given to numpy's reader (one 8 MB string cost it 5 s and 4 GB)."""


def _time_like(value: Any) -> bool:
    return isinstance(value, str) and not _blank(value) and len(value) <= MAX_TIME_CHARS


MAX_DURATION_MIN = 366 * 24 * 60.0
"""A job at most a year long: longer ones cannot fit any series the planner is given a year of."""
MAX_POWER_W = 1e7
"""10 MW, a whole data-centre hall: a larger figure is a typo (and 1e300 W would overflow the sums)."""


def _number(value: Any, i: int, field: str, bad: Any, most: float) -> float:
    """A number in (0, most] (JSON number or numeric text); NaN after reporting when it is not."""
    try:
        x = math.nan if isinstance(value, bool) or _blank(value) else float(value)
    except (TypeError, ValueError, OverflowError):
        x = math.nan
    if not (math.isfinite(x) and 0 < x <= most):
        bad(i, field, f"must be a number > 0 and at most {most:g}, got {quote(value)}")
        return math.nan
    return x


def _deadlines(values: list[Any], submit: np.ndarray, bad: Any) -> np.ndarray:
    """(n,) minutes after submission: numbers are minutes, text is an ISO time; blank is NaN."""
    out = np.full(len(values), np.nan)
    texts: dict[int, str] = {}
    for i, v in enumerate(values):
        if _blank(v):
            continue
        try:
            out[i] = math.nan if isinstance(v, bool) else float(v)
        except (TypeError, ValueError):
            texts[i] = v if isinstance(v, str) else ""
        if i not in texts and not math.isfinite(out[i]):
            bad(i, "deadline", f"must be an ISO time, minutes after submission, or empty; got {quote(v)}")
    when = parse_utc([t if _time_like(t) else "" for t in texts.values()])
    for i, t in zip(texts, when):
        if np.isnat(t):
            bad(i, "deadline", f"must be an ISO time, minutes after submission, or empty; got {quote(values[i])}")
        elif not np.isnat(submit[i]):
            out[i] = (t - submit[i]).astype(np.int64) / 60.0
    return out


def _flag(value: Any, i: int, bad: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text not in _TRUE | _FALSE:
        bad(i, "interruptible", f"must be true/false, 1/0, yes/no or empty; got {quote(value)}")
    return text in _TRUE


def jobs_to_slots(table: JobTable, series: CarbonSeries, data: CarbonSeries | None = None) -> tuple[PlanJobs, list[str]]:
    """The jobs in slot units of `series`; deadlines past the end are clipped (and a warning says so).

    `data`: the series `series` was resampled from. A coarser grid's edge slots reach past the readings
    (slots are aligned to midnight), so jobs are held to the readings' span, not the grid's."""
    data = series if data is None else data
    first, last = (float(series.slot_of(t)) for t in (data.start, data.end))  # the readings' span, in slots
    submit = np.asarray(series.slot_of(table.submit), dtype=np.float64)
    duration = table.duration_min / series.step_min
    deadline = submit + table.deadline_min / series.step_min
    span = f"{iso(data.start)} .. {iso(data.end)}"
    outside = (submit < first) | (submit >= last)
    late = ~outside & (submit + duration > last + 1e-9)
    errors = [  # in the jobs' order, whichever of the two checks a job fails
        _error(table.where[i], "submit_time", f"{iso(table.submit[i])} is outside the series ({span})")
        if outside[i]
        else _error(table.where[i], "duration_min", f"submit_time + duration_min runs past the series end ({iso(data.end)})")
        for i in np.flatnonzero(outside | late).tolist()
    ]
    if errors:
        raise PlanInputError(errors)
    clipped = np.flatnonzero(deadline > last)
    warnings = []
    if clipped.size:
        names = ", ".join(_where(table.where[i]) for i in clipped[:5].tolist()) + (", ..." if clipped.size > 5 else "")
        warnings.append(f"{clipped.size} job deadline(s) run past the series end ({iso(data.end)}) and were clipped to it: {names}")
        deadline = np.minimum(deadline, last)
    jobs = PlanJobs(
        np.array(table.job_id, dtype=str), submit, duration, deadline, table.interruptible, table.power_w, float(series.step_min)
    )
    return jobs, warnings
