import numpy as np
import orjson
import pytest

from scheduler.core.states import LATENCIES, TIERS
from scheduler.placement.engine import World, run_batch
from scheduler.service import decisions
from scheduler.service.facts import decision_facts, explanations
from tests.scheduler.core.test_scoring import plain_scores
from tests.scheduler.placement.test_engine import fresh_state, make_jobs
from xai.templates import render


def plain_full(world: World, record, i: int) -> dict:
    """The reference's per-job object, built the obvious way (dicts, Python rounding)."""
    fleet, s = world.fleet, world.signals
    t = record.pointer + i
    tier = int(record.jobs.tier[i])
    load, price = s.load[t % len(s.load)], s.energy_price[t % len(s.energy_price)]
    carbon, steel = s.carbon_factor[t % len(s.carbon_factor)], t % len(s.carbon_factor)
    pool = [int(p) for p in fleet.pools[tier]]
    plain = plain_scores(fleet, tier, float(load), float(price), float(carbon))
    energy = [(fleet.p_idle_w[k] + (fleet.p_peak_w[k] - fleet.p_idle_w[k]) * load) / 1000 for k in range(9)]
    chosen = int(record.chosen[i])
    breakdown, scores = {}, {}
    for k, name in enumerate(fleet.names):
        j = pool.index(k) if k in pool else None
        part = [plain["parts"][m][j] if j is not None else 0.0 for m in range(4)]
        final = plain["final"][j] if j is not None else 0.0
        scores[name] = round(final, 4)
        breakdown[name] = {
            "perf_score": round(part[0], 4),
            "cost_score": round(part[1], 4),
            "co2_score": round(part[2], 4),
            "lat_score": round(part[3], 4),
            "capacity_score": round(float(fleet.capacity_tier[k]), 4),
            "final": round(final, 4),
            "in_pool": j is not None,
            "server_load": int(record.loads_before[i, k]),
        }
    latency = int(record.jobs.latency[i])
    return {
        "job_id": int(record.job_ids[i]),
        "chosen_dc": fleet.names[chosen],
        "scores": scores,
        "score_breakdown": breakdown,
        "rl_q_values": {fleet.names[p]: round(float(record.q_values[i, j]), 6) for j, p in enumerate(pool)},
        "rl_reward": round(float(record.rl_reward[i]), 4),
        "reward": round(plain["final"][pool.index(chosen)], 4),
        "priority": TIERS[tier],
        "latency": LATENCIES[latency] if latency >= 0 else None,
        "state": {
            "load": round(float(load), 4),
            "energy_price": round(float(price), 4),
            "carbon_factor": round(float(carbon), 4),
            "energy_factor": round(float(s.energy_factor[steel]), 4),
            "steel_energy_kwh": round(float(s.steel_usage_kwh[steel]), 4),
            "steel_co2": round(float(s.steel_co2_t[steel]), 4),
            "load_type": s.load_type.names[s.load_type.codes[steel]],
            "week_status": s.week_status.names[s.week_status.codes[steel]],
            "day_of_week": s.day_of_week.names[s.day_of_week.codes[steel]],
        },
        "power_kwh": round(energy[chosen], 4),
        "cost": round(energy[chosen] * price, 6),
        "co2": round(energy[chosen] * (0.35 + carbon), 6),
        "energy_source": "model",  # reference sessions keep the seed's figures
        "co2_source": "model",
        "all_metrics": {
            name: {
                "energy_kwh": round(energy[k], 4),
                "cost": round(energy[k] * price, 6),
                "co2": round(energy[k] * (0.35 + carbon), 6),
                "capacity_tier": round(float(fleet.capacity_tier[k]), 4),
            }
            for k, name in enumerate(fleet.names)
        },
    }


def test_fast_encoding_equals_plain_dicts(world):
    state = fresh_state(world, 4)
    state.pointer = 35_000  # crosses the end of the steel series
    record = run_batch(world, state, np.arange(1, 401), make_jobs(np.random.default_rng(4), 400))
    fast = orjson.loads(b"[" + decisions.encode_full(world, record, 0, 400) + b"]")
    for i, got in enumerate(fast):
        expected = plain_full(world, record, i)
        explanation = got.pop("explanation")
        attribution = got.pop("attribution")
        assert got == expected, f"row {i}"
        assert explanation == render(decision_facts(world, record, i, i + 1)[0])
        # The terms split the agent's preference exactly: they sum to Q(chosen) - Q(versus).
        versus = attribution["versus"]
        q = got["rl_q_values"]
        assert versus in q and versus != got["chosen_dc"]
        assert list(attribution["terms"]) == [
            *(f"load of {s} / busiest" for s in q),
            "1 - carbon factor",
            "energy price",
            "cpu / 100",
            "memory / 100",
        ]
        assert sum(attribution["terms"].values()) == pytest.approx(q[got["chosen_dc"]] - q[versus], abs=5e-6)


