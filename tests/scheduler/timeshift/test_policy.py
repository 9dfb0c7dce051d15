"""The when-policy (scheduler.timeshift.policy): bands, the seed's rule, and hand-computed decisions."""

import numpy as np
import pytest

from scheduler.core import bands, states, timing
from scheduler.core.series import StepSeries, area
from scheduler.timeshift import policy as ts
from xai.when import describe as describe_when

ECO_SLOWDOWN = 2.5


def _series() -> StepSeries:
    """Three days, hourly, 150 g except: hour 24 (yesterday at submission) 140, hours 29 and 31
    (yesterday, 5 and 7 h after submission) 50 and 55; the actual hours 53 and 55 are 60 and 65.
    Jobs are submitted at hour 48; the band reads hour 47, the latest reading then (_plan's now_g)."""
    values = np.full(72, 150.0)
    values[24], values[29], values[31] = 140.0, 50.0, 55.0
    values[53], values[55] = 60.0, 65.0
    return StepSeries.of(values)


def _plan(now_g=150.0, urgency=states.FLEXIBLE, deadline_min=600.0, runtime_min=60.0, interruptible=False, forecast="persistence"):
    series = _series()
    values = series.values.copy()
    values[47] = now_g
    series = StepSeries.of(values)
    config = timing.WhenConfig(bands.BandPolicy("absolute", 100.0, 200.0), forecast)
    return ts.plan_when(
        config,
        (series,),
        np.array([48.0]),
        np.array([0]),
        np.array([urgency], np.int8),
        np.array([deadline_min]),
        np.array([interruptible]),
        np.array([runtime_min]),
        np.array([1000.0]),
        np.array([400.0]),
        ECO_SLOWDOWN,
        np.random.default_rng(0),
    )


def test_medium_band_flexible_job_is_deferred_to_the_forecast_greenest_hour():
    t = _plan()
    assert t.band[0] == states.MEDIUM and t.action[0] == states.DEFER and t.reason[0] == states.REASON_DEFERRED
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


@pytest.mark.parametrize("urgency", [states.CRITICAL, states.NORMAL])
def test_critical_and_normal_jobs_run_now_in_the_medium_band(urgency):
    t = _plan(urgency=urgency)
    assert t.action[0] == states.RUN_FAST and t.start_h[0] == 48.0 and t.mode[0] == 0
    assert t.reason[0] == (states.REASON_CRITICAL if urgency == states.CRITICAL else states.REASON_NOT_FLEXIBLE)


def test_high_band_slows_non_critical_jobs_to_eco_but_never_critical_ones():
    eco = _plan(now_g=250.0, urgency=states.NORMAL, deadline_min=np.nan)
    assert eco.action[0] == states.RUN_ECO and eco.mode[0] == 1
    assert eco.finish_h[0] == pytest.approx(48.0 + ECO_SLOWDOWN)
    assert eco.energy_kwh[0] == pytest.approx(400 * 150 / 60 / 1000)  # 400 W for 150 min
    critical = _plan(now_g=250.0, urgency=states.CRITICAL)
    assert critical.action[0] == states.RUN_FAST and critical.mode[0] == 0 and critical.start_h[0] == 48.0


def test_eco_that_would_miss_the_deadline_runs_fast():
    t = _plan(now_g=250.0, urgency=states.NORMAL, deadline_min=90.0)
    assert t.action[0] == states.RUN_FAST and t.reason[0] == states.REASON_ECO_LATE and t.finish_h[0] == 49.0


def test_low_band_runs_now_fast():
    t = _plan(now_g=80.0)
    assert t.band[0] == states.LOW and t.action[0] == states.RUN_FAST and t.start_h[0] == 48.0


def test_a_deadline_with_no_room_runs_now():
    t = _plan(deadline_min=60.0)
    assert t.action[0] == states.RUN_FAST and t.reason[0] == states.REASON_NO_ROOM


def test_now_is_kept_when_the_forecast_finds_nothing_greener():
    t = _plan(deadline_min=240.0)  # hours 48..51: the persistence forecast 140 now, 150 after
    assert t.action[0] == states.RUN_FAST and t.reason[0] == states.REASON_NOW_GREENEST and t.start_h[0] == 48.0


