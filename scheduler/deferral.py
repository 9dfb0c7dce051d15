"""The deferral study: when to run jobs, compared in the simulator on real carbon signals.

One set of jobs runs in every region under each strategy; the run-now schedule is the baseline.

**Signals.** ES, NO, US-CAL-CISO and BR: the shipped Electricity Maps hourly *average* intensity,
2021-2023 (`basis` direct or lca). DE (15-min), GB and FR (30-min): lets-wait-awhile's 2020 *average*
intensity from ENTSO-E generation; CAISO_NORTH: WattTime's 5-min *marginal* signal (MOER, lbs/MWh
x 0.45359237 -> g/kWh), June-July 2023, the only region with issued forecasts (every 5 min, 5..65 min
ahead). The last four live in ../shared/data, which is never shipped: asking for them without it is a
ValueError naming the path. A region's study window is `start` (default: its series start plus the
history the bands need, max(band_window_h, 24) h) through the last deadline; a window outside the
series is a ValueError naming both.

**Jobs.** Lengths and cpu from the workload (the task trace, or GAIA's Azure sample: its real lengths);
arrivals are mapped linearly onto [start, start + span_h] (the task trace has no times of its own, and a
trace's clock has no time of day that would match a grid's), the same jobs in every region. Each job is
critical, normal or flexible (`urgency_mix`), and a flexible one interruptible with
`interruptible_share`, drawn from the run's seed. Deadlines (latest finish): critical = submit + FAST
runtime (no room at all); normal = submit + ECO runtime (they may be slowed, never deferred); flexible =
submit + FAST runtime + slack_h. Every deadline is feasible: FAST at submit meets it.

**Energy.** Every job runs on the fleet's middle server (Server 5 in the shipped fleet: 16 cores at
cpu_rate 2.4, the energy model's reference machine, so a job's runtime is its base runtime); its power
in each mode is `energy.power_w` there, ECO's runtime is FAST's x ECO.slowdown. No capacity limit: the
study isolates *when*; contention is the placement study's subject.

**Strategies.** A decision about a job submitted in slot s is made at the start of slot s with what is
known then: actual values before s, a forecast from s on (scheduler/forecast.py). Emissions are always
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

**Metrics** per region x strategy: co2_kg, saved_kg / saved_pct against run_now, deadline_misses among
feasible_deadlines, delay (finish - (submit + FAST runtime)) mean and p95 in minutes, energy_kwh, cost
(energy x the reference price series per clock hour, counted from the series start and wrapping, as
scheduler/clock.py does: the time shift moves a job to other prices, the price itself is not the
region's), deferred_jobs (started later or interrupted), eco_jobs, critical_moved (deferred or slowed).

Randomness: one root SeedSequence per run; workload, job draws and each region's noise are spawned
children, so a region's figures do not depend on which other regions ran.

The document (`run_deferral`): study, schema_version, seed, config, units, jobs (counts, server,
mean runtime and power), regions {name: signal, source, unit, start, end, step_min, mean_g_per_kwh,
issued_forecasts, strategies {name: metrics}}, table (one row per region x strategy: region, strategy,
metrics), notes, elapsed_s (wall time, the only field that differs between two runs of one config).
"""

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from scheduler import planner, timeshift, workloads
from scheduler.carbon_series import (
    CarbonSeries,
    IssuedForecasts,
    iso,
    read_issued_forecasts,
    read_series_csv,
)
from scheduler.energy import (
    ECO,
    MODES,
    build_machines,
    load_power_curve,
    power_w,
    runtime_min,
)
from scheduler.fleet import Fleet
from scheduler.forecast import Forecast, make_forecast
from scheduler.grid import load_grid
from scheduler.settings import ROOT
from scheduler.sim_config import (
    DEFERRAL_REGIONS,
    DeferralConfig,
    EvaluationCancelled,
    resolve_seed,
)

