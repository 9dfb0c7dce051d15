"""The when-policy (scheduler.timeshift): bands, the seed's rule, and hand-computed decisions."""

import numpy as np
import pytest

from scheduler import timeshift as ts
from scheduler.grid import StepSeries

ECO_SLOWDOWN = 2.5


def _series() -> StepSeries:
    """Three days, hourly, 150 g except: hour 24 (yesterday at submission) 140, hours 29 and 31
    (yesterday, 5 and 7 h after submission) 50 and 55; the actual hours 53 and 55 are 60 and 65."""
    values = np.full(72, 150.0)
    values[24], values[29], values[31] = 140.0, 50.0, 55.0
    values[53], values[55] = 60.0, 65.0
    return StepSeries.of(values)


def _plan(now_g=150.0, urgency=ts.FLEXIBLE, deadline_min=600.0, runtime_min=60.0, interruptible=False, forecast="persistence"):
    series = _series()
    values = series.values.copy()
    values[48] = now_g
    series = StepSeries.of(values)
    config = ts.WhenConfig(ts.BandPolicy("absolute", 100.0, 200.0), forecast)
    return ts.plan_when(
        config, (series,), np.array([48.0]), np.array([0]), np.array([urgency], np.int8), np.array([deadline_min]),
        np.array([interruptible]), np.array([runtime_min]), np.array([1000.0]), np.array([400.0]), ECO_SLOWDOWN,
        np.random.default_rng(0),
    )  # fmt: skip


def test_medium_band_flexible_job_is_deferred_to_the_forecast_greenest_hour():
    t = _plan()
    assert t.band[0] == ts.MEDIUM and t.action[0] == ts.DEFER and t.reason[0] == ts.REASON_DEFERRED
    # Persistence: hour 48 + k is forecast as hour 24 + k; the cheapest is hour 29 (50 g) -> start 53.
    assert t.start_h[0] == 53.0 and t.finish_h[0] == 54.0 and t.mode[0] == 0
    assert t.co2_kg[0] == pytest.approx(1000 * 60 / 1e6)  # measured on the actual hour 53: 60 g
    assert t.co2_now_kg[0] == pytest.approx(1000 * 150 / 1e6)
    assert t.saved_expected_kg[0] == pytest.approx(1000 * (140 - 50) / 1e6)  # forecast: now 140, hour 53 50
    assert t.forecast_g[0] == pytest.approx(50.0)


def test_perfect_forecast_reads_the_actual_future():
    t = _plan(forecast="perfect")
    assert t.start_h[0] == 53.0 and t.saved_expected_kg[0] == pytest.approx(1000 * (150 - 60) / 1e6)


def test_interruptible_job_takes_the_cheapest_hours():
    t = _plan(runtime_min=120.0, interruptible=True)
    assert t.runs[0] == ((53.0, 54.0), (55.0, 56.0))
    assert t.co2_kg[0] == pytest.approx(1000 * (60 + 65) / 1e6)


@pytest.mark.parametrize("urgency", [ts.CRITICAL, ts.NORMAL])
def test_critical_and_normal_jobs_run_now_in_the_medium_band(urgency):
    t = _plan(urgency=urgency)
    assert t.action[0] == ts.RUN_FAST and t.start_h[0] == 48.0 and t.mode[0] == 0
    assert t.reason[0] == (ts.REASON_CRITICAL if urgency == ts.CRITICAL else ts.REASON_NOT_FLEXIBLE)


def test_high_band_slows_non_critical_jobs_to_eco_but_never_critical_ones():
    eco = _plan(now_g=250.0, urgency=ts.NORMAL, deadline_min=np.nan)
    assert eco.action[0] == ts.RUN_ECO and eco.mode[0] == 1
    assert eco.finish_h[0] == pytest.approx(48.0 + ECO_SLOWDOWN)
    assert eco.energy_kwh[0] == pytest.approx(400 * 150 / 60 / 1000)  # 400 W for 150 min
    critical = _plan(now_g=250.0, urgency=ts.CRITICAL)
    assert critical.action[0] == ts.RUN_FAST and critical.mode[0] == 0 and critical.start_h[0] == 48.0