def test_flexible_job_without_deadline_waits_at_most_the_configured_slack():
    t = _plan(deadline_min=np.nan)
    assert t.deadline_h[0] == pytest.approx(48.0 + 1.0 + 24.0) and t.finish_h[0] <= t.deadline_h[0]


def test_percentile_bands_use_only_the_past_week():
    rng = np.random.default_rng(1)
    values = rng.uniform(0, 500, 400)
    policy = bands.BandPolicy("percentile", 33, 67, 168)
    low, high = policy.edges(values, np.array([200, 5]))
    assert low[0] == pytest.approx(np.percentile(values[32:200], 33)) and high[0] == pytest.approx(np.percentile(values[32:200], 67))
    wrapped = np.concatenate([values[5 - 168 :], values[:5]])  # the series wraps round
    assert low[1] == pytest.approx(np.percentile(wrapped, 33))


@pytest.mark.parametrize(("text", "kind"), [("p33,p67", "percentile"), ("140, 260", "absolute")])
def test_band_thresholds_parse(text, kind):
    assert bands.BandPolicy.parse(text).kind == kind


@pytest.mark.parametrize("text", ["p67,p33", "1", "p10,200", "a,b", "p-5,p50"])
def test_bad_band_thresholds_say_why(text):
    with pytest.raises(ValueError, match="thresholds|percentiles|rise"):
        bands.BandPolicy.parse(text)


def test_random_plans_never_miss_a_feasible_deadline_and_never_move_critical_jobs():
    rng = np.random.default_rng(7)
    series = StepSeries.of(rng.uniform(20, 400, 24 * 30))
    n = 400
    hour = rng.uniform(24 * 8, 24 * 20, n)
    urgency = rng.integers(0, 3, n).astype(np.int8)
    runtime = rng.uniform(5, 600, n)
    deadline = np.where(rng.random(n) < 0.3, np.nan, runtime + rng.uniform(0, 48 * 60, n))
    for forecast in ("perfect", "persistence", "noisy"):
        config = timing.WhenConfig(bands.BandPolicy(), forecast)
        t = ts.plan_when(
            config,
            (series,),
            hour,
            np.zeros(n, np.intp),
            urgency,
            deadline,
            rng.random(n) < 0.5,
            runtime,
            np.full(n, 300.0),
            np.full(n, 120.0),
            ECO_SLOWDOWN,
            np.random.default_rng(3),
        )
        has = ~np.isnan(t.deadline_h)
        assert (t.finish_h[has] <= t.deadline_h[has] + 1e-9).all()
        assert (t.start_h >= hour - 1e-12).all()
        critical = urgency == states.CRITICAL
        assert (t.start_h[critical] == hour[critical]).all() and (t.mode[critical] == 0).all()
        for row, pieces in t.runs.items():
            assert sum(b - a for a, b in pieces) == pytest.approx(runtime[row] / 60)


def _batch(n: int, seed: int, first_h: float, span_h: float) -> dict:
    """n flexible jobs on two zones submitted over [first_h, first_h + span_h), half interruptible."""
    rng = np.random.default_rng(seed)
    runtime = rng.uniform(5, 600, n)
    hour = rng.uniform(first_h, first_h + span_h, n)
    return {
        "hour": np.where(rng.random(n) < 0.2, np.floor(hour), hour),  # some on the hour
        "zone": rng.integers(0, 2, n),
        "urgency": np.full(n, states.FLEXIBLE, np.int8),
        "deadline_min": runtime + rng.uniform(1, 72 * 60, n),
        "interruptible": rng.random(n) < 0.5,
        "runtime_min": runtime,
        "power_fast_w": rng.uniform(50, 500, n),
        "power_eco_w": np.full(n, 40.0),
    }


def _two_zones(seed: int = 7) -> tuple[StepSeries, StepSeries]:
    rng = np.random.default_rng(seed)
    return StepSeries.of(rng.uniform(20, 400, 24 * 30)), StepSeries.of(rng.uniform(100, 200, 24 * 30))


