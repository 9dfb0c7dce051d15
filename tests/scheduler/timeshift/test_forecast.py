"""Forecasts: each kind's values, determinism, and that none of them looks past the decision time."""

import numpy as np
import pytest

from scheduler.data.carbon_csv import read_issued_forecasts, read_series_csv
from scheduler.data.carbon_series import CarbonSeries
from scheduler.data.issued_forecasts import IssuedForecasts, issued_from_arrays
from scheduler.settings import ROOT
from scheduler.timeshift.forecast import (
    FORECASTS,
    IssuedForecast,
    NoisyForecast,
    PerfectForecast,
    PersistenceForecast,
    gather_windows,
    make_forecast,
)
from scheduler.timeshift.planner import PlanJobs, best_block, plan

WATTTIME = ROOT.parent / "shared" / "data" / "grid-carbon" / "watttime-caiso-north-2023"
needs_watttime = pytest.mark.skipif(
    not WATTTIME.is_dir(),
    reason=f"the WattTime files are not at {WATTTIME} (../shared is absent)",
)
T0 = np.datetime64("2023-01-01T00:00")


def issued_of(rows: list[tuple[str, str, float]]) -> IssuedForecasts:
    request, forecast, values = zip(*rows)
    return issued_from_arrays(
        np.array(request, "datetime64[m]"),
        np.array(forecast, "datetime64[m]"),
        np.array(values, float),
    )


def test_perfect_is_the_actual_future():
    actual = np.arange(10.0)
    np.testing.assert_array_equal(PerfectForecast(actual).window(3, 7), [3, 4, 5, 6])


def test_noisy_is_seeded_clipped_and_scaled_by_the_series_mean():
    actual = np.full(20_000, 100.0)
    a = NoisyForecast(actual, 0.1, np.random.default_rng(3))
    b = NoisyForecast(actual, 0.1, np.random.default_rng(3))
    np.testing.assert_array_equal(a.window(0, 20_000), b.window(0, 20_000))
    assert not np.array_equal(a.values, NoisyForecast(actual, 0.1, np.random.default_rng(4)).values)
    assert np.std(a.values - actual) == pytest.approx(10.0, rel=0.03)  # 0.1 x the mean
    assert (NoisyForecast(np.full(1000, 1.0), 3.0, np.random.default_rng(0)).values >= 0).all()
    # One draw per slot, not per call
    np.testing.assert_array_equal(a.window(5, 9), a.window(5, 9))


def test_persistence_repeats_the_last_period_of_history():
    actual = np.arange(10.0)
    f = PersistenceForecast(actual, 3)
    # Slots 1..3 repeated
    np.testing.assert_array_equal(f.window(4, 10), [1, 2, 3, 1, 2, 3])
    # Under a period of history: the last value
    np.testing.assert_array_equal(f.window(1, 4), [0, 0, 0])
    np.testing.assert_array_equal(f.window(0, 2), [0, 0])  # no history: the first value


@pytest.mark.parametrize("kind", ["perfect", "noisy", "persistence", "issued"])
def test_batched_windows_equal_one_window_at_a_time(kind):
    rng = np.random.default_rng(1)
    series = CarbonSeries(T0, 30, rng.uniform(0, 100, 200))
    issued = issued_of(
        [
            (
                str(T0 + np.timedelta64(60 * h, "m")),
                str(T0 + np.timedelta64(60 * h + 5 * k, "m")),
                float(h + k),
            )
            for h in range(50)
            for k in range(1, 14)
        ]
    )
    f = make_forecast(
        kind,
        series.values,
        rng=np.random.default_rng(2),
        period_slots=48,
        issued=issued,
        series=series,
    )
    s = rng.integers(0, 150, 30)
    batched = gather_windows(f, s, 40)
    for i, first in enumerate(s.tolist()):
        np.testing.assert_allclose(batched[i], f.window(first, first + 40))


@pytest.mark.parametrize("kind", ["persistence", "issued"])
def test_a_window_never_depends_on_the_actual_future(kind):
    rng = np.random.default_rng(5)
    actual = rng.uniform(0, 100, 300)
    series = CarbonSeries(T0, 60, actual)
    issued = issued_of([(str(T0), str(T0 + np.timedelta64(30, "m")), 5.0)])
    for s in [0, 1, *rng.integers(0, 280, 50).tolist()]:  # 0: no history at all
        changed = actual.copy()
        changed[s:] = rng.uniform(0, 100, len(actual) - s)
        before = make_forecast(kind, actual, period_slots=24, issued=issued, series=series).window(s, s + 20)
        after = make_forecast(
            kind,
            changed,
            period_slots=24,
            issued=issued,
            series=CarbonSeries(T0, 60, changed),
        ).window(s, s + 20)
        np.testing.assert_array_equal(before, after)


def test_a_decision_in_the_first_slot_does_not_read_that_slots_value():
    """Regression: at slot 0 persistence (and the part an issue leaves uncovered) used actual[0], the
    value of the slot being decided, so the block below moved between slot 0 and slot 2 with it."""
    issued = issued_of([(str(T0), str(T0 + np.timedelta64(5 * k, "m")), 10.0) for k in range(1, 14)])
    starts = []
    for first in (0.0, 1000.0):
        actual = np.array([first, 5, 5, 5, 5, 5])
        window = IssuedForecast(actual, issued, CarbonSeries(T0, 60, actual)).window(0, 3)
        starts.append(best_block(window, 0, 0.0, 1.0, 3.0))
        np.testing.assert_array_equal(PersistenceForecast(actual, 2).window(0, 3), [0, 0, 0])  # flat: every start ties
    assert starts[0] == starts[1]