SHARED_DATA_DIR = ROOT.parent / "shared" / "data"
SCHEMA_VERSION = 1
CHUNK_JOBS = 2_000
"""Jobs planned per planner call: progress and cancel() are checked between chunks."""
EDGE_CHUNK = 2_048
"""Decision slots whose band thresholds are computed together (x the window: 33 MB at 5-min slots)."""
TOL_SLOTS = 1e-6
"""Slack in slot arithmetic (float sums of minutes / step) below which a time counts as on time."""
UNITS = {
    "co2": "kg CO2eq", "energy": "kWh", "delay": "minutes", "intensity": "gCO2eq/kWh",
    "cost": "price x kWh, in the reference price series' unitless currency",
}  # fmt: skip


@dataclass(frozen=True)
class Source:
    """Where a region's signal comes from; `path` and `issued` are relative to ../shared/data."""

    signal: str  # "average" or "marginal"
    label: str
    path: str | None = None  # None: a shipped Electricity Maps zone (dataset_rl/grid/<zone>.csv)
    unit: str = "g_per_kwh"
    issued: str | None = None


_LWA, _WT = "grid-carbon/lets-wait-awhile-2020", "grid-carbon/watttime-caiso-north-2023"
_EM, _LWA_LABEL = (
    "Electricity Maps, 2021-2023",
    "lets-wait-awhile, from ENTSO-E generation, 2019-12-20..2021-01-09",
)
SOURCES: dict[str, Source] = {
    "ES": Source("average", _EM), "NO": Source("average", _EM), "US-CAL-CISO": Source("average", _EM), "BR": Source("average", _EM),
    "DE": Source("average", _LWA_LABEL, f"{_LWA}/ger_ci.csv"),
    "GB": Source("average", _LWA_LABEL, f"{_LWA}/gb_ci.csv"),
    "FR": Source("average", _LWA_LABEL, f"{_LWA}/fr_ci.csv"),
    "CAISO_NORTH": Source("marginal", "WattTime MOER (CAISO North), 2023-06-08..07-08, from lbs/MWh", f"{_WT}/watttime2023_caiso-north_actual.csv",
                          "lbs_per_mwh", f"{_WT}/watttime2023_caiso-north_forecast.csv"),
}  # fmt: skip
assert tuple(SOURCES) == DEFERRAL_REGIONS


@dataclass(frozen=True)
class Region:
    """A region's actual signal and, where they exist, the forecasts issued for it."""

    name: str
    series: CarbonSeries  # actual intensity, g/kWh
    issued: IssuedForecasts | None


@dataclass(frozen=True)
class Jobs:
    """The study's jobs, the same in every region; times in minutes from the first arrival."""

    arrival_min: np.ndarray  # (n,)
    fast_min: np.ndarray  # (n,) runtime in FAST
    deadline_min: np.ndarray  # (n,) latest finish, from the first arrival
    urgency: np.ndarray  # (n,) int8, timeshift.URGENCIES
    interruptible: np.ndarray  # (n,) bool
    power_w: np.ndarray  # (n, 2) watts in FAST and ECO (energy.MODES order)

    def __len__(self) -> int:
        return len(self.arrival_min)


@dataclass(frozen=True)
class Frame:
    """The jobs on one region's slot grid."""

    submit: np.ndarray  # (n,) slots
    fast: np.ndarray  # (n,) FAST runtime in slots
    deadline: np.ndarray  # (n,) slots
    step_min: int


@dataclass(frozen=True)
class Outcome:
    """A schedule: each job's mode and its runs [a, b) in slots (a job has one run unless interrupted)."""

    mode: np.ndarray  # (n,) int8 index into MODES
    job: np.ndarray  # (r,) job of each run
    a: np.ndarray  # (r,)
    b: np.ndarray  # (r,)


def _shown(path: Path) -> str:
    return str(Path("..", *path.relative_to(ROOT.parent).parts)) if path.is_relative_to(ROOT.parent) else str(path)


def region_files(name: str, data_dir: Path, shared_dir: Path) -> list[Path]:
    source = SOURCES[name]
    if source.path is None:
        return [data_dir / "grid" / f"{name}.csv"]
    return [shared_dir / p for p in (source.path, source.issued) if p is not None]


