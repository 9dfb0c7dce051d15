import numpy as np
import pytest

from scheduler.core.jobs import parse_jobs
from scheduler.service.sessions import Session
from scheduler.service.summary import summarise


def test_empty_session(world):
    out = summarise([], world.fleet, queued=3)
    assert out["total_jobs"] == 0 and out["queued_jobs"] == 3 and out["sustainability_score"] == 0.0


def test_score_is_the_weighted_sum_of_its_parts(world):
    session = Session("s", 1, world, 0, 0)
    jobs = [{"priority": p, "cpu": 50, "memory": 50} for p in ["green", "green", "balanced", "performance"] * 5]
    record = session.run(parse_jobs(jobs))
    out = summarise(session.history, world.fleet, queued=0)
    avg = record.reward.mean()
    green = 0.5
    carbon = 1 - record.carbon_factor.mean()
    efficiency = 1 - record.co2_kg.sum() / record.co2_baseline_kg.sum()
    assert out["score_parts"] == pytest.approx(
        {"avg_reward": avg, "green_ratio": green, "carbon_score": carbon, "co2_efficiency": efficiency}, abs=1e-4
    )
    assert out["sustainability_score"] == pytest.approx(100 * (0.3 * avg + 0.25 * green + 0.25 * carbon + 0.2 * efficiency), abs=0.06)
    assert out["total_jobs"] == 20 and sum(out["jobs_by_server"].values()) == 20
    assert out["total_energy_kwh"] == pytest.approx(record.energy_kwh.sum(), abs=1e-4)
    assert out["co2_avoided_kg"] == pytest.approx(record.co2_baseline_kg.sum() - record.co2_kg.sum(), abs=1e-6)
    assert 0 <= out["sustainability_score"] <= 100
    assert np.isclose(out["green_ratio"], 0.5)


def test_efficiency_is_measured_on_the_session_s_own_jobs(grid_world):
    """Each server's energy per unit of work is what this session's jobs would have used on it, run now, over
    their work (grid: core-hours on the reference machine); the CO2 of each pool is its mean server's."""
    from scheduler.core import energy
    from scheduler.service.rows import row_detail

    session = Session("s", 3, grid_world, 0, 0, scenario="grid")
    jobs = [{"priority": p, "cpu": c, "memory": 20, "duration_min": d} for p, c, d in [("green", 10, 60), ("performance", 80, 600)] * 6]
    session.run(parse_jobs(jobs[:6]))
    session.run(parse_jobs(jobs[6:]))
    out = summarise(session.history, grid_world.fleet, queued=0, scenario="grid")
    kwh = sum(row_detail(grid_world, r, 0, len(r)).metrics.energy_kwh.sum(axis=0) for r in session.history)
    co2 = sum(row_detail(grid_world, r, 0, len(r)).metrics.co2_kg.sum(axis=0) for r in session.history)
    work = energy.job_work(np.array([j["cpu"] for j in jobs], float), np.full(12, 20.0), np.array([j["duration_min"] for j in jobs], float))
    per = kwh / (work.cores * work.base_min / 60).sum()
    eff = out["efficiency"]
    assert list(eff["by_server"].values()) == pytest.approx(per.tolist(), abs=5.1e-7)  # rounded to 6 decimals
    assert eff["most_efficient_server"] == grid_world.fleet.names[int(per.argmin())]
    pools = grid_world.fleet.pools
    assert eff["co2_if_all_on_pool_kg"]["performance"] == pytest.approx(out["co2_baseline_kg"], abs=1e-6)
    assert list(eff["co2_if_all_on_pool_kg"].values()) == pytest.approx([co2[p].mean() for p in pools], abs=5.1e-7)
    # On the grid model the small servers are slower: the green pool is not the efficient one here.
    assert eff["by_pool"]["green"] > eff["by_pool"]["performance"]
    assert "green" not in out["advice"]["text"].split("emit less as")[-1]


@pytest.mark.parametrize("best", ["green", "balanced", "performance"])
@pytest.mark.parametrize("weakest", ["green_ratio", "co2_efficiency"])
def test_advice_never_recommends_a_move_that_emits_more(best, weakest):
    from scheduler.service.efficiency import advice
    from scheduler.service.summary import SCORE_WEIGHTS

    co2 = {"green": 3.0, "balanced": 2.0, "performance": 1.0}
    co2[best] = 0.5
    parts = {"avg_reward": 1.0, "green_ratio": 1.0, "carbon_score": 1.0, "co2_efficiency": 1.0, weakest: 0.0}
    said = advice(parts, SCORE_WEIGHTS, 2.5, {"co2_if_all_on_pool_kg": co2})
    assert said["part"] == weakest
    text = said["text"]
    assert f"the {best} pool would have emitted least" in text
    recommended = [
        t for t in ("green", "balanced", "performance") if f"to the {t} tier" in text or f"as {t}" in text or f"{t} jobs." in text
    ]
    assert recommended in ([], [best]), text
    if best != "green":
        assert "mark jobs that are not urgent as green" not in text


def test_a_grid_carbon_score_is_the_carbon_of_the_hours_the_jobs_run(grid_world):
    """A deferred job emits at the intensity of the hours it was moved to, on its own server's zone: that, not
    the factor at submission (the pool's, had it run then), is what the carbon score reads in grid sessions."""
    from scheduler.core.bands import GRID_FACTOR_SCALE_G
    from scheduler.core.states import DEFER

    session = Session("s", 4, grid_world, 0, 0, scenario="grid")
    tiers = ("green", "balanced", "performance")
    urgencies = ["flexible", "normal", "flexible", "critical"] * 15
    job = {"cpu": 30, "memory": 20, "duration_min": 90, "deadline": 1440}
    jobs = [{**job, "priority": tiers[k % 3], "urgency": u} for k, u in enumerate(urgencies)]
    record = session.run(parse_jobs(jobs))
    timing, scenario = record.timing, record.scenario
    assert not timing.runs, "uninterrupted runs: one start and one runtime each"
    zone = scenario.server_zone[record.chosen]
    ran = np.array(
        [scenario.zone_series[z].mean(s, m / 60.0) for z, s, m in zip(zone.tolist(), timing.start_h.tolist(), timing.runtime_min.tolist())]
    )
    deferred = timing.action == DEFER
    assert deferred.any() and not np.allclose(ran[deferred], timing.intensity_now_g[deferred])
    expected = 1.0 - np.minimum(ran / GRID_FACTOR_SCALE_G, 1.0).mean()
    out = summarise(session.history, grid_world.fleet, queued=0, scenario="grid")
    assert out["score_parts"]["carbon_score"] == pytest.approx(expected, abs=1e-4)
    assert out["score_parts"]["carbon_score"] != pytest.approx(1.0 - record.carbon_factor.mean(), abs=1e-4)  # the submission figure
    assert out["carbon_score_basis"].startswith(f"carbon score {expected:.4f}: 1 - the mean of each job's grid intensity on its server")
    assert f"mean {ran.mean():.1f} gCO2eq/kWh" in out["carbon_score_basis"]


def test_a_reference_carbon_score_is_the_factor_when_the_jobs_ran(world):
    session = Session("s", 1, world, 0, 0)
    record = session.run(parse_jobs([{"priority": "green", "cpu": 50, "memory": 50}] * 5))
    out = summarise(session.history, world.fleet, queued=0)
    factor = record.carbon_factor.mean()
    said = f"carbon score {1 - factor:.4f}: 1 - the mean carbon proxy factor ({factor:.4f}) when the jobs ran, at submission"
    assert out["carbon_score_basis"] == said
    assert "carbon_score_basis" not in summarise([], world.fleet, queued=0)
