"""Per-server grid features: layout, scaling, and the dynamic energy the reward charges."""

import math

import numpy as np
import pytest

from scheduler.core.bands import GRID_FACTOR_SCALE_G
from scheduler.core.energy import build_machines, energy_kwh, runtime_min
from scheduler.core.states import TIERS
from scheduler.placement.grid_features import SERVER_FEATURES, dynamic_kwh, feature_names, grid_state, state_size


def test_state_layout_per_server_then_the_tier_padded_to_the_widest_pool():
    x = grid_state(
        tier=1,
        pool_width=3,
        intensity_now=[400.0, 200.0],
        intensity_forecast=[200.0, 100.0],
        wait_min=[0.0, 60.0],
        in_system=[0, 5],
        runtime_min=[60.0, 120.0],
        core_share=[0.25, 1.0],
        dynamic_kwh=[0.5, 0.0],
    )
    n = len(SERVER_FEATURES)
    assert x.shape == (state_size(3),) == (3 * n + len(TIERS),) and len(feature_names(3)) == len(x)
    scale = GRID_FACTOR_SCALE_G
    assert x[:n].tolist() == pytest.approx([400 / scale, 200 / scale, 0.0, 0.0, math.log(2), 0.25, math.log1p(100.0)])
    assert x[n : 2 * n].tolist() == pytest.approx([0.5, 0.25, math.log(2), 0.5, math.log(3), 1.0, 0.0])
    assert x[2 * n : 3 * n].tolist() == [0.0] * n  # the pool has two servers: the third slot is empty
    assert x[3 * n :].tolist() == [0.0, 1.0, 0.0]
    assert feature_names(3)[n] == "intensity_now[1]" and feature_names(3)[-1] == f"tier={TIERS[-1]}"


def test_dynamic_energy_is_the_job_energy_less_its_share_of_idle_power(world):
    """energy = (share x P_idle + (P_peak - P_idle) x share) x runtime with the linear curve, so what is left
    after the idle share is (P_peak - P_idle) x share x runtime."""
    from scheduler.core.energy import job_work

    m = build_machines(world.fleet)
    work = job_work(np.array([50.0, 200.0]), np.array([10.0, 40.0]), np.full(2, np.nan), np.full(2, np.nan), np.full(2, np.nan))
    runtime, kwh = runtime_min(m, work), energy_kwh(m, work)
    share = np.minimum(work.cores[:, None], m.cores[None, :]) / m.cores[None, :]
    dyn = dynamic_kwh(kwh, runtime, share, m.p_idle_w[None, :])
    np.testing.assert_allclose(dyn, (m.p_peak_w - m.p_idle_w)[None, :] * share * runtime / 60_000.0, rtol=1e-12)
    assert (dyn > 0).all() and (dyn < kwh).all()
