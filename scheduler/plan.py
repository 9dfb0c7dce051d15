"""Plan when jobs run against a carbon series: the command line, and `plan_request` for the API.

    python -m scheduler.plan --carbon SERIES.csv --jobs JOBS.csv [--forecast perfect,noisy,persistence,issued]
        [--forecast-file ISSUED.csv] [--forecast-error 0.05] [--seeds 10] [--seed 0] [--step-min 30]
        [--capacity N] [--column NAME] [--unit g_per_kwh|lbs_per_mwh] [--out plan.json | -]

JOBS.csv has `job_id, submit_time, duration_min` and optionally `deadline` (an ISO time, or a number of
minutes after submission; empty: the job starts at submission), `interruptible` (true/false, 1/0,
yes/no; empty: false) and `power_w` (default 1). The series is read and resampled by the rule of
scheduler/carbon_series.py; the jobs are planned by scheduler/planner.py.

The output always has `run_now` (every job starts at submission: the baseline) and `perfect` (the
actual future as the forecast: the bound) besides the forecasts asked for. The noisy forecast runs once
per seed stream: `--seeds N` streams spawned from `np.random.SeedSequence(--seed)`, so one seed replays
every run; its emissions are the mean over the runs (and their standard deviation, ddof 0), and the
per-job plan shown is stream 0's. A deadline past the series end is clipped to the end and said so in
`warnings`; a job submitted outside the series, or running past its end, is an error naming its row.
Bad input is reported on stderr, one line per problem, with exit status 2 (as argparse does).

The document (--out FILE, or stdout with --out -; without --out only the summary table is printed):
`series`, `settings`, `jobs`, `flexible_jobs`, `baseline`, `strategies` (per strategy emissions_kg,
saved_kg and saved_pct against run_now, runs, deadline_misses, mean_delay_min = the mean over jobs of
finish - (submit + duration); noisy adds emissions_kg_std; --capacity adds capacity_overflows), `plans`
(per job, each strategy's [start, end] runs, ISO UTC with Z) and `warnings`. Emissions are W x g/kWh x
h / 1e6 = kg on the actual series, to six significant digits.
"""

import argparse
import csv
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from scheduler.carbon_series import (
    UNITS,
    CarbonSeries,
    IssuedForecasts,
    check_step,
    iso,
    parse_utc,
    read_issued_forecasts,
    read_series_csv,
)
from scheduler.forecast import FORECASTS, Forecast, make_forecast
from scheduler.planner import Plan, PlanJobs, plan

JOB_FIELDS = (
    "job_id",
    "submit_time",
    "duration_min",
    "deadline",
    "interruptible",
    "power_w",
)
REQUIRED = ("job_id", "submit_time", "duration_min")
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}


class PlanInputError(ValueError):
    """Jobs were rejected; `errors` holds {row|index, field, message} for every problem."""

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__("; ".join(describe(e) for e in errors[:3]) + (f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""))
        self.errors = errors


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
        message = f"{path}: cannot be read ({exc})"
        raise PlanInputError([_error({"row": None}, None, message)]) from exc
    head = {"row": 1}
    allowed = ", ".join(JOB_FIELDS)
    errors = [_error(head, c, f"required column {c!r} is missing") for c in REQUIRED]
    errors = [e for e in errors if e["field"] not in header]
    errors += [_error(head, c, f"unknown column {c!r}; allowed: {allowed}") for c in header if c not in JOB_FIELDS]
    errors += [_error(w, None, f"row has {len(r)} cells; the header has {len(header)}") for r, w in zip(rows, where) if isinstance(r, list)]
    if not rows and not errors:
        errors.append(_error({"row": None}, None, "the file has no job rows"))
    if errors:
        raise PlanInputError(errors)
    return _table(rows, where)


def _error(key: dict[str, Any], field: str | None, message: str) -> dict[str, Any]:
    return {**key, "field": field, "message": message}


