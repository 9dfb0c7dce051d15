"""The planner: hand-computed plans, then 200 random cases against plain reference implementations."""

import math
from dataclasses import replace

import numpy as np
import pytest

from scheduler.core.series import area as integral
from scheduler.timeshift.forecast import NoisyForecast, PerfectForecast, PersistenceForecast
from scheduler.timeshift.planner import PlanJobs, best_block, best_slots, plan

SERIES = np.array([5.0, 1.0, 1.0, 9.0, 2.0])
NAN = math.nan
CASES = 200


def jobs_of(submit, duration, deadline, interruptible, power_w=None, step_min=60.0) -> PlanJobs:
    n = len(submit)
    power = np.full(n, 1000.0) if power_w is None else np.asarray(power_w, float)
    return PlanJobs(
        np.arange(n).astype(str),
        np.asarray(submit, float),
        np.asarray(duration, float),
        np.asarray(deadline, float),
        np.asarray(interruptible, bool),
        power,
        step_min,
    )


def test_integral_handles_fractional_ends():
    assert integral(SERIES, 0.5, 2.5) == 0.5 * 5 + 1 + 0.5 * 1
    assert integral(SERIES, 0.0, 5.0) == 18.0
    np.testing.assert_allclose(
        integral(SERIES, np.array([0.0, 3.25]), np.array([0.25, 4.5])),
        [1.25, 0.75 * 9 + 0.5 * 2],
    )


@pytest.mark.parametrize(
    "submit, duration, deadline, start",
    [
        (0.0, 2.0, 5.0, 1.0),  # slots 1-2 cost 2
        (0.5, 1.5, 4.5, 1.0),  # [1, 2.5) and [1.5, 3) both cost 1.5: the earliest
        # [0.5, 3) = 2.5 + 1 + 1: the end on a boundary, the start not
        (0.25, 2.5, 5.0, 0.5),
        (1.5, 1.0, 3.75, 1.5),  # every start in [1.5, 2] costs 1: the earliest
        (3.2, 1.0, 4.5, 3.5),  # the latest start: [3.5, 4.5) = 4.5 + 1
        (0.0, 2.0, NAN, 0.0),  # no deadline: at submission
        (0.7, 2.0, 2.7, 0.7),  # no slack
    ],
    ids=[
        "whole",
        "tie",
        "end-on-boundary",
        "flat",
        "latest",
        "no-deadline",
        "no-slack",
    ],
)
def test_best_block_by_hand(submit, duration, deadline, start):
    assert best_block(SERIES, 0, submit, duration, deadline) == pytest.approx(start, abs=1e-12)


@pytest.mark.parametrize(
    "series, submit, duration, deadline, runs",
    [
        # The half slot sits at the start of slot 4
        (SERIES, 0.0, 2.5, 5.0, [(1, 3), (4, 4.5)]),
        (SERIES, 0.5, 3.0, 5.0, [(1, 3), (4, 5)]),
        (SERIES, 0.5, 1.25, 3.5, [(1, 2.25)]),  # the part of slot 2 joins slot 1
        # The part of slot 1 joins slot 2
        ([9.0, 3.0, 1.0, 1.0], 0.0, 2.5, 4.0, [(1.5, 4)]),
        ([2.0, 1.0, 1.0, 1.0], 0.0, 2.0, 4.0, [(1, 3)]),  # ties: the earliest slots
        (SERIES, 0.25, 0.5, NAN, [(0.25, 0.75)]),
    ],
    ids=["half-slot", "full", "join-after", "join-before", "ties", "no-deadline"],
)
def test_best_slots_by_hand(series, submit, duration, deadline, runs):
    got = best_slots(np.asarray(series), 0, submit, duration, deadline)
    np.testing.assert_allclose(got, runs, atol=1e-12)


def test_a_plan_by_hand_in_kg():
    jobs = jobs_of(
        [0.5, 0.0, 0.0],
        [1.0, 2.0, 2.5],
        [NAN, 5.0, 5.0],
        [False, False, True],
        [2000, 1000, 1000],
    )
    p = plan(SERIES, jobs, PerfectForecast(SERIES))
    assert [p.runs(i) for i in range(3)] == [
        [(0.5, 1.5)],
        [(1.0, 3.0)],
        [(1.0, 3.0), (4.0, 4.5)],
    ]
    # kg = W x (g/kWh x h) / 1e6: 2000 W x 3 over [0.5, 1.5); 1000 W x 2; 1000 W x (2 + 1)
    np.testing.assert_allclose(p.emissions_kg, [0.006, 0.002, 0.003])
    np.testing.assert_allclose(p.baseline_kg, [0.006, 0.006, 0.0065])
    np.testing.assert_allclose(p.delay, [0.0, 1.0, 2.0])
    assert p.deadline_misses == 0 and p.total_kg == pytest.approx(0.011)
    half_hours = plan(SERIES, replace(jobs, step_min=30.0), PerfectForecast(SERIES))
    np.testing.assert_allclose(half_hours.emissions_kg, p.emissions_kg / 2)