def check_deferral(config: DeferralConfig, data_dir: Path, shared_dir: Path | None = None) -> None:
    """ValueError naming the missing file when a region's data is not there (cheap: file checks)."""
    shared_dir = SHARED_DATA_DIR if shared_dir is None else shared_dir
    for name in config.regions:
        for path in region_files(name, data_dir, shared_dir):
            if not path.is_file():
                where = "../shared/data, which is never shipped" if SOURCES[name].path else "the data directory"
                raise ValueError(f"region {name} needs {_shown(path)} (from {where}); it is absent")
    if config.workload == "gaia-azure" and config.jobs > workloads.GAIA_SAMPLE_ROWS:
        raise ValueError(f"gaia-azure ships {workloads.GAIA_SAMPLE_ROWS:,} jobs; the deferral study takes at most that many from it")


def load_region(
    name: str,
    basis: str,
    data_dir: Path,
    shared_dir: Path,
    cache_dir: Path | None = None,
) -> Region:
    source = SOURCES[name]
    if source.path is None:
        grid = load_grid(data_dir, cache_dir, (name,))
        start = grid.start.astype("datetime64[m]")
        return Region(
            name,
            CarbonSeries(start, 60, grid.intensity(basis)[0].astype(np.float64), name=name),
            None,
        )
    series = replace(read_series_csv(shared_dir / source.path, unit=source.unit), name=name)
    issued = read_issued_forecasts(shared_dir / source.issued, unit=source.unit) if source.issued else None
    return Region(name, series, issued)


def build_jobs(
    config: DeferralConfig,
    fleet: Fleet,
    streams: list[np.random.Generator],
    data_dir: Path,
) -> Jobs:
    """The jobs from the workload's stream (streams[0]) and the urgency draws' (streams[1])."""
    n = config.jobs
    if config.workload == "task":
        wl = workloads.task_trace(data_dir, n, fleet, streams[0])
    else:
        wl = workloads.gaia(config.workload, n, fleet, streams[0], data_dir)
    span = float(wl.arrival_min[-1] - wl.arrival_min[0])
    arrival = (wl.arrival_min - wl.arrival_min[0]) * (config.span_h * 60.0 / span if span > 0 else 0.0)
    curve = load_power_curve(data_dir) if config.power_curve == "specpower" else None
    machines, work, server = (
        build_machines(fleet, curve),
        wl.work(),
        fleet.n_servers // 2,
    )
    fast = runtime_min(machines, work)[:, server]
    power = np.stack([power_w(machines, work, mode)[:, server] for mode in MODES], axis=1)
    urgency = streams[1].choice(3, size=n, p=np.asarray(config.urgency_mix) / sum(config.urgency_mix)).astype(np.int8)
    interruptible = (streams[1].random(n) < config.interruptible_share) & (urgency == timeshift.FLEXIBLE)
    room = np.select(
        [urgency == timeshift.CRITICAL, urgency == timeshift.NORMAL],
        [fast, fast * ECO.slowdown],
        fast + config.slack_h * 60.0,
    )
    return Jobs(arrival, fast, arrival + room, urgency, interruptible, power)


def place(jobs: Jobs, series: CarbonSeries, start: np.datetime64 | None, history_h: int) -> tuple[Frame, np.datetime64]:
    """The jobs on the region's grid from `start` (default: the series start + history_h, on the hour);
    ValueError unless history before and every deadline after fit inside the series."""
    if start is None:
        earliest = series.start + np.timedelta64(history_h * 60, "m")
        first = np.datetime64(earliest, "h") + np.timedelta64(int(earliest > np.datetime64(earliest, "h")), "h")  # on the hour
    else:
        first = np.datetime64(start, "m")
    s0, step = float(series.slot_of(first)), series.step_min
    frame = Frame(
        s0 + jobs.arrival_min / step,
        jobs.fast_min / step,
        s0 + jobs.deadline_min / step,
        step,
    )
    need_from = first - np.timedelta64(history_h * 60, "m")
    need_to = series.time_of(float(np.ceil(frame.deadline.max())) if len(jobs) else s0)
    if need_from < series.start or need_to > series.end:
        raise ValueError(
            f"{series.name}: the study needs {iso(need_from)} .. {iso(need_to)} ({history_h} h of history, then the jobs' deadlines) "
            f"inside its series, {iso(series.start)} .. {iso(series.end)}; choose another start or a shorter span_h / slack_h"
        )
    return frame, first


