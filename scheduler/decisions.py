"""Decisions as the API shows them: the reference's full per-job object, a compact form, history rows.

Records keep only what was decided; the per-server tables (scores, breakdown, all_metrics) are
recomputed from the record's series position, which is exact because they depend only on it. Rounding
follows the reference: scores and energy to 4 decimals, cost and CO2 to 6.
"""

from typing import Any

import numpy as np

from scheduler.engine import BatchRecord, World, metrics_at
from scheduler.fleet import TIERS
from scheduler.jobs import LATENCIES
from scheduler.scoring import TIER_WEIGHTS, ServerMetrics, pool_scores
from scheduler.signals import StepIndex, carbon_band
from xai.templates import DecisionFacts, render

_LATENCY_NAMES: tuple[str | None, ...] = (*LATENCIES, None)  # index -1 -> None


def full_rows(world: World, record: BatchRecord, start: int, stop: int) -> list[dict[str, Any]]:
    """Reference-compatible objects for record rows start..stop-1."""
    fleet, signals = world.fleet, world.signals
    n_rows = stop - start
    idx = signals.positions(record.pointer + start, n_rows)
    metrics = metrics_at(world, idx)
    names = fleet.names
    n_servers = fleet.n_servers
    tiers = record.jobs.tier[start:stop]
    parts = _all_parts(world, record, start, stop, metrics)
    parts_r = np.round(parts, 4).tolist()
    energy_r = np.round(metrics.energy_kwh, 4).tolist()
    cost_r = np.round(metrics.cost, 6).tolist()
    co2_r = np.round(metrics.co2_kg, 6).tolist()
    capacity = np.round(fleet.capacity_tier, 4).tolist()
    in_pool = [[False] * n_servers for _ in TIERS]
    for tier, pool in enumerate(fleet.pools):
        for s in pool:
            in_pool[tier][s] = True
    loads = record.loads_before[start:stop].tolist()
    states = _states(world, idx)
    texts = explanations(world, record, start, stop, parts=parts)
    sl = slice(start, stop)
    q_values = record.q_values[sl].tolist()
    chosen = record.chosen[sl].tolist()
    reward = np.round(record.reward[sl], 4).tolist()
    rl_reward = np.round(record.rl_reward[sl], 4).tolist()
    latency = record.jobs.latency[sl].tolist()
    out = []
    for i in range(n_rows):
        tier = int(tiers[i])
        (perf, cost_s, co2_s, lat, final), load, pool_flags = parts_r[i], loads[i], in_pool[tier]
        pool_names = [names[s] for s in fleet.pools[tier]]
        c = chosen[i]
        out.append({
            "job_id": int(record.job_ids[start + i]),
            "chosen_dc": names[c],
            "scores": dict(zip(names, final)),
            "score_breakdown": {
                names[s]: {
                    "perf_score": perf[s], "cost_score": cost_s[s], "co2_score": co2_s[s], "lat_score": lat[s],
                    "capacity_score": capacity[s], "final": final[s], "in_pool": pool_flags[s], "server_load": load[s],
                }
                for s in range(n_servers)
            },
            "rl_q_values": dict(zip(pool_names, q_values[i])),
            "rl_reward": rl_reward[i],
            "reward": reward[i],
            "priority": TIERS[tier],
            "latency": _LATENCY_NAMES[latency[i]],
            "state": states[i],
            "power_kwh": energy_r[i][c],
            "cost": cost_r[i][c],
            "co2": co2_r[i][c],
            "all_metrics": {
                names[s]: {"energy_kwh": energy_r[i][s], "cost": cost_r[i][s], "co2": co2_r[i][s], "capacity_tier": capacity[s]}
                for s in range(n_servers)
            },
            "explanation": texts[i],
        })  # fmt: skip
    return out


def compact_rows(world: World, record: BatchRecord, start: int, stop: int, with_text: bool = True) -> list[dict[str, Any]]:
    """The decision essentials, without per-server tables; also the rows of GET /history."""
    sl = slice(start, stop)
    names = world.fleet.names
    columns = {
        "job_id": record.job_ids[sl].tolist(),
        "chosen_dc": [names[c] for c in record.chosen[sl].tolist()],
        "priority": [TIERS[t] for t in record.jobs.tier[sl].tolist()],
        "latency": [_LATENCY_NAMES[l] for l in record.jobs.latency[sl].tolist()],
        "cpu": record.jobs.cpu[sl].tolist(),
        "memory": record.jobs.memory[sl].tolist(),
        "reward": np.round(record.reward[sl], 4).tolist(),
        "rl_reward": np.round(record.rl_reward[sl], 4).tolist(),
        "energy_kwh": np.round(record.energy_kwh[sl], 4).tolist(),
        "cost": np.round(record.cost[sl], 6).tolist(),
        "co2_kg": np.round(record.co2_kg[sl], 6).tolist(),
        "carbon_factor": np.round(record.carbon_factor[sl], 4).tolist(),
        "explored": record.explored[sl].tolist(),
    }
    if with_text:
        columns["explanation"] = explanations(world, record, start, stop)
    keys = list(columns)
    return [dict(zip(keys, values)) for values in zip(*columns.values())]


