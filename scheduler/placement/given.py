"""A job's own energy or CO2 figure (`estimated_kwh`, `co2_kg`): what a client who measured the job knows.

Grid sessions use it in place of the model's (docs/placement.md, "Given figures"):

- `estimated_kwh`: the job's energy in FAST mode, on whichever server it runs. It is turned into the FAST
  power that gives that energy over the model's runtime on each server (given kWh / runtime), so every
  figure built on power follows it: ECO scales it as the model scales a job's own `power_w`, and CO2 is
  that energy x the intensity of the hours and zone the job runs in. A `co2_kg` given beside it is kept
  and answered (`given_co2_kg`), not used: the emissions of a grid session depend on where and when.
- `co2_kg` alone: the job's emissions, wherever and whenever it runs; energy stays the model's. A
  deferral or a greener server cannot change a figure the client fixed, so such a job saves nothing.

Reference sessions keep the seed's figures (the reference contract) and answer the given ones beside
them. `energy_source` and `co2_source` ("given" | "model") say which a decision's figures are.
"""

import dataclasses

import numpy as np

from scheduler.core.job_batch import JobBatch
from scheduler.core.timing import Timing

MIN_PER_H = 60.0
W_PER_KW = 1000.0


def energy_given(jobs: JobBatch) -> np.ndarray:
    """(n,) bool: the job gave its own energy."""
    return ~np.isnan(jobs.estimated_kwh)


def co2_given(jobs: JobBatch) -> np.ndarray:
    """(n,) bool: the job's CO2 is its own figure (co2_kg given without estimated_kwh)."""
    return ~np.isnan(jobs.co2_kg) & np.isnan(jobs.estimated_kwh)


def fast_power(jobs: JobBatch, runtime_min: np.ndarray, model_w: np.ndarray) -> np.ndarray:
    """(n, n_servers) FAST watts: given kWh / runtime where the job gave its energy, else `model_w`."""
    given = energy_given(jobs)
    if not given.any():
        return model_w
    implied = jobs.estimated_kwh[:, None] * (W_PER_KW * MIN_PER_H) / runtime_min
    return np.where(given[:, None], implied, model_w)


def co2_table(jobs: JobBatch, co2_kg: np.ndarray) -> np.ndarray:
    """(n, n_servers) kg: the job's own co2_kg on every server where it fixed it, else `co2_kg`."""
    given = co2_given(jobs)
    return np.where(given[:, None], jobs.co2_kg[:, None], co2_kg) if given.any() else co2_kg


def timing(jobs: JobBatch, plan: Timing) -> Timing:
    """`plan` with the emissions of jobs that fixed their co2_kg: that figure, run now or later, saving nothing."""
    given = co2_given(jobs)
    if not given.any():
        return plan
    fixed = jobs.co2_kg
    return dataclasses.replace(
        plan,
        co2_kg=np.where(given, fixed, plan.co2_kg),
        co2_now_kg=np.where(given, fixed, plan.co2_now_kg),
        saved_expected_kg=np.where(given, 0.0, plan.saved_expected_kg),
    )
