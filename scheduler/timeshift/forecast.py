"""Carbon forecasts behind one interface, so the planner cannot tell which one it is using.

A decision about a job submitted in slot s (s = floor(submit)) is taken at the start of slot s: the
actual values of slots < s are history, and everything from slot s on comes from the forecast
`window(s, stop)`. Emissions are always measured on the actual series afterwards, so a forecast only
changes *which* slots are chosen, never how they are scored.

- `PerfectForecast`: the actual future. No forecast can do better, so it bounds what planning can save.
- `NoisyForecast`: actual + Gaussian noise with standard deviation error x mean(actual), one draw per
  slot made when the forecast is built from the caller's Generator, clipped at 0. The same object gives
  the same window to every job, as one forecast run would.
- `PersistenceForecast`: slot j >= s gets the value `period` slots earlier, going back whole periods
  until that slot is history (yesterday's same time, repeated). With less than one period of history
  it is the last known value, actual[s - 1]. At s = 0 nothing is known: the window is flat (zeros), so
  every start ties and the job starts at submission. Reading actual[0] there would be look-ahead.
- `IssuedForecast`: forecasts as they were issued (e.g. WattTime's, every 5 min for 5..65 min ahead).
  At slot s only the latest issue at or before the start of slot s is used; each slot takes the
  time-weighted mean of the issued values covering it, and the part of the window the issue does not
  cover falls back to persistence (at s = 0, with no history, to the issue's mean value).

No forecast reads an actual value at or after its decision slot; the tests change the actual future
and check every window stays the same.

Every forecast also has `windows(s, length)`, the same for many jobs at once ((n, length), values past
the series end are the last slot's, never read by the planner); `gather_windows` uses it when present.
"""

import math
from typing import Protocol

import numpy as np

from scheduler.data.carbon_series import CarbonSeries
from scheduler.data.issued_forecasts import IssuedForecasts

FORECASTS: tuple[str, ...] = ("perfect", "noisy", "persistence", "issued")


class Forecast(Protocol):
    name: str

    def window(self, s: int, stop: int) -> np.ndarray:
        """Forecast of slots s..stop-1 as issued at slot s."""
        ...


def gather_windows(forecast: Forecast, s: np.ndarray, length: int) -> np.ndarray:
    """(n, length) forecasts of slots s[i]..s[i]+length-1 as issued at s[i]."""
    batched = getattr(forecast, "windows", None)
    if batched is not None:
        return batched(s, length)
    out = np.empty((len(s), length))
    for i, first in enumerate(s.tolist()):
        w = forecast.window(first, first + length)
        out[i, : len(w)] = w
        out[i, len(w) :] = w[-1] if len(w) else 0.0
    return out


class _Static:
    """A forecast that is one fixed series, whatever the decision slot."""

    name: str
    values: np.ndarray  # (n,)

    def window(self, s: int, stop: int) -> np.ndarray:
        return self.values[s:stop]

    def windows(self, s: np.ndarray, length: int) -> np.ndarray:
        idx = np.minimum(s[:, None] + np.arange(length), len(self.values) - 1)
        return self.values[idx]


class PerfectForecast(_Static):
    def __init__(self, actual: np.ndarray):
        self.name, self.values = "perfect", np.asarray(actual, dtype=np.float64)


class NoisyForecast(_Static):
    def __init__(self, actual: np.ndarray, error: float, rng: np.random.Generator, scale: float | None = None):
        if not (math.isfinite(error) and error >= 0):
            raise ValueError(f"forecast error must be a finite number >= 0 (a fraction of the series mean), got {error}")
        actual = np.asarray(actual, dtype=np.float64)
        # `scale`: the mean of the whole series when `actual` is an excerpt of it (the service's windows).
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported just below
            noise = rng.normal(0.0, error * (actual.mean() if scale is None else scale), size=len(actual))
            self.values = np.maximum(actual + noise, 0.0)
        self.name, self.error = "noisy", error
        if not np.isfinite(self.values).all():  # the planner's prefix sums would turn them into NaN starts
            raise ValueError(f"forecast error {error} x the series mean overflows; give a fraction such as 0.05")


class PersistenceForecast:
    def __init__(self, actual: np.ndarray, period_slots: int):
        if period_slots < 1:
            raise ValueError(f"period_slots must be >= 1, got {period_slots}")
        self.name, self.period = "persistence", int(period_slots)
        self.actual = np.asarray(actual, dtype=np.float64)

    def window(self, s: int, stop: int) -> np.ndarray:
        return self.windows(np.array([s]), stop - s)[0]

    def windows(self, s: np.ndarray, length: int) -> np.ndarray:
        ahead = np.arange(length)  # (length,) slots after s
        # Whole periods back until it is history
        back = (ahead // self.period + 1) * self.period
        idx = s[:, None] + ahead - back  # (n, length)
        # (n,) the latest known value; none at s = 0, where a flat window makes every start tie
        last = np.where(s > 0, self.actual[np.maximum(s - 1, 0)], 0.0)
        known = self.actual[np.clip(idx, 0, len(self.actual) - 1)]
        return np.where(idx >= 0, known, last[:, None])


class IssuedForecast:
    def __init__(self, actual: np.ndarray, issued: IssuedForecasts, series: CarbonSeries):
        self.name, self.issued, self.series = "issued", issued, series
        self.fallback = PersistenceForecast(actual, max(1440 // series.step_min, 1))

    def window(self, s: int, stop: int) -> np.ndarray:
        out = self.fallback.window(s, stop)
        i = self.issued.latest_at(self.series.time_of(s))
        if i < 0 or stop <= s:
            return out
        times, values = self.issued.issue(i)
        if s == 0:  # no history to persist; the issue's own mean fills what it does not cover
            out = np.full(stop - s, values.mean())
        # (k,) each value's interval, in slots from s
        lo = self.series.slot_of(times) - s
        hi = lo + self.issued.step_min / self.series.step_min
        edges = np.arange(stop - s)  # (L,) slot j covers [j, j + 1)
        overlap = np.minimum(hi[:, None], edges + 1) - np.maximum(lo[:, None], edges)
        overlap = np.clip(overlap, 0.0, None)  # (k, L) slots of each value in each slot
        covered = np.minimum(overlap.sum(axis=0), 1.0)
        return values @ overlap + (1.0 - covered) * out


def make_forecast(
    kind: str,
    actual: np.ndarray,
    *,
    error: float = 0.05,
    rng: np.random.Generator | None = None,
    period_slots: int | None = None,
    issued: IssuedForecasts | None = None,
    series: CarbonSeries | None = None,
    scale: float | None = None,
) -> Forecast:
    """One forecast by name (FORECASTS). noisy needs `rng`; persistence `period_slots` (a day);
    issued needs `issued` and the `series` that maps its times to slots."""
    if kind == "perfect":
        return PerfectForecast(actual)
    if kind == "noisy":
        if rng is None:
            raise ValueError("the noisy forecast needs rng (a numpy Generator)")
        return NoisyForecast(actual, error, rng, scale)
    if kind == "persistence":
        if period_slots is None:
            raise ValueError("the persistence forecast needs period_slots (slots per day)")
        return PersistenceForecast(actual, period_slots)
    if kind == "issued":
        if issued is None or series is None:
            raise ValueError("the issued forecast needs issued forecasts and the series")
        return IssuedForecast(actual, issued, series)
    raise ValueError(f"unknown forecast {kind!r}; known: {', '.join(FORECASTS)}")