def _plan_batch(config: timing.WhenConfig, series: tuple[StepSeries, ...], jobs: dict, seed: int = 3) -> timing.Timing:
    arrays = {k: v.copy() for k, v in jobs.items()}
    return ts.plan_when(config, series, **arrays, eco_slowdown=ECO_SLOWDOWN, rng=np.random.default_rng(seed))


def _one_at_a_time(config: timing.WhenConfig, series: tuple[StepSeries, ...], jobs: dict, deadline_h: np.ndarray) -> list[tuple]:
    """The plain reference: each job's own forecast window and plan (planner.best_block / best_slots)."""
    from scheduler.timeshift import forecast, planner

    out = []
    for h, z, run_min, e, split, watts in zip(
        jobs["hour"].tolist(),
        jobs["zone"].tolist(),
        jobs["runtime_min"].tolist(),
        deadline_h.tolist(),
        jobs["interruptible"].tolist(),
        jobs["power_fast_w"].tolist(),
    ):
        d, base = run_min / 60, int(np.floor(h)) - 24
        excerpt = np.take(series[z].values, np.arange(base, int(np.ceil(e))), mode="wrap")
        window = forecast.make_forecast(config.forecast, excerpt, period_slots=24).window(24, len(excerpt))
        if split:
            pieces = planner.best_slots(window, 24, h - base, d, e - base)
        else:
            begin = planner.best_block(window, 24, h - base, d, e - base)
            pieces = [(begin, begin + d)]
        planned = sum(area(window, a - 24, b - 24) for a, b in pieces)
        now = area(window, h - base - 24, h - base - 24 + d)
        out.append(([(a + base, b + base) for a, b in pieces], watts * (now - planned) / 1e6, planned / d))
    return out


@pytest.mark.parametrize("forecast", ["persistence", "perfect"])
def test_batched_deferral_matches_planning_each_job_alone(forecast):
    series = _two_zones()
    jobs = _batch(1500, 11, 24 * 8, 24 * 40)  # the clock passes the 30-day series' end: it wraps
    config = timing.WhenConfig(bands.BandPolicy("absolute", 0.0, 1e9), forecast)  # every job in the medium band
    t = _plan_batch(config, series, jobs)
    expected = _one_at_a_time(config, series, jobs, t.deadline_h)
    assert 0 < (t.action == states.DEFER).sum() < len(t) and t.runs
    for row, (pieces, saved, forecast_g) in enumerate(expected):
        moved = len(pieces) > 1 or pieces[0][0] > jobs["hour"][row] + ts.EPS_H
        assert (t.action[row] == states.DEFER) == moved
        assert t.forecast_g[row] == pytest.approx(forecast_g)
        if moved:
            got = t.runs.get(row, ((t.start_h[row], t.finish_h[row]),))
            assert np.allclose(got, pieces, rtol=0, atol=1e-9) and t.saved_expected_kg[row] == pytest.approx(saved, rel=1e-9, abs=1e-15)
            actual = series[jobs["zone"][row]]
            measured = sum(actual.integral(b) - actual.integral(a) for a, b in pieces) * jobs["power_fast_w"][row] / 1e6
            assert t.co2_kg[row] == pytest.approx(measured)
        else:
            assert t.saved_expected_kg[row] == 0 and t.start_h[row] == jobs["hour"][row]


