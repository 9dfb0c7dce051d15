"""Carbon bands: which intensities are low, medium or high, on one of two scales.

- The carbon-factor scale of reference sessions: the unitless factor (0..1) against CARBON_BAND_EDGES.
- The when-policy's scale of grid sessions (BandPolicy): fixed gCO2eq/kWh thresholds, or percentiles of
  the zone's own signal over its last `window_h` hours (so a clean grid such as Norway still has greener
  and dirtier hours).
"""

from dataclasses import dataclass

import numpy as np

from scheduler.core.states import BANDS, HIGH, LOW, MEDIUM

CARBON_BAND_EDGES: tuple[float, float] = (0.35, 0.65)
"""carbon_factor < 0.35 is low, >= 0.65 is high, between is medium; the one place these live."""
GRID_FACTOR_SCALE_G = 400.0
"""gCO2eq/kWh that maps to carbon_factor 1 in the grid scenario (clipped above): the agents' feature
`1 - carbon_factor` and the low/medium/high bands (0.35, 0.65 -> 140 and 260 g) keep their meaning."""
GRID_BAND_EDGES_G: tuple[float, float] = tuple(edge * GRID_FACTOR_SCALE_G for edge in CARBON_BAND_EDGES)  # type: ignore[assignment]
"""CARBON_BAND_EDGES in gCO2eq/kWh, as the grid scenario scales the factor: (140, 260)."""


def carbon_band(carbon_factor: float) -> str:
    """low / medium / high for a carbon factor, by CARBON_BAND_EDGES."""
    low, high = CARBON_BAND_EDGES
    return BANDS[LOW] if carbon_factor < low else BANDS[HIGH] if carbon_factor >= high else BANDS[MEDIUM]


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
        if self.kind == "percentile" and not (self.low >= 0 and self.high <= 100):
            raise ValueError("band percentiles must lie in 0..100")
        if self.window_h < 1:
            raise ValueError("the band window needs at least one hour")

    @classmethod
    def parse(cls, text: str, window_h: int = 168) -> "BandPolicy":
        """ "p33,p67" (percentiles of the recent signal) or "140,260" (gCO2/kWh)."""
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
        return f"low below the {ordinal(self.low)} and high from the {ordinal(self.high)} percentile of the last {self.window_h} h"

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


def ordinal(x: float) -> str:
    """33 -> "33rd", 11 -> "11th", 62.5 -> "62.5th" (a fraction reads "th" whatever its last digit)."""
    if x != int(x):
        return f"{x:g}th"
    n = abs(int(x))
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{int(x)}{suffix}"