def threshold_modes(config: DeferralConfig, jobs: Jobs, frame: Frame, actual: np.ndarray) -> np.ndarray:
    """timeshift.action for every job: the band of the latest reading against the band policy's
    thresholds over the band window (in slots) before the decision slot."""
    policy = timeshift.BandPolicy.parse(config.bands, config.band_window_h)
    window = int(np.ceil(policy.window_h * 60 / frame.step_min))
    in_slots = timeshift.BandPolicy(policy.kind, policy.low, policy.high, window)
    s = np.floor(frame.submit).astype(np.int64)
    decision, row = np.unique(s, return_inverse=True)
    low, high = np.empty(len(decision)), np.empty(len(decision))
    for lo in range(0, len(decision), EDGE_CHUNK):  # bounds the (decisions, window) history array
        part = slice(lo, lo + EDGE_CHUNK)
        low[part], high[part] = in_slots.edges(actual, decision[part])
    band = in_slots.band(actual[decision - 1], low, high)[row]
    can_wait = frame.deadline - frame.submit > frame.fast + TOL_SLOTS
    act = timeshift.action(band, jobs.urgency, can_wait)
    eco_late = frame.submit + frame.fast * ECO.slowdown > frame.deadline + TOL_SLOTS
    act[(act == timeshift.RUN_ECO) & eco_late] = timeshift.RUN_FAST
    return act


