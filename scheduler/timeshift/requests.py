"""Plan when jobs run against a carbon series: `plan_request`, shared by `python -m scheduler plan`
(scheduler/cli/plan.py) and POST /plan (web/routes/plan.py), so both produce the same document.

JOBS.csv's fields and their checks are scheduler/timeshift/inputs.py's (`job_id, submit_time, duration_min`,
optionally `deadline`, `interruptible`, `power_w`); the series is read and resampled by the rule of
scheduler/data/carbon_series.py; the jobs are planned by scheduler/timeshift/planner.py. This module only joins them.

The output always has `run_now` (every job starts at submission: the baseline) and `perfect` (the
actual future as the forecast: the bound; with --capacity jobs are placed one by one, greedily, so
another forecast can now and then leave room that suits later jobs better) besides the forecasts asked for. The noisy forecast runs once
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

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from scheduler.data.carbon_series import CarbonSeries, iso
from scheduler.data.issued_forecasts import IssuedForecasts
from scheduler.timeshift.forecast import FORECASTS, Forecast, make_forecast
from scheduler.timeshift.inputs import (
    JobTable,
    jobs_to_slots,
    parse_job_dicts,
)
from scheduler.timeshift.planner import Plan, PlanJobs, Tick, plan


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
    admit: Callable[[PlanJobs, int, int], None] | None = None,
    tick: Tick | None = None,
) -> dict[str, Any]:
    """Plan `jobs` with run_now, perfect and each of `forecasts`; the output document (module docstring).

    `admit(jobs, runs, strategies)`, once the jobs are on the grid and before any is planned, may refuse it
    (POST /plan checks its cost there: scheduler/timeshift/budget.py); `tick` is the planner's, called
    between chunks of jobs, and may stop it."""
    kinds = ["perfect", *(k for k in FORECASTS if k in forecasts and k != "perfect")]
    unknown = sorted(set(forecasts) - set(FORECASTS))
    if unknown:
        raise ValueError(f"unknown forecast(s) {', '.join(unknown)}; known: {', '.join(FORECASTS)}")
    if "issued" in kinds and issued is None:
        raise ValueError("the issued forecast needs a file of issued forecasts")
    if seeds < 1 or not 0 <= error < math.inf:
        raise ValueError(f"seeds must be >= 1 and the forecast error a finite number >= 0; got seeds={seeds}, error={error}")
    grid = series if step_min is None else series.resample(step_min)
    table = jobs if isinstance(jobs, JobTable) else parse_job_dicts(jobs)
    planned, warnings = jobs_to_slots(table, grid, series)
    if admit is not None:
        admit(planned, forecast_runs(kinds, seeds), len(kinds))
    shown: dict[str, Plan] = {}
    figures: dict[str, list[_Figures]] = {}
    for kind in kinds:
        # One forecast and one plan alive at a time: a hundred noisy runs are a hundred summaries, not plans.
        for f in _forecasts(kind, grid, error, seeds, seed, issued):
            p = plan(grid.values, planned, f, capacity, tick)
            shown.setdefault(kind, p)
            figures.setdefault(kind, []).append(_Figures.of(p))
    baseline = shown["perfect"].baseline_total_kg
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
    strategies |= {kind: _summary(runs, baseline, grid.step_min, capacity) for kind, runs in figures.items()}
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
        "settings": {"forecasts": kinds, "forecast_error": error, "seeds": seeds, "seed": seed, "capacity": capacity},
        "jobs": len(planned),
        "flexible_jobs": int(planned.flexible.sum()),
        "baseline": {"emissions_kg": _sig(baseline)},
        "strategies": strategies,
        "plans": _job_plans(table, planned, grid, shown),
        "warnings": [*grid.notes, *warnings],
    }


def forecast_runs(kinds: Sequence[str], seeds: int) -> int:
    """Plans made for `kinds`: one per forecast, `seeds` for noisy."""
    return sum(seeds if kind == "noisy" else 1 for kind in kinds)


def _forecasts(kind: str, grid: CarbonSeries, error: float, seeds: int, seed: int, issued: IssuedForecasts | None) -> Iterator[Forecast]:
    """The forecast runs of one kind, made one at a time: one per seed stream for noisy, one otherwise."""
    if kind != "noisy":
        yield make_forecast(kind, grid.values, period_slots=1440 // grid.step_min, issued=issued, series=grid)
        return
    for stream in np.random.SeedSequence(seed).spawn(seeds):
        yield make_forecast("noisy", grid.values, error=error, rng=np.random.default_rng(stream))


class _Figures(NamedTuple):
    """What the summary needs of one run."""

    total_kg: float
    mean_delay: float
    deadline_misses: int
    capacity_overflows: int

    @classmethod
    def of(cls, p: Plan) -> "_Figures":
        return cls(p.total_kg, float(p.delay.mean()) if len(p.delay) else 0.0, p.deadline_misses, p.capacity_overflows)


def _summary(runs: list[_Figures], baseline: float, step_min: int, capacity: int | None) -> dict[str, Any]:
    kg = np.array([p.total_kg for p in runs])
    mean = float(kg.mean())
    saved_pct = 100.0 * (baseline - mean) / baseline if baseline > 0 else 0.0
    delay = np.mean([p.mean_delay for p in runs])
    out = {
        "emissions_kg": _sig(mean),
        "saved_kg": _sig(baseline - mean, scale=baseline),
        "saved_pct": round(saved_pct, 3),
        "runs": len(runs),
        "deadline_misses": sum(p.deadline_misses for p in runs),
        "mean_delay_min": round(float(delay) * step_min, 3),
    }
    if len(runs) > 1:
        out["emissions_kg_std"] = _sig(float(kg.std()), scale=mean)
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


NOISE = 1e-9
"""A figure below this share of the figures it comes from is rounding noise (sums of the same terms in
another order differ by ~1e-16 of them): it is 0, not 2.77e-17."""


def _sig(x: float, scale: float | None = None) -> float:
    """Six significant digits: kg figures span grams (1 W jobs) to tonnes. Given the `scale` of the figures
    `x` was computed from (a difference's operands, a spread's mean), noise below NOISE of it is 0."""
    if scale is not None and abs(x) <= NOISE * abs(scale):
        return 0.0
    return float(f"{x:.6g}")
