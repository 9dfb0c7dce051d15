import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.core.bands import carbon_band
from scheduler.data.signals import min_max, rank_percentile


@given(st.lists(st.integers(0, 5), min_size=1, max_size=60))
def test_rank_percentile_matches_pandas(values):
    array = np.array(values, dtype=float)
    np.testing.assert_allclose(rank_percentile(array), pd.Series(array).rank(pct=True).to_numpy())


def test_carbon_factor_blends_co2_rank_and_time_of_day(world, datasets):
    expected = 0.5 * pd.Series(datasets.steel_co2_t).rank(pct=True).to_numpy() + 0.5 * min_max(datasets.steel_nsm_s)
    np.testing.assert_allclose(world.signals.carbon_factor, expected)
    assert world.signals.carbon_factor.min() >= 0 and world.signals.carbon_factor.max() <= 1
    load = world.signals.load
    assert load[0] == pytest.approx((56 + 55) / 200) and load.max() <= 1.0


def test_min_max_of_constant_series_is_zero():
    assert min_max(np.array([3.0, 3.0])).tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("factor", "band"), [(0.0, "low"), (0.3499, "low"), (0.35, "medium"), (0.6499, "medium"), (0.65, "high"), (1.0, "high")]
)
def test_carbon_bands(factor, band):
    assert carbon_band(factor) == band


def test_positions_wrap_each_series_on_its_own_length(world):
    idx = world.signals.positions(1999, 3)
    assert idx.task.tolist() == [1999, 0, 1] and idx.price.tolist() == [1999, 0, 1]
    assert idx.steel.tolist() == [1999, 2000, 2001]
