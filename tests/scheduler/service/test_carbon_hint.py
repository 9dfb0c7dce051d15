"""The page's carbon badge (GET /sustainability) bands the next job's conditions on the scale that job's
decision will use: in grid sessions, each zone's band is the one a job placed there gets."""

import numpy as np
import pytest

from scheduler.core.bands import carbon_band
from scheduler.core.job_batch import JobBatch
from scheduler.core.states import BANDS
from scheduler.service.carbon_hint import carbon_hint
from scheduler.service.sessions import Session


def test_grid_badge_bands_each_zone_as_the_next_decision_there(grid_world):
    session = Session("s", 5, grid_world, 0.0, 0.0, scenario="grid")
    scenario = session.engine.scenario
    seen = set()
    for k in range(40):  # one job at a time, every tier: the hint before it, then its own band
        hint = carbon_hint(grid_world, scenario, session.engine.pointer)
        one = JobBatch.of(tier=np.array([k % 3]), latency=np.array([-1]), cpu=np.array([20.0]), memory=np.array([10.0]))
        record = session.run(one)
        zone = scenario.zone_of(int(record.chosen[0]))
        said = hint["carbon_bands"][zone]
        assert said["band"] == BANDS[record.timing.band[0]]
        assert said["reading_g_per_kwh"] == round(float(record.timing.intensity_now_g[0]), 2)
        assert (said["low_g_per_kwh"], said["high_g_per_kwh"]) == (
            round(float(record.timing.band_low_g[0]), 2),
            round(float(record.timing.band_high_g[0]), 2),
        )
        seen.add(said["band"])
        servers = hint["servers_by_band"]
        assert sum(servers.values()) == grid_world.fleet.n_servers
        most = max(servers.values())
        assert hint["carbon_band"] == [b for b in BANDS if servers[b] == most][-1]  # the higher band on a tie
        assert hint["message"].startswith(f"{most} of {grid_world.fleet.n_servers} servers' grids are in their {hint['carbon_band']} band")
        assert hint["band_scale"] == "percentiles of each zone's last 168 h"
    assert len(seen) > 1  # the check saw more than one band


def test_reference_badge_bands_the_proxy_on_its_fixed_scale(world):
    from scheduler.placement.engine import ReferenceScenario

    scenario = ReferenceScenario(world.fleet, world.signals)
    for pointer in (0, 17, 4000):
        hint = carbon_hint(world, scenario, pointer)
        factor = float(world.signals.carbon_factor[world.signals.positions(pointer, 1).steel[0]])
        assert hint["carbon_band"] == carbon_band(factor) and hint["carbon_factor"] == round(factor, 4)
        assert hint["band_scale"] == "fixed scale of the unitless 0-1 proxy: low below 0.35, high from 0.65"
        assert "carbon_bands" not in hint


def test_grid_recommendation_is_the_pool_that_would_emit_least_now(grid_world):
    """Not the band's tier: in grid sessions the green pool's small servers use the most energy per unit of work,
    so "prefer green jobs" in a high band would often emit more. The typical job's energy comes from the placement's
    own figures (scenario.evaluate), the intensities from the hint's own zone readings."""
    from scheduler.service.carbon_hint import TYPICAL_JOB

    session = Session("s", 6, grid_world, 0.0, 0.0, scenario="grid")
    scenario = session.engine.scenario
    job = JobBatch.of(
        tier=np.array([0]), latency=np.array([-1]), **{k: np.array([v]) for k, v in TYPICAL_JOB.items()}, urgency=np.array([0], np.int8)
    )
    said = set()
    for pointer in range(0, 24 * 4 * 14, 37):  # two weeks of the session clock, every ninth hour or so
        hint = carbon_hint(grid_world, scenario, pointer)
        kwh = scenario.evaluate(np.array([pointer]), job).metrics.energy_kwh[0]
        reading = np.array([hint["carbon_bands"][scenario.zone_of(s)]["reading_g_per_kwh"] for s in range(grid_world.fleet.n_servers)])
        grams = {t: float((kwh * reading)[pool].mean()) for t, pool in zip(("green", "balanced", "performance"), grid_world.fleet.pools)}
        best = hint["recommendation"]
        assert all(grams[best] <= g * (1 + 1e-3) for g in grams.values()), (pointer, best, grams)
        assert hint["message"].endswith(
            f"prefer {best} jobs: that pool would emit least now"
            + (", or wait: flexible jobs are deferred to cleaner hours" if hint["carbon_band"] == "high" else "")
        )
        assert hint["recommendation_basis"]["co2_g_by_pool"] == pytest.approx(grams, rel=1e-3)
        said.add((hint["carbon_band"], best))
    seed_rule = {"low": "performance", "medium": "balanced", "high": "green"}
    assert any(best != seed_rule[band] for band, best in said)  # the band's tier would have said otherwise
    assert any(band == "high" for band, _ in said)