def planned(
    frame: Frame,
    rows: np.ndarray,
    interruptible: np.ndarray,
    actual: np.ndarray,
    forecast: Forecast,
    tick: Callable[[int], None],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs (job, a, b) of the jobs `rows`, planned with `forecast` in chunks (tick(jobs) after each)."""
    job, a, b = [np.empty(0, np.int64)], [np.empty(0)], [np.empty(0)]
    for lo in range(0, len(rows), CHUNK_JOBS):
        part = rows[lo : lo + CHUNK_JOBS]
        plan_jobs = planner.PlanJobs(
            job_id=part.astype(str), submit=frame.submit[part], duration=frame.fast[part], deadline=frame.deadline[part],
            interruptible=interruptible[lo : lo + CHUNK_JOBS], power_w=np.ones(len(part)), step_min=float(frame.step_min),
        )  # fmt: skip
        result = planner.plan(actual, plan_jobs, forecast)
        job.append(part[result.run_job])
        a.append(result.run_start)
        b.append(result.run_end)
        tick(len(part))
    return np.concatenate(job), np.concatenate(a), np.concatenate(b)


def build_outcome(
    frame: Frame,
    mode: np.ndarray,
    moved: np.ndarray,
    interruptible: np.ndarray,
    actual: np.ndarray,
    forecast: Forecast | None,
    tick: Callable[[int], None],
) -> Outcome:
    """Jobs not `moved` run at submit in their `mode`; the `moved` ones (FAST) where the planner puts
    them with `forecast`, as one block or, when `interruptible`, in the cheapest slots."""
    rows = np.flatnonzero(moved)
    assert forecast is not None or not rows.size, "jobs to move need a forecast"
    runs = planned(frame, rows, interruptible[rows], actual, forecast, tick) if forecast is not None else (rows, np.empty(0), np.empty(0))
    tick(len(moved) - rows.size)
    now = np.flatnonzero(~moved)
    length = frame.fast[now] * np.where(mode[now] == 1, ECO.slowdown, 1.0)
    job = np.concatenate([now, runs[0]])
    a = np.concatenate([frame.submit[now], runs[1]])
    b = np.concatenate([frame.submit[now] + length, runs[2]])
    order = np.lexsort((a, job))
    return Outcome(mode.astype(np.int8), job[order], a[order], b[order])


def measure(jobs: Jobs, frame: Frame, out: Outcome, actual: np.ndarray, price: np.ndarray) -> dict[str, float]:
    """Metrics of one schedule; CO2 on the actual signal: W x (g/kWh x h) / 1e6 = kg."""
    n, step_h = len(jobs), frame.step_min / 60.0
    power = jobs.power_w[np.arange(n), out.mode]  # (n,)
    run_power = power[out.job]
    finish = np.full(n, -np.inf)
    np.maximum.at(finish, out.job, out.b)
    first = np.full(n, np.inf)
    np.minimum.at(first, out.job, out.a)
    ran = np.bincount(out.job, weights=out.b - out.a, minlength=n)
    length = frame.fast * np.where(out.mode == 1, ECO.slowdown, 1.0)
    assert np.allclose(ran, length, rtol=1e-9, atol=TOL_SLOTS), "a schedule must run every job for its whole runtime"
    moved = (first > frame.submit + TOL_SLOTS) | (finish > first + length + TOL_SLOTS)
    feasible = frame.deadline >= frame.submit + frame.fast - TOL_SLOTS
    delay = (finish - frame.submit - frame.fast) * frame.step_min
    delay[np.abs(delay) < 1e-6] = 0.0  # float noise of slot arithmetic, not a delay
    critical = jobs.urgency == timeshift.CRITICAL
    return {
        "co2_kg": float((run_power * planner.integral(actual, out.a, out.b)).sum() * step_h / 1e6),
        "deadline_misses": int((feasible & (finish > frame.deadline + TOL_SLOTS)).sum()),
        "feasible_deadlines": int(feasible.sum()),
        "delay_mean_min": float(delay.mean()) if n else 0.0,
        "delay_p95_min": float(np.percentile(delay, 95)) if n else 0.0,
        "energy_kwh": float((power * ran).sum() * step_h / 1000.0),
        "cost": float((run_power * planner.integral(price, out.a, out.b)).sum() * step_h / 1000.0),
        "deferred_jobs": int(moved.sum()),
        "eco_jobs": int((out.mode == 1).sum()),
        "critical_moved": int((critical & (moved | (out.mode != 0))).sum()),
    }


class Ticker:
    """Counts planned jobs for progress(done, total, label) and stops the run when cancel() says so."""

    def __init__(
        self,
        total: int,
        progress: Callable[[int, int, str], None] | None,
        cancel: Callable[[], bool] | None,
    ):
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
    config: DeferralConfig,
    jobs: Jobs,
    region: Region,
    energy_price: np.ndarray,
    seq: np.random.SeedSequence,
    tick: Ticker,
) -> tuple[dict[str, list[dict[str, float]]], np.datetime64]:
    """Every strategy's metrics (a list: one per run) in one region, and the first arrival's time."""
    series, actual, n = region.series, region.series.values, len(jobs)
    frame, first = place(
        jobs,
        series,
        None if config.start is None else np.datetime64(config.start),
        max(config.band_window_h, 24),
    )
    price = energy_price[(np.arange(series.n) * series.step_min // 60) % len(energy_price)]  # (n_slots,) the clock hour's price
    noisy_seq, threshold_seq = seq.spawn(2)

    def forecast(kind: str, rng: np.random.Generator | None = None) -> Forecast:
        period = max(1440 // series.step_min, 1)
        return make_forecast(
            kind,
            actual,
            error=config.forecast_error,
            rng=rng,
            period_slots=period,
            issued=region.issued,
            series=series,
        )

    def schedule(
        label: str,
        mode: np.ndarray,
        moved: np.ndarray,
        interruptible: np.ndarray,
        fc: Forecast | None,
    ) -> dict[str, float]:
        tick.label = f"{region.name} {label}"
        return measure(
            jobs,
            frame,
            build_outcome(frame, mode, moved, interruptible, actual, fc, tick),
            actual,
            price,
        )

    fast, flexible, none = (
        np.zeros(n, np.int8),
        jobs.urgency == timeshift.FLEXIBLE,
        np.zeros(n, bool),
    )
    out = {"run_now": [schedule("run_now", fast, none, none, None)]}
    act = threshold_modes(config, jobs, frame, actual)
    rng = np.random.default_rng(threshold_seq) if config.threshold_forecast == "noisy" else None
    out["threshold"] = [
        schedule(
            "threshold",
            (act == timeshift.RUN_ECO).astype(np.int8),
            act == timeshift.DEFER,
            jobs.interruptible,
            forecast(config.threshold_forecast, rng),
        )
    ]
    for kind in config.forecasts:
        if kind == "issued" and region.issued is None:
            continue
        rngs = [np.random.default_rng(s) for s in noisy_seq.spawn(config.seeds)] if kind == "noisy" else [None]
        out[f"forecast_{kind}"] = [
            schedule(
                f"forecast_{kind}",
                fast,
                flexible,
                jobs.interruptible,
                forecast(kind, r),
            )
            for r in rngs
        ]
    out["oracle"] = [schedule("oracle", fast, flexible, flexible, forecast("perfect"))]
    return out, first


def summarise(runs: list[dict[str, float]], baseline_kg: float) -> dict[str, float]:
    """One strategy's figures: the mean over its runs (several for the noisy forecast), sample std of
    CO2 and of the saving; misses and moved critical jobs are the worst run's."""
    co2 = np.array([r["co2_kg"] for r in runs])
    saved_pct = (baseline_kg - co2) / baseline_kg * 100.0 if baseline_kg > 0 else np.zeros(len(runs))
    ddof = 1 if len(runs) > 1 else 0
    out: dict[str, float] = {
        "co2_kg": float(co2.mean()), "co2_kg_std": float(co2.std(ddof=ddof)),
        "saved_kg": float(baseline_kg - co2.mean()), "saved_pct": float(saved_pct.mean()), "saved_pct_std": float(saved_pct.std(ddof=ddof)),
    }  # fmt: skip
    for key in ("deadline_misses", "feasible_deadlines", "critical_moved"):
        out[key] = max(r[key] for r in runs)
    for key in (
        "delay_mean_min",
        "delay_p95_min",
        "energy_kwh",
        "cost",
        "deferred_jobs",
        "eco_jobs",
    ):
        values = [r[key] for r in runs]
        out[key] = values[0] if len(values) == 1 else float(np.mean(values))
    out["runs"] = len(runs)
    return out


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
    shared_dir = SHARED_DATA_DIR if shared_dir is None else shared_dir
    check_deferral(config, data_dir, shared_dir)
    workload_seq, jobs_seq, noise_seq = np.random.SeedSequence(seed).spawn(3)
    jobs = build_jobs(
        config,
        fleet,
        [np.random.default_rng(workload_seq), np.random.default_rng(jobs_seq)],
        data_dir,
    )
    region_seqs = noise_seq.spawn(len(DEFERRAL_REGIONS))  # by the region's place in DEFERRAL_REGIONS, not in the request
    tick = Ticker(
        len(jobs) * sum(strategy_runs(config, r) for r in config.regions),
        progress,
        cancel,
    )
    regions, table, notes = {}, [], []
    for name in config.regions:
        region = load_region(name, config.basis, data_dir, shared_dir, cache_dir)
        runs, first = study_region(
            config,
            jobs,
            region,
            energy_price,
            region_seqs[DEFERRAL_REGIONS.index(name)],
            tick,
        )
        baseline = runs["run_now"][0]["co2_kg"]
        strategies = {label: summarise(r, baseline) for label, r in runs.items()}
        regions[name] = region_view(region, config, first, jobs, strategies)
        table += [{"region": name, "strategy": label, **figures} for label, figures in strategies.items()]
        notes += region_notes(config, region)
    return {
        "study": "deferral", "schema_version": SCHEMA_VERSION, "seed": seed, "config": config.model_dump(mode="json"),
        "units": UNITS, "jobs": jobs_view(config, jobs, fleet), "regions": regions, "table": table,
        "notes": [*STUDY_NOTES, *notes], "elapsed_s": round(time.perf_counter() - started, 3),
    }  # fmt: skip


STUDY_NOTES = (
    "run_now (FAST at submit) is the baseline of saved_kg and saved_pct.",
    "oracle plans every flexible job with the perfect forecast and lets it interrupt: a lower bound on the forecast strategies' CO2, not on threshold's (ECO changes the energy).",
    "Emissions are measured on the actual signal; decisions use the history before the decision slot and a forecast from it on.",
)


def region_view(
    region: Region,
    config: DeferralConfig,
    first: np.datetime64,
    jobs: Jobs,
    strategies: dict[str, Any],
) -> dict[str, Any]:
    source, series = SOURCES[region.name], region.series
    basis = f", {config.basis} emissions" if source.path is None else ""
    last = first + np.timedelta64(round(float(jobs.deadline_min.max()) if len(jobs) else 0.0), "m")
    s0 = int(np.floor(series.slot_of(first)))
    return {
        "signal": source.signal, "source": source.label + basis, "unit": "gCO2eq/kWh", "start": iso(first), "end": iso(last),
        "step_min": series.step_min, "mean_g_per_kwh": float(series.values[s0 : int(np.ceil(series.slot_of(last)))].mean()),
        "issued_forecasts": region.issued is not None, "strategies": strategies,
    }  # fmt: skip


def region_notes(config: DeferralConfig, region: Region) -> list[str]:
    notes = [f"{region.name}: {note}" for note in region.series.notes]
    if "issued" in config.forecasts and region.issued is None:
        notes.append(f"{region.name}: forecast_issued skipped, no issued forecasts for this region (only CAISO_NORTH has them).")
    if SOURCES[region.name].signal == "marginal":
        notes.append(
            f"{region.name}: a marginal signal (emissions of one more kWh); its savings are not comparable one-to-one with average-intensity regions'."
        )
    return notes


def jobs_view(config: DeferralConfig, jobs: Jobs, fleet: Fleet) -> dict[str, Any]:
    counts = np.bincount(jobs.urgency, minlength=3)
    return {
        "workload": config.workload, "count": len(jobs), "server": fleet.names[fleet.n_servers // 2],
        **{urgency: int(c) for urgency, c in zip(timeshift.URGENCIES, counts)}, "interruptible": int(jobs.interruptible.sum()),
        "fast_runtime_mean_min": float(jobs.fast_min.mean()), "eco_slowdown": ECO.slowdown,
        "power_mean_w": dict(zip((m.name for m in MODES), jobs.power_w.mean(axis=0).tolist())),
    }  # fmt: skip


TABLE_COLUMNS = (
    ("region", "region", "s"), ("strategy", "strategy", "s"), ("co2_kg", "CO2 kg", ",.2f"), ("saved_pct", "saved %", ".1f"),
    ("deadline_misses", "misses", ",d"), ("delay_mean_min", "delay min", ",.1f"), ("delay_p95_min", "p95 min", ",.1f"),
    ("energy_kwh", "energy kWh", ",.1f"), ("cost", "cost", ",.1f"), ("deferred_jobs", "deferred", ",.0f"), ("eco_jobs", "ECO", ",.0f"),
)  # fmt: skip


def format_table(document: dict[str, Any]) -> str:
    """The region x strategy table for a terminal; noisy figures are means (± their std in saved %)."""
    head = [label for _, label, _ in TABLE_COLUMNS]
    body = []
    for row in document["table"]:
        cells = [format(row[key], spec) for key, _, spec in TABLE_COLUMNS]
        if row["runs"] > 1:
            cells[3] += f" ±{row['saved_pct_std']:.1f}"
        body.append(cells)
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in [head, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def to_csv(document: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(document["table"][0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(document["table"])
    return out.getvalue()


def write_outputs(document: dict[str, Any], out_dir: Path) -> None:
    """results.json and results.csv (the placement study's report.html template does not fit this study)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY) + b"\n")
    (out_dir / "results.csv").write_text(to_csv(document), encoding="utf-8")