def test_emissions_are_measured_on_the_actual_series():
    forecast = PerfectForecast(np.array([1.0, 9.0, 9.0, 9.0, 5.0]))  # slot 0: wrong
    p = plan(SERIES, jobs_of([0.0], [1.0], [5.0], [False]), forecast)
    assert p.runs(0) == [(0.0, 1.0)] and p.emissions_kg[0] == pytest.approx(0.005)


def test_a_very_short_interruptible_job_still_runs():
    """Regression: pieces under 1e-9 slots were dropped as float residue, so the job had no run and took
    the previous job's finish as its own (a phantom delay)."""
    jobs = jobs_of([0.0, 0.0], [1.0, 1e-10], [4.0, 2.0], [True, True])
    p = plan(SERIES, jobs, PerfectForecast(SERIES))
    assert p.runs(1) == [(1.0, 1.0 + 1e-10)] and p.delay[1] == pytest.approx(1.0)
    check_plan(SERIES, jobs, p, "tiny")


def test_capacity_by_hand():
    jobs = jobs_of([0.0] * 6, [1.0] * 6, [5.0] * 6, [False] * 6)
    p = plan(SERIES, jobs, PerfectForecast(SERIES), capacity=1)
    # free slots by cost: 1, 2, 4, 0, 3; the sixth job finds every slot full: the cheapest, counted
    assert [p.runs(i) for i in range(6)] == [
        [(1, 2)],
        [(2, 3)],
        [(4, 5)],
        [(0, 1)],
        [(3, 4)],
        [(1, 2)],
    ]
    assert p.capacity_overflows == 1 and p.deadline_misses == 0
    fixed_first = plan(
        SERIES,
        jobs_of([0.0, 0.5], [1.0, 1.0], [5.0, NAN], [True, False]),
        PerfectForecast(SERIES),
        capacity=1,
    )
    assert fixed_first.runs(1) == [(0.5, 1.5)]  # never moves, and takes slots 0 and 1 first
    assert fixed_first.runs(0) == [(2, 3)] and fixed_first.capacity_overflows == 0
    assert plan(SERIES, jobs, PerfectForecast(SERIES), capacity=6).runs(5) == [(1, 2)]  # enough room: as without capacity


def random_case(rng: np.random.Generator) -> tuple[np.ndarray, PlanJobs]:
    """A short series (often with tied values) and up to 12 jobs; half the cases on quarter slots."""
    n_slots = int(rng.integers(3, 40))
    actual = rng.integers(0, 4, n_slots).astype(float) if rng.random() < 0.4 else rng.uniform(0, 10, n_slots)
    n = int(rng.integers(1, 13))
    submit = rng.uniform(0, n_slots - 0.5, n)
    duration = rng.uniform(0.05, 1.0, n) * np.minimum(8.0, n_slots - submit)
    deadline = np.minimum(submit + duration + rng.exponential(4.0, n), n_slots)
    if rng.random() < 0.5:
        submit, duration = (
            np.floor(submit * 4) / 4,
            np.maximum(np.floor(duration * 4) / 4, 0.25),
        )
        deadline = np.minimum(np.ceil(deadline * 4) / 4, n_slots)
        deadline = np.where(submit + duration > n_slots, NAN, np.maximum(deadline, submit + duration))
    deadline = np.where(rng.random(n) < 0.15, NAN, deadline)
    deadline = np.where(rng.random(n) < 0.1, submit + duration, deadline)
    return actual, jobs_of(submit, duration, deadline, rng.random(n) < 0.5, rng.uniform(1, 500, n))


def ref_cost(w: np.ndarray, a: float, b: float) -> float:
    """Plain loop: the integral of the step function w over [a, b)."""
    total, t = 0.0, a
    while t < b - 1e-12:
        k = math.floor(t + 1e-12)
        nxt = min(k + 1.0, b)
        total += (nxt - t) * w[k]
        t = nxt
    return total


