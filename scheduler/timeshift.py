"""When and how a job runs: urgency, carbon bands and the FAST / ECO / defer rule, in one place.

The rule is the Carbon-Aware AI Job Orchestrator seed's (seeds/002), applied to the carbon intensity of
the grid the job's server draws from at the job's submission:

- critical jobs run now in FAST mode, whatever the band: never deferred, never slowed;
- low band: run now in FAST mode;
- high band: non-critical jobs run now in ECO mode (lower power, longer runtime), unless ECO would
  finish after the job's deadline, in which case FAST;
- medium band: flexible jobs are deferred to the greenest window (by the forecast) that still meets
  their deadline; everything else runs now in FAST mode.

Bands come from two thresholds: fixed gCO2/kWh, or percentiles of the zone's signal over the last
`window_h` hours before the decision (so a clean grid such as Norway still has its own greener and dirtier
hours). Deferral leaves the mode at FAST: a deferred job has already been moved to a greener hour.
"""

from dataclasses import dataclass

import numpy as np

from scheduler.energy import ECO
from scheduler.grid import StepSeries

URGENCIES: tuple[str, str, str] = ("critical", "normal", "flexible")
CRITICAL, NORMAL, FLEXIBLE = 0, 1, 2
BANDS: tuple[str, str, str] = ("low", "medium", "high")
LOW, MEDIUM, HIGH = 0, 1, 2
ACTIONS: tuple[str, str, str] = ("run now, FAST", "run now, ECO", "defer")
RUN_FAST, RUN_ECO, DEFER = 0, 1, 2


@dataclass(frozen=True)
class BandPolicy:
    """Thresholds of the low / medium / high bands.

    kind "absolute": `low` and `high` are gCO2/kWh (below `low` is low, at or above `high` is high).
    kind "percentile": they are percentiles (0..100) of the signal over the `window_h` hours before the
    decision hour."""

    kind: str = "percentile"
    low: float = 33.0
    high: float = 67.0
    window_h: int = 168

    def __post_init__(self) -> None:
        if self.kind not in ("absolute", "percentile"):
            raise ValueError(f"band kind must be absolute or percentile, got {self.kind!r}")
        if not self.low < self.high:
            raise ValueError(f"band thresholds must rise: low {self.low} < high {self.high}")
        if self.kind == "percentile" and not (0 <= self.low and self.high <= 100):
            raise ValueError("band percentiles must lie in 0..100")
        if self.window_h < 1:
            raise ValueError("the band window needs at least one hour")

    @classmethod
    def parse(cls, text: str, window_h: int = 168) -> "BandPolicy":
        """"p33,p67" (percentiles of the recent signal) or "140,260" (gCO2/kWh)."""
        parts = [p.strip().lower() for p in text.split(",")]
        try:
            if len(parts) != 2:
                raise ValueError
            if all(p.startswith("p") for p in parts):
                return cls("percentile", float(parts[0][1:]), float(parts[1][1:]), window_h)
            return cls("absolute", float(parts[0]), float(parts[1]), window_h)
        except ValueError as exc:
            detail = f": {exc}" if str(exc) else ""
            raise ValueError(f"carbon bands must be two rising thresholds like 'p33,p67' or '140,260', got {text!r}{detail}") from None

    def describe(self) -> str:
        if self.kind == "absolute":
            return f"low below {self.low:g}, high from {self.high:g} gCO2/kWh"
        return f"low below the {self.low:g}th and high from the {self.high:g}th percentile of the last {self.window_h} h"

    def edges(self, values: np.ndarray, hour: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) thresholds in gCO2/kWh for decisions at slot `hour` (ints, may pass the end:
        the series wraps) of the hourly `values`; history only (hours before `hour`)."""
        hour = np.asarray(hour, dtype=np.int64)
        if self.kind == "absolute":
            return np.full(hour.shape, self.low), np.full(hour.shape, self.high)
        past = np.take(values, hour[..., None] - np.arange(self.window_h, 0, -1), mode="wrap")
        low, high = np.percentile(past, [self.low, self.high], axis=-1)
        return low, high

    def band(self, intensity: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """int8 band code of each intensity against its thresholds."""
        return np.where(intensity < low, LOW, np.where(intensity >= high, HIGH, MEDIUM)).astype(np.int8)


def action(band: np.ndarray, urgency: np.ndarray, can_wait: np.ndarray) -> np.ndarray:
    """The seed's rule, vectorised: RUN_FAST, RUN_ECO or DEFER per job. `can_wait`: the job has room
    before its deadline to move at all (the planner may still find "now" the greenest)."""
    band, urgency = np.asarray(band), np.asarray(urgency)
    out = np.full(band.shape, RUN_FAST, np.int8)
    out[(band == HIGH) & (urgency != CRITICAL)] = RUN_ECO
    out[(band == MEDIUM) & (urgency == FLEXIBLE) & np.asarray(can_wait)] = DEFER
    return out


@dataclass(frozen=True)
class WhenConfig:
    """The service's when-policy settings (TASKPILOT_CARBON_BANDS, _FORECAST, _FORECAST_ERROR, _FLEXIBLE_SLACK_H)."""

    bands: BandPolicy = BandPolicy()
    forecast: str = "persistence"
    forecast_error: float = 0.05
    flexible_slack_h: float = 24.0
    """A flexible job without a deadline may finish this long after it would have finished if run now."""


