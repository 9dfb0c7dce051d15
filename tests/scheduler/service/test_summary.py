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