def test_no_choice_reads_the_actual_signal_at_or_after_the_decision_slot():
    """The band compares the latest reading (the hour before) and deferral reads the persistence
    forecast: rewriting the hour under way and everything after changes no decision."""
    medium, high = (s.values.copy() for s in _two_zones())
    medium[199], high[199] = np.median(medium[32:199]), 1000.0  # the readings the bands compare
    series = (StepSeries.of(medium), StepSeries.of(high))
    jobs = _batch(400, 5, 200.0, 0.99)  # every job decided at the start of slot 200
    jobs["urgency"] = np.arange(400, dtype=np.int8) % 3
    config = timing.WhenConfig(bands.BandPolicy("percentile", 33, 67, 168), "persistence")
    before = _plan_batch(config, series, jobs)
    rng = np.random.default_rng(1)
    future = tuple(StepSeries.of(np.r_[s.values[:200], rng.uniform(0, 900, len(s.values) - 200)]) for s in series)
    after = _plan_batch(config, future, jobs)
    assert (before.action == states.DEFER).any() and (before.mode == 1).any()
    decided = (
        "band",
        "intensity_now_g",
        "band_low_g",
        "band_high_g",
        "action",
        "reason",
        "mode",
        "start_h",
        "finish_h",
        "saved_expected_kg",
    )
    for field in decided:
        assert np.array_equal(getattr(before, field), getattr(after, field)), field
    assert before.runs == after.runs and not np.array_equal(before.co2_kg, after.co2_kg)  # only what was measured changed


def test_the_band_reads_the_hour_before_submission():
    t = _plan(now_g=80.0)  # hour 47; the hour under way (48) is 150
    assert t.intensity_now_g[0] == 80.0 and t.band[0] == states.LOW


def test_a_deadline_a_hair_past_a_slot_boundary_is_planned():
    # 48 + 2 h + 6e-10 min: ceil() of the deadline is slot 51 although it ends within float noise of 50.
    for interruptible in (False, True):
        t = _plan(deadline_min=120.0 + 6e-10, interruptible=interruptible)
        assert t.finish_h[0] <= t.deadline_h[0] and t.reason[0] in (states.REASON_DEFERRED, states.REASON_NOW_GREENEST)


def test_a_job_too_short_to_save_anything_runs_now():
    for interruptible in (False, True):
        t = _plan(runtime_min=1e-9, interruptible=interruptible)
        assert t.action[0] == states.RUN_FAST and t.reason[0] == states.REASON_TOO_SHORT and t.start_h[0] == 48.0
        text = describe_when(t, ["ES"], ["a"], ["b"], ["c"], timing.WhenConfig())[0]
        assert "too short" in text


def test_eco_that_costs_more_energy_says_so():
    # ECO at 500 W for 2.5 h draws more than FAST at 1000 W for 1 h: the expected "saving" is negative.
    series = _series()
    config = timing.WhenConfig(bands.BandPolicy("absolute", 100.0, 120.0))
    t = ts.plan_when(
        config,
        (series,),
        np.array([48.0]),
        np.array([0]),
        np.array([states.NORMAL], np.int8),
        np.array([np.nan]),
        np.array([False]),
        np.array([60.0]),
        np.array([1000.0]),
        np.array([500.0]),
        ECO_SLOWDOWN,
        np.random.default_rng(0),
    )
    assert t.mode[0] == 1 and t.saved_expected_kg[0] == pytest.approx((1000 - 1250) * 150 / 1e6)
    text = describe_when(t, ["ES"], ["a"], ["b"], ["c"], config)[0]
    assert "expected to emit 0.0375 kg CO2 more" in text and "saves" not in text


def test_long_windows_are_planned_in_groups_of_bounded_size():
    span = np.r_[np.full(600, 30.0), np.full(600, 20_000.0)]
    groups = ts._groups(np.arange(1200), span, 512)
    assert sorted(np.concatenate(groups).tolist()) == list(range(1200))
    assert all(len(g) * span[g].max() <= ts.PLAN_CELLS or len(g) == 1 for g in groups) and max(map(len, groups)) == 512


def test_noisy_deferral_is_the_same_for_the_same_stream():
    series, jobs = _two_zones(), _batch(300, 2, 24 * 8, 48)
    config = timing.WhenConfig(bands.BandPolicy("absolute", 0.0, 1e9), "noisy", forecast_error=0.3)
    a, b, c = (_plan_batch(config, series, jobs, seed) for seed in (4, 4, 5))
    assert np.array_equal(a.start_h, b.start_h) and a.runs == b.runs and np.array_equal(a.saved_expected_kg, b.saved_expected_kg)
    assert not np.array_equal(a.start_h, c.start_h)
    assert (a.finish_h <= a.deadline_h + 1e-9).all()