def explanations(world: World, record: BatchRecord, start: int, stop: int, parts: np.ndarray | None = None) -> list[str]:
    """Template explanations for record rows start..stop-1 (see decision_facts)."""
    return [render(f) for f in decision_facts(world, record, start, stop, parts)]


def decision_facts(world: World, record: BatchRecord, start: int, stop: int, parts: np.ndarray | None = None) -> list[DecisionFacts]:
    """What xai needs to explain each decision, from the server's own record (never from the client)."""
    fleet = world.fleet
    if parts is None:
        metrics = metrics_at(world, world.signals.positions(record.pointer + start, stop - start))
        parts = _all_parts(world, record, start, stop, metrics)
    sl = slice(start, stop)
    tiers = record.jobs.tier[sl].tolist()
    pools = [tuple(p.tolist()) for p in fleet.pools]
    pool_names = [tuple(fleet.names[s] for s in p) for p in pools]
    weights = [tuple(w) for w in TIER_WEIGHTS.tolist()]
    facts = []
    rows = zip(
        record.job_ids[sl].tolist(), tiers, record.jobs.latency[sl].tolist(), record.chosen[sl].tolist(),
        parts.tolist(), record.loads_before[sl].tolist(), record.q_values[sl].tolist(), record.explored[sl].tolist(),
        record.carbon_factor[sl].tolist(), record.energy_kwh[sl].tolist(), record.co2_kg[sl].tolist(), record.cost[sl].tolist(),
    )  # fmt: skip
    for job_id, tier, lat, chosen, part, loads, q, explored, cf, energy, co2, cost in rows:
        pool = pools[tier]
        facts.append(DecisionFacts(
            job_id=job_id, priority=TIERS[tier], latency=_LATENCY_NAMES[lat], chosen=world.fleet.names[chosen],
            pool=pool_names[tier],
            perf=tuple(part[0][s] for s in pool), cost=tuple(part[1][s] for s in pool),
            co2=tuple(part[2][s] for s in pool), lat=tuple(part[3][s] for s in pool),
            final=tuple(part[4][s] for s in pool), weights=weights[tier],
            loads=tuple(loads[s] for s in pool), q_values=tuple(q[: len(pool)]), explored=explored,
            carbon_factor=cf, carbon_band=carbon_band(cf), energy_kwh=energy, co2_kg=co2, price_cost=cost,
        ))  # fmt: skip
    return facts


def _all_parts(world: World, record: BatchRecord, start: int, stop: int, metrics: ServerMetrics) -> np.ndarray:
    """(rows, 5, n_servers): perf, cost, co2, lat scores and final quality; 0 outside each job's pool."""
    fleet = world.fleet
    parts = np.zeros((stop - start, 5, fleet.n_servers))
    tiers = record.jobs.tier[start:stop]
    for tier in range(len(TIERS)):
        rows = np.flatnonzero(tiers == tier)
        if rows.size:
            pool = fleet.pools[tier]
            scores = pool_scores(fleet, tier, metrics.take(rows))
            parts[np.ix_(rows, range(4), pool)] = scores.parts
            parts[np.ix_(rows, [4], pool)] = scores.final[:, None, :]
    return parts


def _states(world: World, idx: StepIndex) -> list[dict[str, Any]]:
    s = world.signals
    columns = {
        "load": np.round(s.load[idx.task], 4).tolist(),
        "energy_price": np.round(s.energy_price[idx.price], 4).tolist(),
        "carbon_factor": np.round(s.carbon_factor[idx.steel], 4).tolist(),
        "energy_factor": np.round(s.energy_factor[idx.steel], 4).tolist(),
        "steel_energy_kwh": s.steel_usage_kwh[idx.steel].tolist(),
        "steel_co2": s.steel_co2_t[idx.steel].tolist(),
        "load_type": s.load_type[idx.steel].tolist(),
        "week_status": s.week_status[idx.steel].tolist(),
        "day_of_week": s.day_of_week[idx.steel].tolist(),
    }
    keys = list(columns)
    return [dict(zip(keys, values)) for values in zip(*columns.values())]
