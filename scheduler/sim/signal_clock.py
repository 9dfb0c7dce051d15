"""The simulation clock: what the carbon intensity of each server's grid and the energy price are at any time.

Time t (minutes from the start of a run) is hour start_h + t / 60 of hourly step series, which wrap
around at their end. `grid_clock` carries real average grid intensity per zone (Electricity Maps);
`reference_clock` carries the seed's proxy, one "zone" for every server. The event loop and the oracle
ask for one job at a time, so `Clock` answers both with numpy (many jobs) and with plain floats (one).
"""

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from scheduler.core.scoring import CO2_BASE_KG_PER_KWH
from scheduler.core.series import StepSeries, integral_at
from scheduler.core.units import INTENSITY_UNIT
from scheduler.data.grid import GridSeries
from scheduler.data.signals import Signals


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class Clock:
    """What the simulation clock carries: carbon intensity per zone and the energy price, hourly steps.

    Time t (minutes) is hour start_h + t / 60 of the series; values hold for a whole hour and the
    series wrap around at their end."""

    carbon: tuple[StepSeries, ...]  # per zone, gCO2eq/kWh
    price: StepSeries  # per kWh, the reference's unitless currency
    server_zone: np.ndarray  # (n_servers,) index into carbon
    zones: tuple[str, ...]
    start_h: float
    carbon_kind: str
    """What the carbon numbers are, shown with every figure (average grid intensity or the seed's proxy)."""

    def hours(self, t_min: np.ndarray | float) -> np.ndarray:
        return self.start_h + np.asarray(t_min, dtype=np.float64) / 60.0

    def carbon_now(self, t_min: np.ndarray) -> np.ndarray:
        """(n, n_servers) g/kWh at times t_min (n,) in each server's zone."""
        hours = self.hours(t_min)
        by_zone = np.stack([series.at(hours) for series in self.carbon], axis=1)  # (n, n_zones)
        return by_zone[:, self.server_zone]

    def carbon_mean(self, server: np.ndarray, start_min: np.ndarray, duration_min: np.ndarray) -> np.ndarray:
        """(n,) mean g/kWh over [start, start + duration) in the zone of each job's server."""
        out = np.empty(len(server))
        zone = self.server_zone[server]
        for z, series in enumerate(self.carbon):
            rows = zone == z
            out[rows] = series.mean(self.hours(start_min[rows]), duration_min[rows] / 60.0)
        return out

    @cached_property
    def carbon_tables(self) -> list[tuple[list[float], list[float]]]:
        """Per zone (running sum, values) as Python lists, for `carbon_mean_one` in the event loop."""
        return [(s.cum.tolist(), s.values.tolist()) for s in self.carbon]

    def carbon_mean_one(self, server: int, start_min: float, duration_min: float) -> float:
        """carbon_mean for one job, in plain floats (a numpy call per job would cost 10x more)."""
        cum, values = self.carbon_tables[self.server_zone_list[server]]
        start_h, duration_h = self.start_h + start_min / 60.0, duration_min / 60.0
        if duration_h <= 0:
            return values[math.floor(start_h % len(values))]
        return (integral_at(cum, values, start_h + duration_h) - integral_at(cum, values, start_h)) / duration_h

    @cached_property
    def server_zone_list(self) -> list[int]:
        return self.server_zone.tolist()


STEEL_STEPS_PER_HOUR = 4
"""The steel series behind the seed's carbon factor has 15-minute readings."""


def grid_clock(grid: GridSeries, server_zone: np.ndarray, energy_price: np.ndarray, basis: str = "direct", start_h: float = 0.0) -> Clock:
    """Real hourly average grid intensity per zone (Electricity Maps); price from the reference series."""
    series = tuple(StepSeries.of(values) for values in grid.intensity(basis))
    kind = f"average grid intensity, {basis} emissions (Electricity Maps), {INTENSITY_UNIT}"
    return Clock(series, StepSeries.of(energy_price), np.asarray(server_zone, dtype=np.intp), grid.zones, start_h, kind)


def reference_clock(signals: Signals, n_servers: int, start_h: float = 0.0) -> Clock:
    """The seed's proxy: (0.35 + carbon_factor) kg/kWh as g/kWh, hourly means of the 15-minute factor,
    one "zone" for every server. Not a grid intensity: it ranks hours, it does not measure emissions."""
    factor = signals.carbon_factor
    usable = len(factor) // STEEL_STEPS_PER_HOUR * STEEL_STEPS_PER_HOUR
    hourly = factor[:usable].reshape(-1, STEEL_STEPS_PER_HOUR).mean(axis=1)
    series = (StepSeries.of((CO2_BASE_KG_PER_KWH + hourly) * 1000.0),)
    kind = "proxy: (0.35 + carbon factor) x 1000, the seed's relative score, not a grid intensity"
    return Clock(series, StepSeries.of(signals.energy_price), np.zeros(n_servers, np.intp), ("proxy",), start_h, kind)
