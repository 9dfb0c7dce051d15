"""Scenarios: where a job's energy and carbon figures come from, for the service and the pre-training.

- `reference`: the seed's formulas, unchanged. Energy depends only on the server and the task trace's
  load; carbon is the unitless steel-plant proxy (carbon_factor 0..1), the same for every server.
- `grid`: the physical energy model (scheduler/core/energy.py) on the job's own work, and the real hourly
  *average* carbon intensity (gCO2eq/kWh, Electricity Maps) of each server's grid zone, on a simulated
  clock: the session's pointer t is hour `start_hour + t x minutes_per_job / 60` of the series. A job's
  intensity is the mean over the hours it runs on that server.

Both answer `evaluate(t, jobs)`: the per-server figures of each job at pointer values t, which is all
the engine, the explanations and the pre-training need.
"""

import dataclasses
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from scheduler.core import energy, units
from scheduler.core.bands import GRID_FACTOR_SCALE_G
from scheduler.core.errors import JobValidationError
from scheduler.core.fleet import Fleet
from scheduler.core.job_batch import JobBatch
from scheduler.core.jobs import MAX_DEADLINE_MIN
from scheduler.core.scoring import ServerMetrics, server_metrics
from scheduler.core.series import StepSeries
from scheduler.core.timing import Timing, WhenConfig
from scheduler.core.units import INTENSITY_UNIT
from scheduler.data.grid import SIGNAL_KIND, ZONE_NAMES, GridSeries
from scheduler.data.signals import Signals
from scheduler.placement import given
from scheduler.timeshift import policy as timeshift


@dataclass(frozen=True)
class StepMetrics:
    """Figures of n jobs on every server at their pointer values."""

    metrics: ServerMetrics  # (n, n_servers) energy_kwh, cost, co2_kg
    carbon_factor: np.ndarray  # (n,) 0..1, the agents' carbon feature and the band
    price: np.ndarray  # (n,) energy price per kWh
    latency: np.ndarray | None  # (n, n_servers) job runtime, min; None = the seed's 1 / cpu_rate proxy
    runtime_min: np.ndarray | None  # (n, n_servers) grid only
    intensity_g_per_kwh: np.ndarray | None  # (n, n_servers) grid only, mean over the runtime
    hour: np.ndarray | None  # (n,) clock, hours since the grid series start; grid only


class Scenario(Protocol):
    name: str

    def evaluate(self, t: np.ndarray, jobs: JobBatch) -> StepMetrics: ...

    def describe(self) -> dict[str, object]: ...

    def resolve_deadlines(self, jobs: JobBatch, first: int) -> JobBatch: ...

    def plan_when(self, step: StepMetrics, jobs: JobBatch, chosen: np.ndarray, rng: np.random.Generator) -> Timing | None: ...


@dataclass(frozen=True, eq=False)
class ReferenceScenario:
    fleet: Fleet
    signals: Signals
    name: str = "reference"

    def evaluate(self, t: np.ndarray, jobs: JobBatch) -> StepMetrics:
        s, idx = self.signals, self.signals.at(t)
        carbon, price = s.carbon_factor[idx.steel], s.energy_price[idx.price]
        metrics = server_metrics(self.fleet, s.load[idx.task], price, carbon)
        return StepMetrics(metrics, carbon, price, None, None, None, None)

    def resolve_deadlines(self, jobs: JobBatch, first: int) -> JobBatch:
        """The reference scenario has no clock and runs every job now: deadlines are kept, unused."""
        return jobs

    def plan_when(self, step: StepMetrics, jobs: JobBatch, chosen: np.ndarray, rng: np.random.Generator) -> None:
        """Every job runs now in FAST mode: the seed's proxy has no clock or runtime to shift."""
        return None

    def describe(self) -> dict[str, object]:
        return {
            "scenario": self.name,
            "signal": "unitless proxy 0..1 (steel-plant CO2 rank blended with time of day), not gCO2/kWh",
            "energy_model": "seed: (P_idle + (P_peak - P_idle) x load) / 1000 kWh per job",
        }


