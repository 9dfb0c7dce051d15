"""A job's own estimated_kwh or co2_kg in the grid scenario: used in place of the model's figure, on every
server, in every mode, and never touching the jobs that gave none (scheduler/placement/given.py)."""

import numpy as np
import pytest

from scheduler.core import energy, units
from scheduler.core.errors import JobValidationError
from scheduler.core.jobs import parse_jobs

BASE = {"priority": "green", "cpu": 30, "memory": 20, "duration_min": 90}


@pytest.fixture(scope="module")
def grid(grid_world):
    return grid_world.runtime("grid").scenario


def evaluate(grid, *extra: dict):
    """The scenario's figures of BASE with each of `extra`'s fields, at one pointer each (the same hour)."""
    jobs = parse_jobs([{**BASE, **e} for e in extra])
    return jobs, grid.evaluate(np.zeros(len(jobs), np.int64), jobs)


@pytest.mark.parametrize("kwh", [0.0, 0.05, 3.5], ids=["zero", "small", "large"])
def test_given_energy_is_the_energy_on_every_server_and_co2_follows_the_zone(grid, kwh):
    _, step = evaluate(grid, {"estimated_kwh": kwh})
    np.testing.assert_allclose(step.metrics.energy_kwh[0], kwh, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(step.metrics.co2_kg[0], units.co2_kg(kwh, step.intensity_g_per_kwh[0]), rtol=1e-12, atol=1e-15)


def test_eco_scales_the_given_energy_as_the_model_scales_its_own(grid):
    jobs, step = evaluate(grid, {"estimated_kwh": 0.4}, {})
    work = energy.job_work(jobs.cpu, jobs.memory, jobs.duration_min)
    eco_kwh = units.kwh(grid.power_w(work, jobs, energy.ECO), step.runtime_min * energy.ECO.slowdown)
    model_ratio = eco_kwh[1] / step.metrics.energy_kwh[1]  # the job without a given figure: the model's ECO / FAST
    np.testing.assert_allclose(eco_kwh[0], 0.4 * model_ratio, rtol=1e-12)


def test_given_co2_alone_is_the_co2_on_every_server_and_energy_stays_the_models(grid):
    _, step = evaluate(grid, {"co2_kg": 0.07}, {})
    np.testing.assert_array_equal(step.metrics.co2_kg[0], 0.07)
    np.testing.assert_array_equal(step.metrics.energy_kwh[0], step.metrics.energy_kwh[1])


def test_with_both_the_given_energy_sets_the_co2_and_the_given_co2_is_not_used(grid):
    _, step = evaluate(grid, {"estimated_kwh": 0.3, "co2_kg": 0.3 * 0.42})
    np.testing.assert_allclose(step.metrics.co2_kg[0], units.co2_kg(0.3, step.intensity_g_per_kwh[0]), rtol=1e-12)
    assert not np.allclose(step.metrics.co2_kg[0], 0.3 * 0.42)


def test_jobs_without_a_given_figure_keep_the_models_figures_bit_for_bit(grid):
    _, mixed = evaluate(grid, {"estimated_kwh": 0.3}, {}, {"co2_kg": 0.1}, {"power_w": 200})
    _, alone = evaluate(grid, {}, {}, {}, {"power_w": 200})
    for rows in ([1], [3]):
        np.testing.assert_array_equal(mixed.metrics.energy_kwh[rows], alone.metrics.energy_kwh[rows])
        np.testing.assert_array_equal(mixed.metrics.co2_kg[rows], alone.metrics.co2_kg[rows])
    np.testing.assert_array_equal(mixed.metrics.energy_kwh[2], alone.metrics.energy_kwh[2])


def test_a_job_that_fixed_its_co2_emits_it_wherever_and_whenever_it_runs(grid):
    jobs, step = evaluate(grid, {"co2_kg": 0.09, "urgency": "flexible", "deadline": 2000}, {"urgency": "flexible", "deadline": 2000})
    plan = grid.plan_when(step, jobs, np.zeros(len(jobs), np.intp), np.random.default_rng(0))
    assert plan.co2_kg[0] == plan.co2_now_kg[0] == 0.09
    assert plan.saved_expected_kg[0] == 0.0


@pytest.mark.parametrize(
    "job, refused",
    [
        ({"estimated_kwh": 0.2, "power_w": 100}, True),
        ({"estimated_kwh": 0.2}, False),
        ({"power_w": 100, "co2_kg": 0.1}, False),
    ],
    ids=["energy-and-power", "energy-alone", "power-and-co2"],
)
def test_energy_and_power_together_are_refused_naming_both(job, refused):
    batch = [BASE, {**BASE, **job}]
    if not refused:
        assert len(parse_jobs(batch)) == 2
        return
    with pytest.raises(JobValidationError) as caught:
        parse_jobs(batch)
    [error] = caught.value.errors
    assert error["index"] == 1 and error["field"] == "estimated_kwh" and "power_w" in error["message"]