@dataclass(frozen=True)
class Timing:
    """When and how each of n jobs runs, and what that changed; hours are the grid clock's (unwrapped)."""

    band: np.ndarray  # (n,) int8 LOW/MEDIUM/HIGH at submission, on the chosen server's zone
    band_low_g: np.ndarray  # (n,) thresholds in force, gCO2/kWh
    band_high_g: np.ndarray
    intensity_now_g: np.ndarray  # (n,) the zone's intensity at submission
    action: np.ndarray  # (n,) int8 RUN_FAST / RUN_ECO / DEFER (DEFER only when the start moved)
    reason: np.ndarray  # (n,) int8 REASON_* code: why that action
    mode: np.ndarray  # (n,) int8 index into energy.MODES
    start_h: np.ndarray  # (n,) first hour the job runs
    finish_h: np.ndarray  # (n,) hour it finishes
    deadline_h: np.ndarray  # (n,) latest finish, NaN when none
    co2_now_kg: np.ndarray  # (n,) measured (actual signal) had it run now in FAST mode
    saved_expected_kg: np.ndarray  # (n,) forecast emissions of "now, FAST" minus the chosen plan's
    forecast_g: np.ndarray  # (n,) forecast mean intensity over the chosen run(s); NaN when not planned
    energy_kwh: np.ndarray  # (n,) in the chosen mode
    runtime_min: np.ndarray  # (n,) in the chosen mode (running time, pauses excluded)
    co2_kg: np.ndarray  # (n,) measured on the actual signal over the chosen run(s)
    intensity_g: np.ndarray  # (n,) actual mean intensity over the chosen run(s)
    runs: dict[int, tuple[tuple[float, float], ...]]  # row -> pieces, for interrupted jobs only

    def __len__(self) -> int:
        return len(self.band)

    def take(self, rows: slice) -> "Timing":
        start = rows.start or 0
        runs = {r - start: v for r, v in self.runs.items() if start <= r < (rows.stop if rows.stop is not None else len(self))}
        return Timing(*(getattr(self, f)[rows] for f in _TIMING_ARRAYS), runs)  # type: ignore[arg-type]


_TIMING_ARRAYS = (
    "band", "band_low_g", "band_high_g", "intensity_now_g", "action", "reason", "mode", "start_h", "finish_h",
    "deadline_h", "co2_now_kg", "saved_expected_kg", "forecast_g", "energy_kwh", "runtime_min", "co2_kg", "intensity_g",
)  # fmt: skip
REASON_CRITICAL, REASON_LOW, REASON_HIGH_ECO, REASON_ECO_LATE, REASON_NOT_FLEXIBLE, REASON_NO_ROOM, REASON_DEFERRED, REASON_NOW_GREENEST = range(8)
EPS_H = 1e-9


