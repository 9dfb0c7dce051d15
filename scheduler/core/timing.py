"""The when-policy's settings and its decisions as arrays: plain types shared by the policy that makes
them (scheduler.timeshift.policy), the engine that records them and the text that explains them (xai.when).
"""

from dataclasses import dataclass

import numpy as np

from scheduler.core.bands import BandPolicy


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
    intensity_now_g: np.ndarray  # (n,) the zone's latest reading at submission (the slot before), what the band compares
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
    "band",
    "band_low_g",
    "band_high_g",
    "intensity_now_g",
    "action",
    "reason",
    "mode",
    "start_h",
    "finish_h",
    "deadline_h",
    "co2_now_kg",
    "saved_expected_kg",
    "forecast_g",
    "energy_kwh",
    "runtime_min",
    "co2_kg",
    "intensity_g",
)
