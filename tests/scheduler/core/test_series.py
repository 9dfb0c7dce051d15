"""The one step-function integral (scheduler.core.series): its readings agree with each other and with
a plain sum over slots."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.core.series import StepSeries, area, integral, integral_at, prefix_sums

VALUES = st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=30)


def test_step_series_means_are_exact_for_hourly_steps():
    s = StepSeries.of(np.array([10.0, 20.0, 30.0]))
    assert s.mean(0.5, 2.0) == pytest.approx((0.5 * 10 + 20 + 0.5 * 30) / 2)
    assert s.mean(2.5, 1.0) == pytest.approx((0.5 * 30 + 0.5 * 10) / 1)  # wraps round the end
    assert s.mean(1.2, 0.0) == 20.0  # no duration: the value holding at the start
    assert s.mean(0.0, 3.0 * 5) == pytest.approx(20.0)  # whole laps
    np.testing.assert_allclose(s.mean(np.array([0.0, 1.0]), np.array([1.0, 1.0])), [10.0, 20.0])


def plain_integral(values: list[float], x: float) -> float:
    """Slot by slot, the definition: whole slots below x, then the part of the slot x falls in."""
    total, k = 0.0, 0
    while k + 1 <= x:
        total += values[k % len(values)]
        k += 1
    return total + (x - k) * values[k % len(values)]


@given(VALUES, st.floats(0, 200, allow_nan=False))
def test_the_wrapping_integral_is_the_plain_sum_and_the_scalar_path_is_bit_for_bit_the_same(values, x):
    s = StepSeries.of(np.array(values))
    assert float(s.integral(x)) == pytest.approx(plain_integral(values, x), rel=1e-9, abs=1e-6)
    assert integral_at(s.cum.tolist(), s.values.tolist(), x) == float(s.integral(x))


@given(VALUES, st.floats(-5, 40, allow_nan=False), st.floats(-5, 40, allow_nan=False))
def test_clipped_integrals_hold_x_inside_the_series(values, a, b):
    v = np.array(values)
    if 0 <= b < len(v):  # inside, the plain sum; outside, the first or last slot extends (checked below)
        assert float(integral(prefix_sums(v), v, b)) == pytest.approx(plain_integral(values, b), rel=1e-9, abs=1e-6)
    assert area(v, a, b) == pytest.approx(float(integral(prefix_sums(v), v, b) - integral(prefix_sums(v), v, a)))


def test_many_series_by_row_or_by_rows_read_each_row_as_its_own_series():
    rng = np.random.default_rng(3)
    window = rng.uniform(0, 500, (4, 9))
    cum = prefix_sums(window)
    x = rng.uniform(0, 9, (4, 5))
    by_row = integral(cum, window, x)
    one_by_one = np.stack([integral(prefix_sums(window[i]), window[i], x[i]) for i in range(4)])
    assert np.array_equal(by_row, one_by_one)
    rows = np.array([2, 0, 2, 3])
    xs = np.array([0.5, 8.9, 3.0, 11.0])  # 11.0 is past the end: the last slot extends
    picked = integral(cum, window, xs, rows=rows)
    assert np.array_equal(picked, [float(integral(prefix_sums(window[r]), window[r], v)) for r, v in zip(rows, xs)])
    assert picked[3] == pytest.approx(window[3].sum() + 2.0 * window[3, -1])


def test_prefix_sums_start_at_zero_along_the_last_axis():
    np.testing.assert_array_equal(prefix_sums(np.array([1.0, 2.0, 3.0])), [0.0, 1.0, 3.0, 6.0])
    np.testing.assert_array_equal(prefix_sums(np.ones((2, 2))), [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])