def _table(items: list[Any], where: list[dict[str, int]]) -> JobTable:
    """Validate every job, collecting every problem, then build the arrays."""
    errors: list[dict[str, Any]] = []
    cols: dict[str, list[Any]] = {f: [] for f in JOB_FIELDS}
    allowed = ", ".join(JOB_FIELDS)
    for item, key in zip(items, where):
        if not isinstance(item, dict):
            errors.append(_error(key, None, f"must be an object with fields {allowed}"))
            item = {}
        errors += [_error(key, f, f"unknown field; allowed: {allowed}") for f in item if f not in JOB_FIELDS]
        errors += [_error(key, f, "is required") for f in REQUIRED if _blank(item.get(f))]
        for f in JOB_FIELDS:
            cols[f].append(item.get(f))

    def bad(i: int, field: str, message: str) -> None:
        # A missing required value has been reported already.
        if not (field in REQUIRED and _blank(cols[field][i])):
            errors.append(_error(where[i], field, message))

    submit = parse_utc(["" if _blank(v) or not isinstance(v, str) else v for v in cols["submit_time"]])
    for i in np.flatnonzero(np.isnat(submit)).tolist():
        bad(
            i,
            "submit_time",
            f"must be an ISO time (UTC unless it says otherwise), got {cols['submit_time'][i]!r}",
        )
    duration = np.array([_number(v, i, "duration_min", bad) for i, v in enumerate(cols["duration_min"])])
    power = np.array([1.0 if _blank(v) else _number(v, i, "power_w", bad) for i, v in enumerate(cols["power_w"])])
    deadline = _deadlines(cols["deadline"], submit, bad)
    interruptible = np.array([_flag(v, i, bad) for i, v in enumerate(cols["interruptible"])], dtype=bool)
    job_id = ["" if _blank(v) else str(v).strip() for v in cols["job_id"]]
    seen: dict[str, int] = {}
    for i, name in enumerate(job_id):
        if name and seen.setdefault(name, i) != i:
            bad(
                i,
                "job_id",
                f"{name!r} is used twice (first at {_where(where[seen[name]])})",
            )
    for i in np.flatnonzero(deadline < duration).tolist():
        end = iso(submit[i] + np.int64(round(duration[i] * 60)))
        bad(
            i,
            "deadline",
            f"{cols['deadline'][i]} is before submit_time + duration_min ({end}); a deadline is the latest finish",
        )
    if errors:
        raise PlanInputError(errors)
    return JobTable(job_id, submit, duration, deadline, interruptible, power, where)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: Any, i: int, field: str, bad: Any) -> float:
    """A number > 0 (JSON number or numeric text); NaN after reporting when it is not."""
    try:
        x = math.nan if isinstance(value, bool) or _blank(value) else float(value)
    except (TypeError, ValueError):
        x = math.nan
    if not (math.isfinite(x) and x > 0):
        bad(i, field, f"must be a number > 0, got {value!r}")
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
            bad(
                i,
                "deadline",
                f"must be an ISO time, minutes after submission, or empty; got {v!r}",
            )
    when = parse_utc(list(texts.values()))
    for i, t in zip(texts, when):
        if np.isnat(t):
            bad(
                i,
                "deadline",
                f"must be an ISO time, minutes after submission, or empty; got {values[i]!r}",
            )
        elif not np.isnat(submit[i]):
            out[i] = (t - submit[i]).astype(np.int64) / 60.0
    return out