def test_issued_forecasts_cover_slots_time_weighted_and_fall_back_to_persistence():
    series = CarbonSeries(T0, 30, np.full(8, 10.0))
    rows = [("2023-01-01T00:00", str(T0 + np.timedelta64(5 * k, "m")), 100.0) for k in range(1, 14)]
    rows += [("2023-01-01T01:00", str(T0 + np.timedelta64(60 + 5 * k, "m")), 200.0) for k in range(1, 14)]
    f = IssuedForecast(series.values, issued_of(rows), series)
    # At 00:00 there is no history to persist: what the issue leaves uncovered takes its mean
    np.testing.assert_allclose(f.window(0, 4), [100, 100, 100, 100])
    # 00:30: still the 00:00 issue; slot 2 is 01:00-01:10 issued (10 min of 100) + 20 min persistence (10)
    np.testing.assert_allclose(f.window(1, 4), [100, (10 * 100 + 20 * 10) / 30, 10])
    # Issued at 01:00
    np.testing.assert_allclose(f.window(2, 5), [(25 * 200 + 5 * 10) / 30, 200, (10 * 200 + 20 * 10) / 30])
    early = IssuedForecast(
        series.values,
        issued_of([("2023-01-01T02:00", "2023-01-01T02:05", 1.0)]),
        series,
    )
    # Nothing issued yet: persistence
    np.testing.assert_array_equal(early.window(1, 3), [10, 10])


def test_only_issues_made_at_or_before_the_decision_time_are_used():
    rng = np.random.default_rng(9)
    series = CarbonSeries(T0, 5, rng.uniform(100, 200, 600))
    rows = [
        (
            str(T0 + np.timedelta64(5 * r, "m")),
            str(T0 + np.timedelta64(5 * (r + k), "m")),
            float(rng.uniform(0, 300)),
        )
        for r in range(580)
        for k in range(1, 14)
    ]
    full = issued_of(rows)
    for s in (0, 7, 100, 333, 579):
        decision = T0 + np.timedelta64(5 * s, "m")
        known = issued_of([r for r in rows if np.datetime64(r[0]) <= decision])
        later = issued_of([r if np.datetime64(r[0]) <= decision else (r[0], r[1], 1e6) for r in rows])
        for issued in (known, later):
            np.testing.assert_array_equal(
                IssuedForecast(series.values, issued, series).window(s, s + 20),
                IssuedForecast(series.values, full, series).window(s, s + 20),
            )


def test_make_forecast_checks_its_inputs():
    actual = np.ones(4)
    assert {
        make_forecast(
            k,
            actual,
            rng=np.random.default_rng(0),
            period_slots=2,
            issued=issued_of([(str(T0), str(T0), 1.0)]),
            series=CarbonSeries(T0, 60, actual),
        ).name
        for k in FORECASTS
    } == set(FORECASTS)
    for kind, needle in (
        ("noisy", "rng"),
        ("persistence", "period_slots"),
        ("issued", "issued"),
        ("oracle", "unknown forecast"),
    ):
        with pytest.raises(ValueError, match=needle):
            make_forecast(kind, actual)
    for error in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="error must be a finite number >= 0"):
            NoisyForecast(actual, error, np.random.default_rng(0))
    with pytest.raises(ValueError, match="overflows"):
        NoisyForecast(actual * 100, 1e308, np.random.default_rng(0))  # std 1e310: inf


@needs_watttime
def test_watttime_issued_forecasts_drive_decisions_with_what_was_known():
    series = read_series_csv(WATTTIME / "watttime2023_caiso-north_actual.csv", unit="lbs_per_mwh")
    issued = read_issued_forecasts(WATTTIME / "watttime2023_caiso-north_forecast.csv", unit="lbs_per_mwh")
    f = IssuedForecast(series.values, issued, series)
    s = 2000
    times, values = issued.issue(issued.latest_at(series.time_of(s)))
    # Issued at slot s's start
    assert times[0] == series.start + np.timedelta64(5 * (s + 1), "m")
    window = f.window(s, s + 20)
    # 5..65 min ahead, one 5-min slot each
    np.testing.assert_allclose(window[1:14], values)
    # The current slot is not forecast: yesterday's value
    assert window[0] == series.values[s - 288]
    # Jobs decided by a cut-off get the same plan whether or not the issues after it exist.
    rng = np.random.default_rng(0)
    submit = np.sort(rng.uniform(300, 8000, 200))
    duration = rng.uniform(3, 24, 200)
    jobs = PlanJobs(
        np.arange(200).astype(str),
        submit,
        duration,
        submit + duration + rng.uniform(0, 36, 200),
        rng.random(200) < 0.5,
        np.ones(200),
        5.0,
    )
    decided = np.flatnonzero(np.floor(submit) <= np.floor(submit[99]))
    keep = int((issued.request <= np.datetime64(series.time_of(np.floor(submit[99])), "m")).sum())
    rows = slice(0, issued.offsets[keep])
    known = IssuedForecasts(
        issued.request[:keep],
        issued.offsets[: keep + 1],
        issued.forecast_time[rows],
        issued.values[rows],
        issued.step_min,
    )
    with_all, with_known = (plan(series.values, jobs, IssuedForecast(series.values, i, series)) for i in (issued, known))
    assert [with_all.runs(i) for i in decided] == [with_known.runs(i) for i in decided]
    assert [with_all.runs(i) for i in range(100, 200)] != [with_known.runs(i) for i in range(100, 200)]  # later jobs did use them
    perfect = plan(series.values, jobs, PerfectForecast(series.values))
    assert with_all.deadline_misses == 0 and perfect.total_kg <= with_all.total_kg + 1e-12
