"""Time series the scheduler reads at each session's pointer: load, energy price, carbon factor.

The pointer advances by one per scheduled job and wraps around each series on its own length, as in
the reference. The carbon factor is a unitless proxy (0..1), not a grid intensity: half the
rank-percentile of the steel plant's CO2(tCO2), whose raw values are about half zeros, and half the
time of day (NSM), which mimics the daily rise and fall of grid carbon.
"""

from dataclasses import dataclass

import numpy as np

from scheduler.data.datasets import Datasets


@dataclass(frozen=True)
class Signals:
    """Per-step series; index with `positions(t0, n)`."""

    load: np.ndarray  # (n_tasks,) in [0, 1]
    energy_price: np.ndarray  # (n_prices,) price_1 / 100, per kWh
    carbon_factor: np.ndarray  # (n_steel,) in [0, 1]
    energy_factor: np.ndarray  # (n_steel,) in [0, 1]
    task_cpu: np.ndarray  # (n_tasks,) plan_cpu_i, used for pre-training jobs
    task_mem: np.ndarray  # (n_tasks,) plan_mem_int
    steel_usage_kwh: np.ndarray  # (n_steel,)
    steel_co2_t: np.ndarray  # (n_steel,)
    load_type: "Labels"
    week_status: "Labels"
    day_of_week: "Labels"

    def positions(self, t0: int, n: int) -> "StepIndex":
        """Row indices into each series for pointer values t0 .. t0 + n - 1."""
        return self.at(np.arange(t0, t0 + n, dtype=np.int64))

    def at(self, t: np.ndarray) -> "StepIndex":
        """Row indices into each series for pointer values `t` (int64, >= 0)."""
        return StepIndex(task=t % len(self.load), price=t % len(self.energy_price), steel=t % len(self.carbon_factor))


@dataclass(frozen=True)
class Labels:
    """A text column as codes into its distinct values (a handful), cheap to index and to encode."""

    names: tuple[str, ...]
    codes: np.ndarray  # (n,) intp into names

    @classmethod
    def of(cls, values: np.ndarray) -> "Labels":
        names, codes = np.unique(values.astype(str), return_inverse=True)
        return cls(tuple(names.tolist()), codes.astype(np.intp))


@dataclass(frozen=True)
class StepIndex:
    task: np.ndarray  # (n,) rows of load / task_*
    price: np.ndarray  # (n,) rows of energy_price
    steel: np.ndarray  # (n,) rows of the steel series


def build_signals(data: Datasets) -> Signals:
    return Signals(
        load=np.clip((data.plan_cpu + data.plan_mem) / 200.0, 0.0, 1.0),
        energy_price=data.price / 100.0,
        carbon_factor=0.5 * rank_percentile(data.steel_co2_t) + 0.5 * min_max(data.steel_nsm_s),
        energy_factor=min_max(data.steel_usage_kwh),
        task_cpu=data.plan_cpu,
        task_mem=data.plan_mem,
        steel_usage_kwh=data.steel_usage_kwh,
        steel_co2_t=data.steel_co2_t,
        load_type=Labels.of(data.steel_load_type),
        week_status=Labels.of(data.steel_week_status),
        day_of_week=Labels.of(data.steel_day_of_week),
    )


def rank_percentile(values: np.ndarray) -> np.ndarray:
    """Average rank / n, as pandas' `rank(pct=True)`: ties share the mean of their ranks."""
    uniq, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    first_rank = np.cumsum(counts) - counts + 1  # 1-based rank of each distinct value's first copy
    mean_rank = first_rank + (counts - 1) / 2.0
    return mean_rank[inverse] / len(values)


def min_max(values: np.ndarray) -> np.ndarray:
    """Scale to [0, 1]; a constant series maps to zeros."""
    lo, hi = float(values.min()), float(values.max())
    return (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values, dtype=np.float64)