def _flag(value: Any, i: int, bad: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text not in _TRUE | _FALSE:
        bad(
            i,
            "interruptible",
            f"must be true/false, 1/0, yes/no or empty; got {value!r}",
        )
    return text in _TRUE


def jobs_to_slots(table: JobTable, series: CarbonSeries) -> tuple[PlanJobs, list[str]]:
    """The jobs in slot units of `series`; deadlines past its end are clipped (and a warning says so)."""
    submit = np.asarray(series.slot_of(table.submit), dtype=np.float64)
    duration = table.duration_min / series.step_min
    deadline = submit + table.deadline_min / series.step_min
    span = f"{iso(series.start)} .. {iso(series.end)}"
    outside = (submit < 0) | (submit >= series.n)
    late = ~outside & (submit + duration > series.n + 1e-9)
    errors = [
        _error(
            table.where[i],
            "submit_time",
            f"{iso(table.submit[i])} is outside the series ({span})",
        )
        for i in np.flatnonzero(outside).tolist()
    ]
    errors += [
        _error(
            table.where[i],
            "duration_min",
            f"submit_time + duration_min runs past the series end ({iso(series.end)})",
        )
        for i in np.flatnonzero(late).tolist()
    ]
    if errors:
        raise PlanInputError(errors)
    clipped = np.flatnonzero(deadline > series.n)
    warnings = []
    if clipped.size:
        names = ", ".join(_where(table.where[i]) for i in clipped[:5].tolist()) + (", ..." if clipped.size > 5 else "")
        warnings.append(f"{clipped.size} job deadline(s) run past the series end ({iso(series.end)}) and were clipped to it: {names}")
        deadline = np.minimum(deadline, series.n)
    jobs = PlanJobs(
        np.array(table.job_id, dtype=str),
        submit,
        duration,
        deadline,
        table.interruptible,
        table.power_w,
        float(series.step_min),
    )
    return jobs, warnings


def plan_request(
    series: CarbonSeries,
    jobs: JobTable | Sequence[dict[str, Any]],
    forecasts: Sequence[str] = ("perfect",),
    *,
    step_min: int | None = None,
    error: float = 0.05,
    seeds: int = 10,
    seed: int = 0,
    capacity: int | None = None,
    issued: IssuedForecasts | None = None,
    source_unit: str = "g_per_kwh",
) -> dict[str, Any]:
    """Plan `jobs` with run_now, perfect and each of `forecasts`; the output document (module docstring)."""
    kinds = ["perfect", *(k for k in FORECASTS if k in forecasts and k != "perfect")]
    unknown = sorted(set(forecasts) - set(FORECASTS))
    if unknown:
        raise ValueError(f"unknown forecast(s) {', '.join(unknown)}; known: {', '.join(FORECASTS)}")
    if "issued" in kinds and issued is None:
        raise ValueError("the issued forecast needs a file of issued forecasts")
    if seeds < 1 or not error >= 0:
        raise ValueError(f"seeds must be >= 1 and the forecast error >= 0; got seeds={seeds}, error={error}")
    grid = series if step_min is None else series.resample(step_min)
    table = jobs if isinstance(jobs, JobTable) else parse_job_dicts(jobs)
    planned, warnings = jobs_to_slots(table, grid)
    plans = {kind: [plan(grid.values, planned, f, capacity) for f in _forecasts(kind, grid, error, seeds, seed, issued)] for kind in kinds}
    baseline = plans["perfect"][0].baseline_total_kg
    strategies = {
        "run_now": {
            "emissions_kg": _sig(baseline),
            "saved_kg": 0.0,
            "saved_pct": 0.0,
            "runs": 1,
            "deadline_misses": 0,
            "mean_delay_min": 0.0,
        }
    }
    strategies |= {kind: _summary(runs, baseline, grid.step_min, capacity) for kind, runs in plans.items()}
    return {
        "series": {
            "start": iso(grid.start),
            "end": iso(grid.end),
            "step_min": grid.step_min,
            "source_step_min": series.step_min,
            "slots": grid.n,
            "unit": grid.unit,
            "source_unit": source_unit,
            "column": grid.name,
        },
        "settings": {
            "forecasts": kinds,
            "forecast_error": error,
            "seeds": seeds,
            "seed": seed,
            "capacity": capacity,
        },
        "jobs": len(planned),
        "flexible_jobs": int(planned.flexible.sum()),
        "baseline": {"emissions_kg": _sig(baseline)},
        "strategies": strategies,
        "plans": _job_plans(table, planned, grid, {kind: runs[0] for kind, runs in plans.items()}),
        "warnings": [*grid.notes, *warnings],
    }


def _forecasts(
    kind: str,
    grid: CarbonSeries,
    error: float,
    seeds: int,
    seed: int,
    issued: IssuedForecasts | None,
) -> list[Forecast]:
    """The forecast runs of one kind: one per seed stream for noisy, one otherwise."""
    if kind != "noisy":
        return [
            make_forecast(
                kind,
                grid.values,
                period_slots=1440 // grid.step_min,
                issued=issued,
                series=grid,
            )
        ]
    streams = np.random.SeedSequence(seed).spawn(seeds)
    return [make_forecast("noisy", grid.values, error=error, rng=np.random.default_rng(s)) for s in streams]


def _summary(runs: list[Plan], baseline: float, step_min: int, capacity: int | None) -> dict[str, Any]:
    kg = np.array([p.total_kg for p in runs])
    mean = float(kg.mean())
    saved_pct = 100.0 * (baseline - mean) / baseline if baseline > 0 else 0.0
    delay = np.mean([p.delay.mean() if len(p.delay) else 0.0 for p in runs])
    out = {
        "emissions_kg": _sig(mean),
        "saved_kg": _sig(baseline - mean),
        "saved_pct": round(saved_pct, 3),
        "runs": len(runs),
        "deadline_misses": sum(p.deadline_misses for p in runs),
        "mean_delay_min": round(float(delay) * step_min, 3),
    }
    if len(runs) > 1:
        out["emissions_kg_std"] = _sig(float(kg.std()))
    if capacity is not None:
        out["capacity_overflows"] = sum(p.capacity_overflows for p in runs)
    return out


def _job_plans(table: JobTable, jobs: PlanJobs, grid: CarbonSeries, shown: dict[str, Plan]) -> list[dict[str, Any]]:
    """Per job: its fields and each strategy's runs as [start, end] ISO pairs."""
    n = len(jobs)
    submit = iso(grid.time_of(jobs.submit)) if n else []
    deadline = iso(grid.time_of(np.nan_to_num(jobs.deadline))) if n else []
    runs = {}
    for kind, p in shown.items():
        starts, ends = (iso(grid.time_of(t)) if len(t) else [] for t in (p.run_start, p.run_end))
        bounds = np.searchsorted(p.run_job, np.arange(n + 1)).tolist()
        runs[kind] = [[[starts[k], ends[k]] for k in range(bounds[i], bounds[i + 1])] for i in range(n)]
    has_deadline = ~np.isnan(jobs.deadline)
    return [
        {
            "job_id": table.job_id[i],
            "submit_time": submit[i],
            "deadline": deadline[i] if has_deadline[i] else None,
            "duration_min": float(table.duration_min[i]),
            "interruptible": bool(table.interruptible[i]),
            "power_w": float(table.power_w[i]),
            "baseline_start": submit[i],
            "runs": {kind: r[i] for kind, r in runs.items()},
        }
        for i in range(n)
    ]


def _sig(x: float) -> float:
    """Six significant digits: kg figures span grams (1 W jobs) to tonnes."""
    return float(f"{x:.6g}")


def format_table(result: dict[str, Any]) -> str:
    lines = [f"{'strategy':<12} {'runs':>4} {'emissions_kg':>14} {'± std':>10} {'saved_kg':>12} {'saved_%':>8} {'delay_min':>10}"]
    for name, s in result["strategies"].items():
        std = f"{s['emissions_kg_std']:.4g}" if "emissions_kg_std" in s else ""
        lines.append(
            f"{name:<12} {s['runs']:>4} {s['emissions_kg']:>14.6g} {std:>10} {s['saved_kg']:>12.6g} {s['saved_pct']:>8.2f} {s['mean_delay_min']:>10.1f}"
        )
    series = result["series"]
    head = f"{result['jobs']:,} jobs ({result['flexible_jobs']:,} flexible), {series['start']} .. {series['end']} every {series['step_min']} min ({series['column']})"
    return "\n".join([head, *lines])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scheduler.plan",
        description="Choose job start times that minimise forecast carbon emissions.",
        epilog="run_now (the baseline) and perfect (the bound) are always planned.",
    )
    add = parser.add_argument
    add("--carbon", type=Path, required=True, metavar="SERIES.csv")
    add("--jobs", type=Path, required=True, metavar="JOBS.csv")
    add("--column", help="intensity column (default: the first numeric one)")
    add("--unit", default="g_per_kwh", choices=tuple(UNITS))
    add("--forecast", default="perfect", help=f"comma list of {','.join(FORECASTS)}")
    add("--forecast-file", type=Path, metavar="ISSUED.csv", help="for issued")
    add("--forecast-error", type=float, default=0.05, help="noisy: std / mean")
    add("--seeds", type=int, default=10, help="noisy: runs, one stream each")
    add("--seed", type=int, default=0, help="noisy: root seed of the streams")
    add("--step-min", type=int, help="planning step (default: the series' own)")
    add("--capacity", type=int, help="at most N jobs running in any slot")
    add("--out", help="JSON file ('-': stdout); without it, the table only")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.forecast.split(",") if k.strip()]
    unknown = ", ".join(sorted(set(kinds) - set(FORECASTS)))
    if unknown:
        parser.error(f"--forecast: unknown {unknown}; known: {', '.join(FORECASTS)}")
    if "issued" in kinds and args.forecast_file is None:
        parser.error("--forecast issued needs --forecast-file")
    if min(args.seeds, args.capacity or 1) < 1 or min(args.seed, args.forecast_error) < 0:
        parser.error("--seeds and --capacity must be >= 1; --seed, --forecast-error >= 0")
    try:
        if args.step_min is not None:
            check_step(args.step_min)
        series = read_series_csv(args.carbon, args.column, args.unit)
        table = read_jobs_csv(args.jobs)
        issued = read_issued_forecasts(args.forecast_file, unit=args.unit) if args.forecast_file else None
        result = plan_request(
            series,
            table,
            kinds,
            step_min=args.step_min,
            error=args.forecast_error,
            seeds=args.seeds,
            seed=args.seed,
            capacity=args.capacity,
            issued=issued,
            source_unit=args.unit,
        )
    except PlanInputError as exc:
        for e in exc.errors:
            print(f"error: {args.jobs.name}: {describe(e)}", file=sys.stderr)
        return 2
    except ValueError as exc:  # SeriesError and bad settings
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for warning in result["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    document = orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n"
    if args.out == "-":
        sys.stdout.write(document.decode())
        return 0
    if args.out:
        try:
            Path(args.out).write_bytes(document)
        except OSError as exc:
            print(f"error: cannot write {args.out} ({exc})", file=sys.stderr)
            return 2
    print(format_table(result))
    if args.out:
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