def test_eco_that_would_miss_the_deadline_runs_fast():
    t = _plan(now_g=250.0, urgency=ts.NORMAL, deadline_min=90.0)
    assert t.action[0] == ts.RUN_FAST and t.reason[0] == ts.REASON_ECO_LATE and t.finish_h[0] == 49.0


def test_low_band_runs_now_fast():
    t = _plan(now_g=80.0)
    assert t.band[0] == ts.LOW and t.action[0] == ts.RUN_FAST and t.start_h[0] == 48.0


def test_a_deadline_with_no_room_runs_now():
    t = _plan(deadline_min=60.0)
    assert t.action[0] == ts.RUN_FAST and t.reason[0] == ts.REASON_NO_ROOM


def test_now_is_kept_when_the_forecast_finds_nothing_greener():
    t = _plan(deadline_min=240.0)  # hours 48..51: the persistence forecast 140 now, 150 after
    assert t.action[0] == ts.RUN_FAST and t.reason[0] == ts.REASON_NOW_GREENEST and t.start_h[0] == 48.0


def test_flexible_job_without_deadline_waits_at_most_the_configured_slack():
    t = _plan(deadline_min=np.nan)
    assert t.deadline_h[0] == pytest.approx(48.0 + 1.0 + 24.0) and t.finish_h[0] <= t.deadline_h[0]


def test_percentile_bands_use_only_the_past_week():
    rng = np.random.default_rng(1)
    values = rng.uniform(0, 500, 400)
    policy = ts.BandPolicy("percentile", 33, 67, 168)
    low, high = policy.edges(values, np.array([200, 5]))
    assert low[0] == pytest.approx(np.percentile(values[32:200], 33)) and high[0] == pytest.approx(np.percentile(values[32:200], 67))
    wrapped = np.concatenate([values[5 - 168 :], values[:5]])  # the series wraps round
    assert low[1] == pytest.approx(np.percentile(wrapped, 33))


@pytest.mark.parametrize(("text", "kind"), [("p33,p67", "percentile"), ("140, 260", "absolute")])
def test_band_thresholds_parse(text, kind):
    assert ts.BandPolicy.parse(text).kind == kind


@pytest.mark.parametrize("text", ["p67,p33", "1", "p10,200", "a,b", "p-5,p50"])
def test_bad_band_thresholds_say_why(text):
    with pytest.raises(ValueError, match="thresholds|percentiles|rise"):
        ts.BandPolicy.parse(text)


def test_random_plans_never_miss_a_feasible_deadline_and_never_move_critical_jobs():
    rng = np.random.default_rng(7)
    series = StepSeries.of(rng.uniform(20, 400, 24 * 30))
    n = 400
    hour = rng.uniform(24 * 8, 24 * 20, n)
    urgency = rng.integers(0, 3, n).astype(np.int8)
    runtime = rng.uniform(5, 600, n)
    deadline = np.where(rng.random(n) < 0.3, np.nan, runtime + rng.uniform(0, 48 * 60, n))
    for forecast in ("perfect", "persistence", "noisy"):
        config = ts.WhenConfig(ts.BandPolicy(), forecast)
        t = ts.plan_when(config, (series,), hour, np.zeros(n, np.intp), urgency, deadline, rng.random(n) < 0.5, runtime,
                         np.full(n, 300.0), np.full(n, 120.0), ECO_SLOWDOWN, np.random.default_rng(3))  # fmt: skip
        has = ~np.isnan(t.deadline_h)
        assert (t.finish_h[has] <= t.deadline_h[has] + 1e-9).all()
        assert (t.start_h >= hour - 1e-12).all()
        critical = urgency == ts.CRITICAL
        assert (t.start_h[critical] == hour[critical]).all() and (t.mode[critical] == 0).all()
        for row, pieces in t.runs.items():
            assert sum(b - a for a, b in pieces) == pytest.approx(runtime[row] / 60)