def test_slices_and_compact_agree_with_full(world):
    record = run_batch(world, fresh_state(world, 5), np.arange(1, 101), make_jobs(np.random.default_rng(5), 100))
    whole = orjson.loads(b"[" + decisions.encode_full(world, record, 0, 100) + b"]")
    part = orjson.loads(b"[" + decisions.encode_full(world, record, 40, 60) + b"]")
    assert part == whole[40:60]
    compact = orjson.loads(b"[" + decisions.encode_compact(world, record, 0, 100) + b"]")
    for c, f in zip(compact, whole):
        assert (c["job_id"], c["chosen_dc"], c["priority"], c["latency"], c["reward"]) == (
            f["job_id"],
            f["chosen_dc"],
            f["priority"],
            f["latency"],
            f["reward"],
        )
        assert (c["energy_kwh"], c["cost"], c["co2_kg"]) == (f["power_kwh"], f["cost"], f["co2"])
        assert c["reason"].startswith(f"{f['priority']} pool -> {f['chosen_dc']}")
        # The short reason states the same cause as the explanation.
        versus = f["attribution"]["versus"]
        if "exploration step" in c["reason"]:
            assert "exploration step" in f["explanation"]
        elif " over " in c["reason"]:
            assert f"{versus} had the better quality score" in f["explanation"] and "exploration" not in f["explanation"]
        elif "tied with" in c["reason"]:
            assert "tie for the best quality score" in f["explanation"]
        else:
            metric = c["reason"].split("above all its ")[1].split(" score")[0]
            assert f"above all for its {metric} score" in f["explanation"]


def test_batch_explanations_equal_the_one_job_template(world):
    """render_many (the batch fast path) against render (one job at a time) on real decisions."""
    state = fresh_state(world, 8)
    state.loads[:] = np.arange(9) * 3  # uneven loads exercise the load clauses
    record = run_batch(world, state, np.arange(1, 2001), make_jobs(np.random.default_rng(8), 2000))
    fast = explanations(world, record, 0, 2000)
    assert fast == [render(f) for f in decision_facts(world, record, 0, 2000)]
    assert any("exploration step" in t for t in fast) and any("the largest terms in its favour being the load on" in t for t in fast)
    assert any("above all for its" in t for t in fast) and any("tie for the best quality score" in t for t in fast)


def test_explanation_facts_come_from_the_record(world):
    record = run_batch(world, fresh_state(world, 6), np.arange(1, 31), make_jobs(np.random.default_rng(6), 30))
    for i, facts in enumerate(decision_facts(world, record, 0, 30)):
        assert facts.job_id == record.job_ids[i] and facts.chosen == world.fleet.names[record.chosen[i]]
        assert facts.chosen in facts.pool and facts.final[facts.pool.index(facts.chosen)] == record.reward[i]
        assert facts.explored == record.explored[i]


def test_uneven_pools_encode_to_valid_json(world):
    """Ten servers split 4/3/3: Q-value objects differ in size per tier and still parse."""
    from scheduler.core.fleet import build_fleet
    from scheduler.placement.pretrain import pretrain_agents
    from tests.scheduler.core.test_fleet import table

    fleet = build_fleet(table([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
    agents = pretrain_agents(fleet, world.signals, 20, np.random.default_rng(0))
    uneven = World(fleet, world.signals, agents)
    record = run_batch(uneven, fresh_state(uneven, 1), np.arange(1, 61), make_jobs(np.random.default_rng(1), 60))
    rows = orjson.loads(b"[" + decisions.encode_full(uneven, record, 0, 60) + b"]")
    for row, tier in zip(rows, record.jobs.tier):
        assert list(row["rl_q_values"]) == [fleet.names[s] for s in fleet.pools[tier]]
        assert row["chosen_dc"] in row["rl_q_values"]
