"""Step functions and their integrals: the one place TaskPilot integrates a series over time.

A step series holds one value per slot (an hour of grid intensity, a planner slot of forecast). Its
integral from 0 to x (x in slots, fractional) is the prefix sum of the whole slots below x plus the
part of the slot x falls in. Every integral in TaskPilot is this one, in one of two readings:

- wrapping (`wrap=True`): the series repeats, as the session's clock runs round a year of data;
- clipped (default): x is held inside the series, as the planner's windows are.

`integral_at` is the same arithmetic for one float and Python lists, for the simulator's event loop,
where a numpy call per event would cost more than the sum; a test checks the two agree bit for bit.
"""

from dataclasses import dataclass

import numpy as np


def prefix_sums(values: np.ndarray) -> np.ndarray:
    """(..., n) -> (..., n + 1): out[..., i] is the sum of values[..., :i] (a leading zero)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.zeros((*values.shape[:-1], values.shape[-1] + 1))
    np.cumsum(values, axis=-1, out=out[..., 1:])
    return out


def integral(
    cum: np.ndarray, values: np.ndarray, x: np.ndarray | float, *, rows: np.ndarray | None = None, wrap: bool = False
) -> np.ndarray:
    """Integral from 0 to `x` of the step function `values` whose prefix sums are `cum`.

    One series: values (n,), cum (n + 1,), x any shape. Many series, one per row: values (m, n),
    cum (m, n + 1), and either x (m, k) (row i reads series i) or `rows` (k,) naming the series of each
    x (k,). Clipped, x outside [0, n) extends the first or last slot; wrapping, x >= 0 runs round."""
    n = values.shape[-1]
    x = np.asarray(x, dtype=np.float64)
    laps = None
    if wrap:
        laps, x = np.divmod(x, n)
    whole = np.clip(np.floor(x), 0, n - 1).astype(np.intp)
    if values.ndim == 1:
        below, step = cum[whole], values[whole]
    elif rows is not None:
        below, step = cum[rows, whole], values[rows, whole]
    else:
        below, step = np.take_along_axis(cum, whole, -1), np.take_along_axis(values, whole, -1)
    if laps is None:
        return below + (x - whole) * step
    return laps * cum[..., -1] + below + (x - whole) * step


def area(values: np.ndarray, a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray | float:
    """Sum of `values` over [a, b) in slot units (fractional ends, clipped), vectorised over a and b."""
    values = np.asarray(values, dtype=np.float64)
    cum = prefix_sums(values)
    out = integral(cum, values, b) - integral(cum, values, a)
    return float(out) if np.ndim(out) == 0 else out


def integral_at(cum: list[float], values: list[float], x: float) -> float:
    """integral(cum, values, x, wrap=True) for one x >= 0, on Python lists: same arithmetic, same result."""
    n = len(values)
    laps, rest = divmod(x, n)
    whole = min(int(rest), n - 1)
    return laps * cum[-1] + cum[whole] + (rest - whole) * values[whole]


@dataclass(frozen=True)
class StepSeries:
    """An hourly step series with its running sum, for O(1) means over any interval (wrapping)."""

    values: np.ndarray  # (n_hours,)
    cum: np.ndarray  # (n_hours + 1,) cum[i] = sum of values[:i]

    @classmethod
    def of(cls, values: np.ndarray) -> "StepSeries":
        values = np.asarray(values, dtype=np.float64)
        return cls(values, prefix_sums(values))

    @property
    def mean_value(self) -> float:
        return float(self.cum[-1] / len(self.values))

    def at(self, hour: np.ndarray | float) -> np.ndarray:
        """The value holding at `hour` (hours from the start; wraps)."""
        return self.values[np.floor(np.mod(hour, len(self.values))).astype(np.intp)]

    def integral(self, hour: np.ndarray | float) -> np.ndarray:
        """Sum of value x hours from 0 to `hour` (>= 0), continuing round the series."""
        return integral(self.cum, self.values, hour, wrap=True)

    def mean(self, start_h: np.ndarray | float, duration_h: np.ndarray | float) -> np.ndarray:
        """Mean over [start_h, start_h + duration_h); a zero duration gives the value at start_h."""
        start_h = np.asarray(start_h, dtype=np.float64)
        duration_h = np.asarray(duration_h, dtype=np.float64)
        span = self.integral(start_h + duration_h) - self.integral(start_h)
        return np.where(duration_h > 0, span / np.where(duration_h > 0, duration_h, 1.0), self.at(start_h))
