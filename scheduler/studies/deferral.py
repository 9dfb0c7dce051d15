"""The deferral study: when to run jobs, compared in the simulator on real carbon signals.

One set of jobs runs in every region under each strategy; the run-now schedule is the baseline. The
parts: scheduler/studies/deferral_regions.py (each region's signal and where it comes from),
scheduler/studies/deferral_schedules.py (the jobs, the study window, the schedules and their metrics) and
scheduler/studies/deferral_report.py (the document's figures, table and files). This module runs the
strategies in each region and assembles the document.

**Strategies.** A decision about a job submitted in slot s is made at the start of slot s with what is
known then: actual values before s, a forecast from s on (scheduler/timeshift/forecast.py). Emissions are always
measured on the actual signal, integrating it over the job's runs.
- run_now: FAST at submit (the baseline).
- threshold: the seed's rule, `timeshift.action`. The band compares the latest published reading (slot
  s - 1) with `bands` (percentiles of the `band_window_h` hours before s by default); high -> ECO now
  for non-critical jobs (FAST when ECO would miss the deadline), medium -> flexible jobs go to the
  greenest window before their deadline by `threshold_forecast` (persistence by default), FAST.
- forecast_<kind>: every flexible job to its forecast-optimal start (`planner.plan`: one block, or the
  cheapest slots when interruptible), FAST; critical and normal jobs run now, FAST. The noisy forecast
  runs `seeds` times, each its own stream: its figures are the mean, with a sample std. "issued" only
  where issued forecasts exist (elsewhere skipped, with a note).
- oracle: the perfect forecast with every flexible job allowed to interrupt: a lower bound on the
  forecast strategies' CO2 (same modes, a superset of their choices); not on threshold's, whose ECO
  runs use different energy.

**Metrics** per region x strategy (scheduler/studies/deferral_schedules.py's `measure`): co2_kg, saved_kg /
saved_pct against run_now, deadline_misses among feasible_deadlines, delay mean and p95 in minutes,
energy_kwh, cost (energy x the reference price series per clock hour, counted from the series start and
wrapping, as scheduler/sim/signal_clock.py does: the time shift moves a job to other prices, the price itself is
not the region's), deferred_jobs, eco_jobs, critical_moved.

Randomness: one root SeedSequence per run; workload, job draws and each region's noise are spawned
children, so a region's figures do not depend on which other regions ran.

The document (`run_deferral`): study, schema_version, seed, config, units, jobs (counts, server,
mean runtime and power), regions {name: signal, source, unit, start, end, step_min, mean_g_per_kwh,
issued_forecasts, strategies {name: metrics}}, table (one row per region x strategy: region, strategy,
metrics), notes, elapsed_s (wall time, the only field that differs between two runs of one config).
"""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from scheduler.core import states
from scheduler.core.errors import EvaluationCancelled
from scheduler.core.fleet import Fleet
from scheduler.sim.config import DEFERRAL_REGIONS, DeferralConfig, resolve_seed
from scheduler.studies import deferral_regions
from scheduler.studies.deferral_regions import SOURCES, Region, check_deferral, load_region
from scheduler.studies.deferral_report import (
    STUDY_NOTES,
    UNITS,
    format_table,
    jobs_view,
    region_notes,
    region_view,
    summarise,
    write_outputs,
)
from scheduler.studies.deferral_schedules import (
    Jobs,
    build_jobs,
    build_outcome,
    measure,
    place,
    threshold_modes,
)
from scheduler.timeshift.forecast import Forecast, make_forecast

__all__ = ["EvaluationCancelled", "check_deferral", "format_table", "run_deferral", "write_outputs"]
"""What web/ and scheduler/cli/evaluate.py import from here; the parts live in the deferral_* modules."""
SCHEMA_VERSION = 1


class Ticker:
    """Counts planned jobs for progress(done, total, label) and stops the run when cancel() says so."""

    def __init__(self, total: int, progress: Callable[[int, int, str], None] | None, cancel: Callable[[], bool] | None):
        self.total, self.done, self.label = total, 0, ""
        self._progress, self._cancel = progress, cancel

    def __call__(self, jobs: int) -> None:
        self.done += jobs
        if self._cancel is not None and self._cancel():
            raise EvaluationCancelled(f"cancelled during {self.label} after {self.done:,} of {self.total:,} job plans")
        if self._progress is not None:
            self._progress(self.done, self.total, self.label)


def strategy_runs(config: DeferralConfig, region: str) -> int:
    """Schedules computed for a region: run_now, threshold, each forecast (noisy: `seeds`), oracle."""
    kinds = [k for k in config.forecasts if k != "issued" or SOURCES[region].issued is not None]
    return 3 + len(kinds) + (config.seeds - 1) * ("noisy" in kinds)


