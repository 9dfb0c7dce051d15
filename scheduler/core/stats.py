"""Means over seeds with their 95 % confidence intervals: the one helper every study and table prints with."""

import math
from collections.abc import Iterable

import numpy as np

T_975 = (12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139,
         2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963,
         2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272)  # fmt: skip
"""Student's t, 97.5 % quantile, for 1 to 30 degrees of freedom (scipy.stats.t.ppf to 6 decimals; a table, as
scipy is not a runtime dependency)."""
Z_975 = 1.959964
"""The normal's 97.5 % quantile, used beyond 30 degrees of freedom (t at 31 is 2.040, 4 % above it; at 100, 1.984)."""


def t_975(df: int) -> float:
    """The two-sided 95 % Student's t quantile for `df` >= 1 degrees of freedom."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    return T_975[df - 1] if df <= len(T_975) else Z_975


def mean_ci(values: Iterable[float], single: float = math.nan) -> tuple[float, float]:
    """The mean and the half-width of its two-sided 95 % confidence interval (Student's t, n - 1 degrees of
    freedom). One value has no interval: its half-width is `single`, NaN unless the caller needs a number
    (JSON has no NaN)."""
    x = np.asarray(list(values), dtype=float)
    if len(x) == 0:
        raise ValueError("no values to average")
    if len(x) < 2:
        return float(x.mean()), single
    return float(x.mean()), float(t_975(len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
