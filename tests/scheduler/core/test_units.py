"""The unit conversions (scheduler.core.units), checked against hand-computed cases."""

import numpy as np
import pytest

from scheduler.core import units


def test_watt_minutes_to_kwh():
    assert units.kwh(160.0, 120.0) == pytest.approx(0.32)  # 160 W for 2 h
    np.testing.assert_allclose(units.kwh(np.array([1000.0, 500.0]), np.array([60.0, 30.0])), [1.0, 0.25])


def test_grams_to_kilograms_and_emissions():
    assert units.kg(2500.0) == 2.5
    assert units.co2_kg(2.0, 300.0) == pytest.approx(0.6)  # 2 kWh at 300 g/kWh
    assert units.co2_kg_of_area(500.0, 2.0 * 400.0) == pytest.approx(0.4)  # 500 W for 2 h at 400 g/kWh


def test_floats_stay_floats_and_arrays_stay_arrays():
    assert type(units.kwh(1.0, 1.0)) is float
    assert isinstance(units.kg(np.ones(3)), np.ndarray)