def plan_when(
    config: WhenConfig,
    series: tuple[StepSeries, ...],
    hour: np.ndarray,
    zone: np.ndarray,
    urgency: np.ndarray,
    deadline_min: np.ndarray,
    interruptible: np.ndarray,
    runtime_min: np.ndarray,
    power_fast_w: np.ndarray,
    power_eco_w: np.ndarray,
    eco_slowdown: float,
    rng: np.random.Generator,
) -> Timing:
    """Decide when and how each job runs, on the hourly `series` of each job's zone (the clock wraps
    round them), from its submission `hour`. Emissions are measured on the actual series; choices use
    only the forecast (scheduler.forecast) issued at the submission hour.

    runtime_min and the powers are the job's on its chosen server, in FAST mode (ECO runs
    eco_slowdown times longer at power_eco_w)."""
    from scheduler import forecast as forecasts  # these load with the first grid batch, not at start-up
    from scheduler import planner

    n = len(hour)
    slot = np.floor(hour).astype(np.int64)
    now_g, low, high = np.empty(n), np.empty(n), np.empty(n)
    for z in np.unique(zone).tolist():
        rows = zone == z
        now_g[rows] = series[z].at(hour[rows])
        low[rows], high[rows] = config.bands.edges(series[z].values, slot[rows])
    band = config.bands.band(now_g, low, high)
    run_h = runtime_min / 60.0
    deadline_h = hour + deadline_min / 60.0
    no_deadline = np.isnan(deadline_h) & (urgency == FLEXIBLE)
    deadline_h[no_deadline] = hour[no_deadline] + run_h[no_deadline] + config.flexible_slack_h
    can_wait = deadline_h - hour > run_h + EPS_H
    act = action(band, urgency, can_wait)
    reason = np.select(
        [urgency == CRITICAL, band == LOW, band == HIGH, urgency != FLEXIBLE, ~can_wait],
        [REASON_CRITICAL, REASON_LOW, REASON_HIGH_ECO, REASON_NOT_FLEXIBLE, REASON_NO_ROOM], REASON_DEFERRED,
    ).astype(np.int8)  # fmt: skip
    eco_late = (act == RUN_ECO) & (hour + run_h * eco_slowdown > deadline_h + EPS_H)
    act[eco_late], reason[eco_late] = RUN_FAST, REASON_ECO_LATE
    mode = (act == RUN_ECO).astype(np.int8)
    start = hour.copy()
    finish = hour + np.where(mode == 1, run_h * eco_slowdown, run_h)
    power = np.where(mode == 1, power_eco_w, power_fast_w)
    runs: dict[int, tuple[tuple[float, float], ...]] = {}
    forecast_g = np.full(n, np.nan)
    saved = np.zeros(n)
    for row in np.flatnonzero(act == DEFER).tolist():
        # Local slots: the excerpt starts a day before the submission slot (persistence reads it).
        s, z = int(slot[row]), int(zone[row])
        base = s - 24
        stop = int(np.ceil(deadline_h[row] - EPS_H))
        excerpt = np.take(series[z].values, np.arange(base, stop), mode="wrap")
        fc = forecasts.make_forecast(config.forecast, excerpt, error=config.forecast_error, rng=rng, period_slots=24, scale=series[z].mean_value)
        window = fc.window(24, stop - base)
        submit, duration, deadline = hour[row] - base, run_h[row], deadline_h[row] - base
        if interruptible[row]:
            pieces = planner.best_slots(window, 24, submit, duration, deadline)
        else:
            begin = planner.best_block(window, 24, submit, duration, deadline)
            pieces = [(begin, begin + duration)]
        planned = sum(float(planner.integral(window, a - 24, b - 24)) for a, b in pieces)
        now_cost = float(planner.integral(window, submit - 24, submit - 24 + duration))
        forecast_g[row] = planned / duration
        if pieces[0][0] <= submit + EPS_H and len(pieces) == 1:
            act[row], reason[row] = RUN_FAST, REASON_NOW_GREENEST
            continue
        saved[row] = power_fast_w[row] * (now_cost - planned) / 1e6
        start[row], finish[row] = pieces[0][0] + base, pieces[-1][1] + base
        if len(pieces) > 1:
            runs[row] = tuple((a + base, b + base) for a, b in pieces)
    co2 = np.empty(n)
    co2_now = np.empty(n)
    for z in np.unique(zone).tolist():
        rows = np.flatnonzero(zone == z)
        integral = series[z].integral
        co2_now[rows] = power_fast_w[rows] * (integral(hour[rows] + run_h[rows]) - integral(hour[rows])) / 1e6
        co2[rows] = power[rows] * (integral(finish[rows]) - integral(start[rows])) / 1e6
    for row, pieces in runs.items():  # interrupted: only the pieces count
        integral = series[int(zone[row])].integral
        co2[row] = power[row] * sum(float(integral(b) - integral(a)) for a, b in pieces) / 1e6
    # ECO's expected saving: the energy it saves, at the intensity known at submission.
    eco = mode == 1
    saved[eco] = (power_fast_w[eco] * run_h[eco] - power_eco_w[eco] * run_h[eco] * eco_slowdown) * now_g[eco] / 1e6
    run_min = np.where(mode == 1, runtime_min * eco_slowdown, runtime_min)
    energy_kwh = power * run_min / 60.0 / 1000.0
    intensity = np.where(energy_kwh > 0, co2 * 1e3 / np.where(energy_kwh > 0, energy_kwh, 1.0), now_g)
    return Timing(band, low, high, now_g, act, reason, mode, start, finish, deadline_h, co2_now, saved, forecast_g, energy_kwh, run_min, co2, intensity, runs)