def study_region(
    config: DeferralConfig, jobs: Jobs, region: Region, energy_price: np.ndarray, seq: np.random.SeedSequence, tick: Ticker
) -> tuple[dict[str, list[dict[str, float]]], np.datetime64]:
    """Every strategy's metrics (a list: one per run) in one region, and the first arrival's time."""
    series, actual, n = region.series, region.series.values, len(jobs)
    frame, first = place(jobs, series, None if config.start is None else np.datetime64(config.start), max(config.band_window_h, 24))
    price = energy_price[(np.arange(series.n) * series.step_min // 60) % len(energy_price)]  # (n_slots,) the clock hour's price
    noisy_seq, threshold_seq = seq.spawn(2)

    def forecast(kind: str, rng: np.random.Generator | None = None) -> Forecast:
        period = max(1440 // series.step_min, 1)
        return make_forecast(kind, actual, error=config.forecast_error, rng=rng, period_slots=period, issued=region.issued, series=series)

    def schedule(label: str, mode: np.ndarray, moved: np.ndarray, interruptible: np.ndarray, fc: Forecast | None) -> dict[str, float]:
        tick.label = f"{region.name} {label}"
        return measure(jobs, frame, build_outcome(frame, mode, moved, interruptible, actual, fc, tick), actual, price)

    fast, flexible, none = (np.zeros(n, np.int8), jobs.urgency == states.FLEXIBLE, np.zeros(n, bool))
    out = {"run_now": [schedule("run_now", fast, none, none, None)]}
    act = threshold_modes(config, jobs, frame, actual)
    rng = np.random.default_rng(threshold_seq) if config.threshold_forecast == "noisy" else None
    out["threshold"] = [
        schedule(
            "threshold",
            (act == states.RUN_ECO).astype(np.int8),
            act == states.DEFER,
            jobs.interruptible,
            forecast(config.threshold_forecast, rng),
        )
    ]
    for kind in config.forecasts:
        if kind == "issued" and region.issued is None:
            continue
        rngs = [np.random.default_rng(s) for s in noisy_seq.spawn(config.seeds)] if kind == "noisy" else [None]
        out[f"forecast_{kind}"] = [schedule(f"forecast_{kind}", fast, flexible, jobs.interruptible, forecast(kind, r)) for r in rngs]
    out["oracle"] = [schedule("oracle", fast, flexible, flexible, forecast("perfect"))]
    return out, first


def run_deferral(
    config: DeferralConfig,
    fleet: Fleet,
    energy_price: np.ndarray,
    *,
    data_dir: Path,
    cache_dir: Path | None = None,
    shared_dir: Path | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """The study's document (see the module docstring); progress(done, total, label) counts job plans,
    cancel() returning True stops it with EvaluationCancelled between two chunks of jobs."""
    started = time.perf_counter()
    seed = resolve_seed(config.seed)
    config = config.model_copy(update={"seed": seed})
    shared_dir = deferral_regions.SHARED_DATA_DIR if shared_dir is None else shared_dir
    check_deferral(config, data_dir, shared_dir)
    workload_seq, jobs_seq, noise_seq = np.random.SeedSequence(seed).spawn(3)
    jobs = build_jobs(config, fleet, [np.random.default_rng(workload_seq), np.random.default_rng(jobs_seq)], data_dir)
    region_seqs = noise_seq.spawn(len(DEFERRAL_REGIONS))  # by the region's place in DEFERRAL_REGIONS, not in the request
    tick = Ticker(len(jobs) * sum(strategy_runs(config, r) for r in config.regions), progress, cancel)
    regions, table, notes = {}, [], []
    for name in config.regions:
        region = load_region(name, config.basis, data_dir, shared_dir, cache_dir)
        runs, first = study_region(config, jobs, region, energy_price, region_seqs[DEFERRAL_REGIONS.index(name)], tick)
        baseline = runs["run_now"][0]["co2_kg"]
        strategies = {label: summarise(r, baseline) for label, r in runs.items()}
        regions[name] = region_view(region, config, first, jobs, strategies)
        table += [{"region": name, "strategy": label, **figures} for label, figures in strategies.items()]
        notes += region_notes(config, region)
    return {
        "study": "deferral",
        "schema_version": SCHEMA_VERSION,
        "seed": seed,
        "config": config.model_dump(mode="json"),
        "units": UNITS,
        "jobs": jobs_view(config, jobs, fleet),
        "regions": regions,
        "table": table,
        "notes": [*STUDY_NOTES, *notes],
        "elapsed_s": round(time.perf_counter() - started, 3),
    }
