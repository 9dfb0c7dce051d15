import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.core.fleet import Fleet
from scheduler.core.scoring import TIER_WEIGHTS, pool_scores, server_metrics


def plain_scores(fleet: Fleet, tier: int, load: float, price: float, carbon: float) -> dict[str, list[float]]:
    """The seed's formulas, one server at a time, no numpy: the reference the fast path must match."""
    pool = [int(s) for s in fleet.pools[tier]]
    energy = [(fleet.p_idle_w[s] + (fleet.p_peak_w[s] - fleet.p_idle_w[s]) * load) / 1000 for s in pool]
    cost = [e * price for e in energy]
    co2 = [e * (0.35 + carbon) for e in energy]
    perf = [float(fleet.perf[s]) for s in pool]
    lat = [float(fleet.latency_proxy[s]) for s in pool]

    def scale(xs: list[float], higher_is_better: bool) -> list[float]:
        lo, hi = min(xs), max(xs)
        if hi - lo <= 1e-12 * max(abs(hi), 1.0):
            return [1.0] * len(xs)
        return [(x - lo) / (hi - lo) if higher_is_better else (hi - x) / (hi - lo) for x in xs]

    parts = [scale(perf, True), scale(cost, False), scale(co2, False), scale(lat, False)]
    w = TIER_WEIGHTS[tier]
    final = [sum(w[m] * parts[m][i] for m in range(4)) for i in range(len(pool))]
    return {"energy": energy, "cost": cost, "co2": co2, "parts": parts, "final": final}


def test_matches_the_reference_response(world):
    """Numbers of the reference's /run example (api-contract post_run_with_body_1job.json)."""
    fleet = world.fleet
    m = server_metrics(fleet, np.array([0.23]), np.array([0.5058]), np.array([0.455]))
    assert np.round(m.energy_kwh[0], 4).tolist() == [0.0984, 0.123, 0.1376, 0.1745, 0.2014, 0.2506, 0.2898, 0.349, 0.4028]
    assert round(m.cost[0, 0], 6) == 0.049771 and round(m.co2_kg[0, 0], 6) == 0.079212
    green = pool_scores(fleet, 0, m)
    assert np.round(green.parts[0, 0], 4).tolist() == [0.0, 0.6792, 1.0]  # perf
    assert np.round(green.parts[0, 1], 4).tolist() == [1.0, 0.3724, 0.0]  # cost
    assert np.round(green.parts[0, 3], 4).tolist() == [0.0, 0.6, 1.0]  # latency
    assert np.round(green.final[0], 2).tolist() == [0.65, 0.46, 0.35]


unit = st.floats(0, 1, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(tier=st.integers(0, 2), load=unit, price=st.floats(0, 5), carbon=unit)
def test_fast_path_equals_plain_formulas(world, tier, load, price, carbon):
    fleet = world.fleet
    m = server_metrics(fleet, np.array([load]), np.array([price]), np.array([carbon]))
    fast = pool_scores(fleet, tier, m)
    plain = plain_scores(fleet, tier, load, price, carbon)
    pool = fleet.pools[tier]
    np.testing.assert_allclose(m.energy_kwh[0, pool], plain["energy"], rtol=1e-12)
    np.testing.assert_allclose(m.cost[0, pool], plain["cost"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(m.co2_kg[0, pool], plain["co2"], rtol=1e-12)
    np.testing.assert_allclose(fast.parts[0], plain["parts"], atol=1e-9)
    np.testing.assert_allclose(fast.final[0], plain["final"], atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(
    tier=st.integers(0, 2),
    states=st.lists(st.tuples(unit, st.floats(0, 5), unit), min_size=1, max_size=20),
)
def test_scores_are_finite_and_in_unit_interval(world, tier, states):
    load, price, carbon = (np.array(c) for c in zip(*states))
    s = pool_scores(world.fleet, tier, server_metrics(world.fleet, load, price, carbon))
    assert np.isfinite(s.final).all() and np.isfinite(s.parts).all()
    assert (s.parts >= 0).all() and (s.parts <= 1 + 1e-12).all()
    assert (s.final >= 0).all() and (s.final <= 1 + 1e-12).all()


@settings(max_examples=50, deadline=None)
@given(tier=st.integers(0, 2), perm=st.permutations([0, 1, 2]), load=unit, carbon=unit)
def test_permuting_pool_servers_permutes_scores(world, tier, perm, load, carbon):
    fleet = world.fleet
    pools = list(fleet.pools)
    pools[tier] = fleet.pools[tier][list(perm)]
    permuted = dataclasses.replace(fleet, pools=tuple(pools))
    m = server_metrics(fleet, np.array([load]), np.array([0.5]), np.array([carbon]))
    base = pool_scores(fleet, tier, m).final[0]
    moved = pool_scores(permuted, tier, m).final[0]
    np.testing.assert_allclose(moved, base[list(perm)], atol=1e-12)


@pytest.mark.parametrize("tier", [0, 1, 2], ids=["green", "balanced", "performance"])
def test_identical_servers_all_score_one_per_metric(world, tier):
    fleet = world.fleet
    same = dataclasses.replace(fleet, perf=np.ones(9), latency_proxy=np.ones(9), p_idle_w=np.full(9, 100.0), p_peak_w=np.full(9, 200.0))
    s = pool_scores(same, tier, server_metrics(same, np.array([0.5]), np.array([0.5]), np.array([0.5])))
    assert s.final[0].tolist() == pytest.approx([1.0, 1.0, 1.0])
