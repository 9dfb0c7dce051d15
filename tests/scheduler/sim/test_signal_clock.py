"""The simulation clock of scheduler/sim/signal_clock.py: grid and reference carbon, and its one-job fast path."""

import numpy as np
import pytest

from scheduler.core.series import StepSeries
from scheduler.data.grid import REGIONS_FILE, load_grid, load_regions
from scheduler.settings import ROOT
from scheduler.sim.config import GRID_HOURS, REFERENCE_HOURS
from scheduler.sim.signal_clock import Clock, grid_clock, reference_clock

DATA = ROOT / "dataset_rl"


def real_grid_clock(world) -> Clock:
    """The shipped Electricity Maps series, each server on its zone from regions.csv."""
    grid = load_grid(DATA)
    return grid_clock(grid, load_regions(DATA / REGIONS_FILE, world.fleet.names, grid.zones), world.signals.energy_price)


@pytest.fixture(scope="module")
def grid_clock_real(world) -> Clock:
    return real_grid_clock(world)


def flat_clock(n_servers: int, hourly_g_per_kwh: list[float], price: float = 0.5) -> Clock:
    """Every server on one made-up zone with the given hourly intensities."""
    series = StepSeries.of(np.asarray(hourly_g_per_kwh, dtype=np.float64))
    return Clock((series,), StepSeries.of(np.array([price])), np.zeros(n_servers, np.intp), ("test",), 0.0, "test")


def test_clock_scalar_mean_matches_step_series(world, grid_clock_real):
    clock = grid_clock_real
    rng = np.random.default_rng(4)
    start = rng.uniform(0, 3 * 8760 * 60 * 1.5, 200)  # also past the end: the series wraps
    duration = rng.uniform(0.5, 5000, 200)
    server = rng.integers(9, size=200)
    vector = clock.carbon_mean(server, start, duration)
    scalar = [clock.carbon_mean_one(int(s), float(t), float(d)) for s, t, d in zip(server, start, duration)]
    np.testing.assert_allclose(scalar, vector, rtol=1e-9)


def test_grid_clock_reads_each_servers_zone(world):
    """At minute 90 of a clock started at hour 5, every server sees its own zone's hour-6 value."""
    grid = load_grid(DATA)
    zones = load_regions(DATA / REGIONS_FILE, world.fleet.names, grid.zones)
    clock = grid_clock(grid, zones, world.signals.energy_price, "lca", start_h=5.0)
    np.testing.assert_array_equal(clock.carbon_now(np.array([90.0]))[0], grid.lca_g_per_kwh[zones, 6])
    assert "average" in clock.carbon_kind and clock.zones == grid.zones


def test_reference_clock_is_one_proxy_zone_of_hourly_means(world):
    clock = reference_clock(world.signals, world.fleet.n_servers)
    factor = world.signals.carbon_factor
    assert clock.zones == ("proxy",) and (clock.server_zone == 0).all()
    assert clock.carbon[0].values[1] == pytest.approx((0.35 + factor[4:8].mean()) * 1000.0)  # hour 1: readings 4..7
    assert "not a grid intensity" in clock.carbon_kind


def test_series_lengths_behind_the_start_hour_bounds(world):
    """EvaluationConfig bounds start_hour by these constants; they must be the series' real lengths."""
    assert load_grid(DATA).n_hours == GRID_HOURS
    assert len(reference_clock(world.signals, world.fleet.n_servers).carbon[0].values) == REFERENCE_HOURS