@dataclass(frozen=True, eq=False)
class GridScenario:
    fleet: Fleet
    signals: Signals
    grid: GridSeries
    server_zone: np.ndarray  # (n_servers,) index into grid.zones
    machines: energy.Machines
    start_hour: float  # clock at pointer 0, hours since grid.start
    minutes_per_job: float  # clock advance per scheduled job
    basis: str  # "direct" or "lca"
    zone_series: tuple[StepSeries, ...]
    when: WhenConfig = WhenConfig()
    name: str = "grid"

    def evaluate(self, t: np.ndarray, jobs: JobBatch) -> StepMetrics:
        hour = self.hour_at(t)
        work = energy.job_work(jobs.cpu, jobs.memory, jobs.duration_min, jobs.size, jobs.intensity)
        runtime = energy.runtime_min(self.machines, work)  # (n, n_servers)
        kwh = energy.kwh(self.power_w(work, jobs, runtime=runtime), runtime)
        intensity = np.empty_like(runtime)
        for z, series in enumerate(self.zone_series):
            servers = np.flatnonzero(self.server_zone == z)
            if servers.size:
                intensity[:, servers] = series.mean(hour[:, None], runtime[:, servers] / 60.0)
        price = self.price_at(hour)
        co2 = given.co2_table(jobs, units.co2_kg(kwh, intensity))
        metrics = ServerMetrics(energy_kwh=kwh, cost=kwh * price[:, None], co2_kg=co2)
        pool_mean = np.empty(len(hour))
        for tier, pool in enumerate(self.fleet.pools):
            rows = jobs.tier == tier
            pool_mean[rows] = intensity[np.ix_(rows, pool)].mean(axis=1)
        carbon = np.minimum(pool_mean / GRID_FACTOR_SCALE_G, 1.0)
        return StepMetrics(metrics, carbon, price, runtime, runtime, intensity, hour)

    def power_w(self, work: energy.Work, jobs: JobBatch, mode: energy.Mode = energy.FAST, runtime: np.ndarray | None = None) -> np.ndarray:
        """(n, n_servers) watts in `mode`: the job's own power_w where given, or the power that draws its
        own estimated_kwh over its FAST runtime (scheduler/placement/given.py), scaled for ECO as the model
        scales it; else the energy model's. `runtime`: the FAST runtime, when the caller has it."""
        model = energy.power_w(self.machines, work, mode)
        own, measured = ~np.isnan(jobs.power_w), given.energy_given(jobs)
        if not (own.any() or measured.any()):
            return model
        fast_model = model if mode is energy.FAST else energy.power_w(self.machines, work)
        fast = np.where(own[:, None], jobs.power_w[:, None], fast_model)
        fast = given.fast_power(jobs, energy.runtime_min(self.machines, work) if runtime is None else runtime, fast)
        scale = model / fast_model if mode is not energy.FAST else 1.0
        return np.where((own | measured)[:, None], fast * scale, model)  # the model's own rows untouched, bit for bit

    def plan_when(self, step: StepMetrics, jobs: JobBatch, chosen: np.ndarray, rng: np.random.Generator) -> Timing:
        """When and how each placed job runs (scheduler.timeshift.policy), on its chosen server's zone."""
        rows = np.arange(len(jobs))
        work = energy.job_work(jobs.cpu, jobs.memory, jobs.duration_min, jobs.size, jobs.intensity)
        fast = self.power_w(work, jobs)[rows, chosen]
        eco = self.power_w(work, jobs, energy.ECO)[rows, chosen]
        plan = timeshift.plan_when(
            self.when,
            self.zone_series,
            step.hour,
            self.server_zone[chosen],
            jobs.urgency,
            jobs.deadline_min,
            jobs.interruptible,
            step.runtime_min[rows, chosen],
            fast,
            eco,
            energy.ECO.slowdown,
            rng,
        )
        return given.timing(jobs, plan)

    def resolve_deadlines(self, jobs: JobBatch, first: int) -> JobBatch:
        """`jobs` with deadlines given as times turned into minutes after each job's submission, job i
        being submitted at pointer first + i; JobValidationError names a deadline that leaves less than
        the job's duration_min (or nothing) on the session's clock."""
        given = np.flatnonzero(~np.isnat(jobs.deadline_at))
        if not given.size:
            return jobs
        submit_h = self.hour_at(first + given)
        at_h = (jobs.deadline_at[given] - self.grid.start.astype("datetime64[m]")).astype(np.float64) / 60.0
        # The clock wraps with the data, and its labels with it: a time in the series (or at most
        # MAX_DEADLINE_MIN past its end, the calendar going on) is read on the lap nearest the
        # submission, so at the wrap "2021-01-01T03:00Z" and "2024-01-01T03:00Z" are the same hour.
        lap_min = self.grid.n_hours * 60.0
        delta_min = (at_h - np.mod(submit_h, self.grid.n_hours)) * 60.0
        on_clock = (at_h >= 0) & (at_h <= self.grid.n_hours + MAX_DEADLINE_MIN / 60.0)
        delta_min = np.where(on_clock, delta_min - lap_min * np.round(delta_min / lap_min), delta_min)
        need = np.nan_to_num(jobs.duration_min[given])
        errors = []
        for i, h, delta, need_min in zip(given.tolist(), submit_h.tolist(), delta_min.tolist(), need.tolist()):
            at, now = f"{jobs.deadline_at[i]}Z", self.clock_label(h)
            if delta > MAX_DEADLINE_MIN:
                message = f"deadline {at} is more than {MAX_DEADLINE_MIN:g} minutes after submission ({now} on the session's clock)"
            elif delta <= 0 or delta < need_min:
                message = f"deadline {at} is before submission ({now} on the session's clock)"
                message += f" + duration_min ({need_min:g} min): fields deadline and duration_min" if need_min else ""
            else:
                continue
            errors.append({"index": i, "field": "deadline", "message": message})
        if errors:
            raise JobValidationError(errors)
        minutes = jobs.deadline_min.copy()
        minutes[given] = delta_min
        return dataclasses.replace(jobs, deadline_min=minutes)

    def price_at(self, hour: np.ndarray) -> np.ndarray:
        """Energy price at clock hours: the series steps once per clock hour, as in the simulator's clock."""
        return self.signals.energy_price[np.floor(hour).astype(np.int64) % len(self.signals.energy_price)]

    def hour_at(self, t: np.ndarray | int) -> np.ndarray:
        """Clock hours (since the series start, not wrapped) of pointer values `t`."""
        return self.start_hour + np.asarray(t, dtype=np.float64) * (self.minutes_per_job / 60.0)

    def clock_label(self, hour: float) -> str:
        """The UTC time whose data an hour reads: past the series' end the data wraps to its start,
        and so does the label, so the two never disagree."""
        return str(self.clock_labels(np.array([hour]))[0])

    def clock_labels(self, hours: np.ndarray) -> np.ndarray:
        """clock_label for many hours at once: (n,) str, minute precision."""
        minutes = np.floor(np.mod(np.asarray(hours, dtype=np.float64), self.grid.n_hours) * 60).astype(np.int64)
        stamps = self.grid.start.astype("datetime64[m]") + minutes.astype("timedelta64[m]")
        return np.char.add(np.datetime_as_string(stamps, unit="m"), "Z")

    def zone_of(self, server: int) -> str:
        return self.grid.zones[self.server_zone[server]]

    def carbon_now(self, pointer: int) -> tuple[dict[str, float], float]:
        """The intensity (gCO2eq/kWh) of each zone the fleet uses at the clock hour of `pointer`, and the
        carbon factor of the fleet as a whole (mean over the servers / GRID_FACTOR_SCALE_G, capped at 1)."""
        hour = float(self.hour_at(pointer))
        by_zone = {self.grid.zones[z]: float(self.zone_series[z].at(hour)) for z in sorted(set(self.server_zone.tolist()))}
        fleet_mean = float(np.mean([by_zone[self.zone_of(s)] for s in range(self.fleet.n_servers)]))
        return by_zone, min(fleet_mean / GRID_FACTOR_SCALE_G, 1.0)

    def describe(self) -> dict[str, object]:
        return {
            "scenario": self.name,
            "signal": f"{SIGNAL_KIND} carbon intensity, {self.basis} emissions, {INTENSITY_UNIT} (Electricity Maps, hourly)",
            "zones": {z: ZONE_NAMES.get(z, z) for z in self.grid.zones},
            "server_zones": {name: self.zone_of(s) for s, name in enumerate(self.fleet.names)},
            "clock_start_utc": self.clock_label(float(self.hour_at(0))),
            "minutes_per_job": self.minutes_per_job,
            "energy_model": "physical: runtime from the job's work and the server's cores and speed; power = core share x P_idle + "
            "(P_peak - P_idle) x curve(share), the job alone on the server",
            "power_curve": "linear" if np.allclose(self.machines.curve, energy.LINEAR_CURVE) else "SPECpower median",
            "when_policy": {
                "bands": self.when.bands.describe(),
                "rule": "critical: now, FAST; low band: now, FAST; high band: non-critical jobs now in ECO (FAST if ECO would miss "
                "the deadline); medium band: flexible jobs deferred to the forecast's greenest window before the deadline",
                "forecast": self.when.forecast
                + (f" (error {self.when.forecast_error:g} x the series mean)" if self.when.forecast == "noisy" else ""),
                "flexible_slack_h": self.when.flexible_slack_h,
                "modes": {
                    m.name: {"core_fraction": m.core_fraction, "frequency": m.frequency, "runtime_factor": m.slowdown} for m in energy.MODES
                },
            },
        }


def build_grid_scenario(
    fleet: Fleet,
    signals: Signals,
    grid: GridSeries,
    server_zone: np.ndarray,
    start: str,
    minutes_per_job: float,
    basis: str = "direct",
    power_curve: np.ndarray | None = None,
    when: WhenConfig = WhenConfig(),
) -> GridScenario:
    """The grid scenario whose clock starts at `start` (ISO time, UTC) of the grid series."""
    start_hour = grid.hour_of(np.datetime64(start.rstrip("Z"), "h"))
    if not 0 <= start_hour < grid.n_hours:
        raise ValueError(f"grid clock start {start!r} is outside the series ({grid.start} + {grid.n_hours} h)")
    series = tuple(StepSeries.of(row) for row in grid.intensity(basis))
    machines = energy.build_machines(fleet, power_curve)
    return GridScenario(fleet, signals, grid, server_zone, machines, float(start_hour), minutes_per_job, basis, series, when)