def ramp(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The integral of a step function is the line through its prefix sums at the slot boundaries."""
    return np.arange(len(w) + 1.0), np.r_[0.0, np.cumsum(w)]


def ref_pieces_cost(w: np.ndarray, submit: float, duration: float, deadline: float) -> float:
    """Fractional knapsack over the usable parts of each slot, cheapest first."""
    parts = sorted((w[k], min(k + 1.0, deadline) - max(float(k), submit)) for k in range(int(submit), math.ceil(deadline)))
    left, cost = duration, 0.0
    for price, room in parts:
        take = min(max(room, 0.0), left)
        cost, left = cost + take * price, left - take
    return cost


def check_plan(actual, jobs, p, label):
    """Runs inside [submit, deadline], summing to the duration, in order, never overlapping."""
    latest = np.where(np.isnan(jobs.deadline), jobs.submit + jobs.duration, jobs.deadline)
    assert p.deadline_misses == 0, label
    for i in range(len(jobs)):
        runs = np.array(p.runs(i))
        assert runs[0, 0] >= jobs.submit[i] - 1e-9 and runs[-1, 1] <= latest[i] + 1e-9, (label, i, runs)
        assert (runs[:, 1] - runs[:, 0]).sum() == pytest.approx(jobs.duration[i], abs=1e-8), (label, i)
        assert (runs[:, 1] > runs[:, 0]).all() and (runs[1:, 0] >= runs[:-1, 1]).all(), (label, i, runs)
        if not jobs.interruptible[i] or np.isnan(jobs.deadline[i]):
            assert len(runs) == 1, (label, i, runs)
        if np.isnan(jobs.deadline[i]):
            assert runs[0, 0] == jobs.submit[i], (label, i)  # no deadline: never moves
    area = [sum(ref_cost(actual, a, b) for a, b in p.runs(i)) for i in range(len(jobs))]
    np.testing.assert_allclose(
        p.emissions_kg,
        np.array(area) * jobs.power_w * jobs.step_min / 60 / 1e6,
        rtol=1e-9,
        atol=1e-15,
    )


def test_random_plans_are_feasible_optimal_and_match_the_one_job_functions():
    rng = np.random.default_rng(2024)
    for case in range(CASES):
        actual, jobs = random_case(rng)
        forecasts = [
            PerfectForecast(actual),
            NoisyForecast(actual, 0.3, np.random.default_rng(case)),
            PersistenceForecast(actual, 6),
        ]
        for f in forecasts:
            p = plan(actual, jobs, f)
            check_plan(actual, jobs, p, (case, f.name))
            for i in np.flatnonzero(jobs.flexible):
                s = int(jobs.submit[i])
                w = f.window(s, math.ceil(jobs.deadline[i]))
                w_full = np.r_[np.zeros(s), w]  # indexed from slot 0 for the reference
                one = (
                    best_slots(w, s, jobs.submit[i], jobs.duration[i], jobs.deadline[i])
                    if jobs.interruptible[i]
                    else [
                        (
                            x := best_block(w, s, jobs.submit[i], jobs.duration[i], jobs.deadline[i]),
                            x + jobs.duration[i],
                        )
                    ]
                )
                # Batched = one at a time
                np.testing.assert_allclose(p.runs(i), one, atol=1e-12, err_msg=f"{case} {f.name} {i}")
                cost = sum(ref_cost(w_full, a, b) for a, b in one)
                if jobs.interruptible[i]:
                    assert cost == pytest.approx(
                        ref_pieces_cost(w_full, jobs.submit[i], jobs.duration[i], jobs.deadline[i]),
                        abs=1e-9,
                    ), (case, i)
                else:
                    starts = np.linspace(jobs.submit[i], jobs.deadline[i] - jobs.duration[i], 1001)
                    cum = np.interp(starts + jobs.duration[i], *ramp(w_full)) - np.interp(starts, *ramp(w_full))
                    # No start on a fine grid does better
                    assert cost <= cum.min() + 1e-9, (case, i)


def test_the_perfect_forecast_is_never_beaten():
    rng = np.random.default_rng(7)
    for case in range(CASES):
        actual, jobs = random_case(rng)
        perfect = plan(actual, jobs, PerfectForecast(actual)).total_kg
        noisy = [
            plan(
                actual,
                jobs,
                NoisyForecast(actual, 0.2, np.random.default_rng([case, k])),
            ).total_kg
            for k in range(5)
        ]
        assert perfect <= np.mean(noisy) + 1e-12 and perfect <= min(noisy) + 1e-12, case
        assert perfect <= plan(actual, jobs, PersistenceForecast(actual, 6)).total_kg + 1e-12, case
        assert perfect <= plan(actual, jobs, PerfectForecast(actual)).baseline_total_kg + 1e-12, case


def test_random_plans_with_capacity_keep_deadlines_and_the_limit():
    rng = np.random.default_rng(11)
    for case in range(CASES):
        actual, jobs = random_case(rng)
        capacity = int(rng.integers(1, 4))
        p = plan(actual, jobs, PerfectForecast(actual), capacity=capacity)
        check_plan(actual, jobs, p, case)
        load = np.zeros(len(actual) + 1, int)
        for i in range(len(jobs)):
            busy = np.zeros(len(actual) + 1, bool)
            for a, b in p.runs(i):
                busy[math.floor(a + 1e-9) : math.ceil(b - 1e-9)] = True
            load += busy
        if p.capacity_overflows == 0:
            assert load.max() <= capacity, case
        else:
            assert load.max() > capacity, case


def test_the_same_forecast_gives_the_same_plan():
    actual, jobs = random_case(np.random.default_rng(3))
    a, b = (plan(actual, jobs, NoisyForecast(actual, 0.2, np.random.default_rng(5))) for _ in range(2))
    for field in ("run_job", "run_start", "run_end", "emissions_kg"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_a_window_too_short_for_the_deadline_is_an_error():
    with pytest.raises(
        ValueError,
        match="the window covers 3 slots from slot 0; the deadline 4.5 needs 5",
    ):
        best_block(SERIES[:3], 0, 0.0, 1.0, 4.5)
