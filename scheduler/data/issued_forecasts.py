"""Carbon forecasts as they were issued (WattTime's layout): at each request time, values for the
forecast times that follow. Read from CSV by scheduler/data/carbon_csv.py; used by the issued forecast
(scheduler/timeshift/forecast.py).
"""

import math
from dataclasses import dataclass
from functools import reduce

import numpy as np

from scheduler.core.errors import SeriesError


@dataclass(frozen=True)
class IssuedForecasts:
    """Forecasts as issued: at each request time, values for the forecast times that follow.

    Each issue's values form a step function like the series: a value holds from its forecast time
    for `step_min` (the finest spacing of forecast times in the file)."""

    request: np.ndarray  # (m,) datetime64[m], increasing: the issue times
    offsets: np.ndarray  # (m + 1,) issue i's rows are offsets[i]:offsets[i + 1] below
    forecast_time: np.ndarray  # (k,) datetime64[m], increasing within each issue
    values: np.ndarray  # (k,) float64, g/kWh
    step_min: int
    name: str = "forecast"

    def issue(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        rows = slice(self.offsets[i], self.offsets[i + 1])
        return self.forecast_time[rows], self.values[rows]

    def latest_at(self, when: np.datetime64) -> int:
        """Index of the latest issue at or before `when`; -1 when none was issued yet."""
        after = np.searchsorted(self.request, np.datetime64(when, "m"), side="right")
        return int(after) - 1


def issued_from_arrays(
    request: np.ndarray,
    forecast: np.ndarray,
    values: np.ndarray,
    name: str = "forecast",
    file: str = "forecasts",
) -> IssuedForecasts:
    """IssuedForecasts from parallel (k,) arrays of issue times, forecast times and g/kWh, any order."""
    request = np.asarray(request).astype("datetime64[m]")
    forecast = np.asarray(forecast).astype("datetime64[m]")
    values = np.asarray(values, dtype=np.float64)
    if not len(request):
        raise SeriesError(f"{file}: no forecast rows")
    order = np.lexsort((forecast, request))
    request, forecast, values = request[order], forecast[order], values[order]
    starts = np.flatnonzero(np.r_[True, request[1:] != request[:-1]])
    same = request[1:] == request[:-1]
    spacing = (forecast[1:] - forecast[:-1]).astype(np.int64)[same]
    if (spacing <= 0).any():
        raise SeriesError(f"{file}: a forecast time appears twice in one issue")
    if not spacing.size:  # one value per issue: each holds until the next issue
        spacing = np.diff(request[starts]).astype(np.int64)
    step = reduce(math.gcd, np.unique(spacing).tolist()) if spacing.size else 60
    offsets = np.r_[starts, len(request)]
    return IssuedForecasts(request[starts], offsets, forecast, values, int(step), name)