def describe(timing: Timing, zones: list[str], labels: list[str], finish: list[str], deadlines: list[str], config: WhenConfig) -> list[str]:
    """The "When:" sentence of each job's explanation: what was decided, the band and its numbers,
    and the forecast's part. labels / finish / deadlines: the clock labels of start, finish, deadline."""
    eco = f"ECO mode ({ECO.core_fraction:.0%} of its cores at {ECO.frequency:.0%} clock: {ECO.slowdown:g}x the runtime at lower power)"
    texts = []
    columns = zip(
        timing.reason.tolist(), timing.band.tolist(), timing.intensity_now_g.tolist(), timing.band_low_g.tolist(),
        timing.band_high_g.tolist(), timing.saved_expected_kg.tolist(), timing.forecast_g.tolist(), timing.finish_h.tolist(),
        timing.deadline_h.tolist(), zones, labels, finish, deadlines, range(len(timing)),
    )  # fmt: skip
    for reason, band, now, low, high, saved, fc, end, deadline, zone, start, finish_at, deadline_at, row in columns:
        grid = f"the {zone} grid is at {now:.0f} gCO2eq/kWh, {BANDS[band]} band (low below {low:.0f}, high from {high:.0f})"
        if reason == REASON_CRITICAL:
            text = f"When: now, in FAST mode: critical jobs are never deferred or slowed ({grid})."
        elif reason == REASON_LOW:
            text = f"When: now, in FAST mode: {grid}."
        elif reason == REASON_HIGH_ECO:
            text = f"When: now, in {eco}: {grid}; it saves an expected {saved:.3g} kg CO2 against FAST mode."
        elif reason == REASON_ECO_LATE:
            text = f"When: now, in FAST mode: {grid}, but ECO mode would finish after the deadline {deadline_at}."
        elif reason == REASON_NOT_FLEXIBLE:
            text = f"When: now, in FAST mode: {grid}; only flexible jobs are deferred."
        elif reason == REASON_NO_ROOM:
            text = f"When: now, in FAST mode: {grid}, but the deadline {deadline_at} leaves no room to wait."
        elif reason == REASON_NOW_GREENEST:
            text = f"When: now, in FAST mode: {grid}, and the {config.forecast} forecast finds no greener window before {deadline_at}."
        else:
            pieces = len(timing.runs.get(row, ())) or 1
            how = f"in {pieces} pieces, finishing {finish_at}" if pieces > 1 else f"finishing {finish_at}"
            text = (
                f"When: deferred to {start} ({how}) in FAST mode: {grid}; the {config.forecast} forecast puts the chosen "
                f"hours at {fc:.0f} gCO2eq/kWh, within the deadline {deadline_at}; expected saving {saved:.3g} kg CO2."
            )
        if end > deadline + EPS_H:
            text += f" It finishes at {finish_at}, after its deadline {deadline_at}: the chosen server cannot meet it."
        texts.append(text)
    return texts

