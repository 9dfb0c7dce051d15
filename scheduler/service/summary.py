"""Session KPIs and the 0-100 sustainability score of the seed's SRS.

score = 100 x (0.30 x average reward + 0.25 x green ratio + 0.25 x carbon score + 0.20 x CO2 efficiency)
- average reward: mean quality score of the chosen servers (0..1);
- green ratio: share of jobs submitted as green;
- carbon score: 1 - the mean carbon factor of the hours the jobs run (ran when the grid was cleaner ->
  higher). Reference sessions: the proxy factor at submission, when every job runs (the same for every
  server). Grid sessions: the chosen server's zone's mean intensity over the hours the job runs, from its
  planned start for a deferred job (what it will emit), on the factor's scale (/ GRID_FACTOR_SCALE_G, capped
  at 1); not the factor at submission, which is the pool's mean had the job run then;
- CO2 efficiency: CO2 avoided against running every job on the performance pool (its mean server),
  as a share of that baseline, clipped to 0..1. CO2 avoided itself is not clipped: negative when the session
  emitted more than the baseline (in grid sessions the small servers can use more energy per unit of work).

With the first job, `efficiency` (each server's and pool's measured energy per unit of work, the CO2 of every
pool for this session's jobs) and `advice` (scheduler.service.efficiency) come from the session's own numbers.
"""

from typing import Any

import numpy as np

from scheduler.core.bands import GRID_FACTOR_SCALE_G
from scheduler.core.fleet import Fleet
from scheduler.core.states import DEFER, TIERS
from scheduler.placement.engine import BatchRecord
from scheduler.service.efficiency import advice, efficiency

SCORE_WEIGHTS = {"avg_reward": 0.30, "green_ratio": 0.25, "carbon_score": 0.25, "co2_efficiency": 0.20}


_CO2_UNITS = {
    "reference": "kg (proxy: energy x (0.35 + carbon factor))",
    "grid": "kg (energy x average grid carbon intensity of the server's zone, Electricity Maps, gCO2eq/kWh / 1000)",
}


def summarise(records: list[BatchRecord], fleet: Fleet, queued: int, scenario: str = "reference") -> dict[str, Any]:
    n = sum(len(r) for r in records)
    col = {
        k: np.concatenate([getattr(r, k) for r in records]) if records else np.empty(0)
        for k in ("reward", "energy_kwh", "co2_kg", "cost", "co2_baseline_kg")
    }
    factor = np.concatenate([run_carbon_factor(r) for r in records]) if records else np.empty(0)
    tiers = np.concatenate([r.jobs.tier for r in records]) if records else np.empty(0, np.int8)
    chosen = np.concatenate([r.chosen for r in records]) if records else np.empty(0, np.intp)
    co2 = float(col["co2_kg"].sum())
    baseline = float(col["co2_baseline_kg"].sum())
    parts = {
        "avg_reward": float(col["reward"].mean()) if n else 0.0,
        "green_ratio": float((tiers == 0).mean()) if n else 0.0,
        "carbon_score": float(1.0 - factor.mean()) if n else 0.0,
        "co2_efficiency": float(np.clip(1.0 - co2 / baseline, 0.0, 1.0)) if baseline > 0 else 0.0,
    }
    score = 100.0 * sum(SCORE_WEIGHTS[k] * v for k, v in parts.items())
    return {
        "total_jobs": n,
        "queued_jobs": queued,
        "avg_reward": round(parts["avg_reward"], 4),
        "total_energy_kwh": round(float(col["energy_kwh"].sum()), 4),
        "total_co2_kg": round(co2, 6),
        "total_cost": round(float(col["cost"].sum()), 6),
        "co2_baseline_kg": round(baseline, 6),
        "co2_avoided_kg": round(baseline - co2, 6),
        "green_ratio": round(parts["green_ratio"], 4),
        "jobs_by_priority": {t: int((tiers == i).sum()) for i, t in enumerate(TIERS)},
        "jobs_by_server": dict(zip(fleet.names, np.bincount(chosen, minlength=fleet.n_servers).tolist())),
        "sustainability_score": round(score, 1),
        "score_parts": {k: round(v, 4) for k, v in parts.items()},
        "score_weights": SCORE_WEIGHTS,
        **({"carbon_score_basis": carbon_basis(records, factor)} if n else {}),
        "units": {"energy": "kWh", "co2": _CO2_UNITS[scenario], "cost": "price units of price.csv / 100 per kWh"},
        "scenario": scenario,
        **({"timing": timing_summary(records)} if scenario == "grid" else {}),
        **_measured(records, fleet, scenario, parts, co2),
    }


def run_carbon_factor(record: BatchRecord) -> np.ndarray:
    """(n,) each job's carbon factor over the hours it runs: the carbon score's input (see the module's docstring)."""
    if record.timing is None:
        return record.carbon_factor  # reference: every job runs at submission, its factor the same on every server
    return np.minimum(record.timing.intensity_g / GRID_FACTOR_SCALE_G, 1.0)


def carbon_basis(records: list[BatchRecord], factor: np.ndarray) -> str:
    """What the carbon score measured, in words with its figures."""
    score = f"carbon score {1.0 - factor.mean():.4f}"
    timed = [r.timing.intensity_g for r in records if r.timing is not None]
    if not timed:
        return f"{score}: 1 - the mean carbon proxy factor ({factor.mean():.4f}) when the jobs ran, at submission"
    g = float(np.concatenate(timed).mean())
    return (
        f"{score}: 1 - the mean of each job's grid intensity on its server over the hours it runs (a deferred job's"
        f" from its planned start; mean {g:.1f} gCO2eq/kWh), / {GRID_FACTOR_SCALE_G:g} gCO2eq/kWh, capped at 1"
    )


def _measured(records: list[BatchRecord], fleet: Fleet, scenario: str, parts: dict[str, float], co2: float) -> dict[str, Any]:
    """The session's own efficiency figures and the advice they support (none before the first job)."""
    if not records:
        return {}
    pools = efficiency(records, fleet, scenario)
    return {"efficiency": pools, "advice": advice(parts, SCORE_WEIGHTS, co2, pools, grid=scenario == "grid")}


def timing_summary(records: list[BatchRecord]) -> dict[str, Any]:
    """What the when-policy (scheduler.timeshift.policy) did: jobs by action and mode, and CO2 saved against
    running every job now in FAST mode on the same server, measured on the actual signal (and as the
    forecasts expected it at decision time)."""
    timed = [r.timing for r in records if r.timing is not None]
    col = {
        k: np.concatenate([getattr(t, k) for t in timed]) if timed else np.empty(0)
        for k in ("action", "mode", "co2_now_kg", "co2_kg", "saved_expected_kg", "finish_h", "deadline_h", "start_h")
    }
    deferred = col["action"] == DEFER
    submitted = [r.scenario.hour_at(np.arange(r.pointer, r.pointer + len(r))) for r in records if r.timing is not None]
    wait = col["start_h"] - (np.concatenate(submitted) if submitted else np.empty(0))  # hours from submission to start
    run_now = float(col["co2_now_kg"].sum())
    saved = run_now - float(col["co2_kg"].sum())
    late = col["finish_h"] > col["deadline_h"] + 1e-9  # NaN deadlines compare False
    return {
        "deferred_jobs": int(deferred.sum()),
        "eco_jobs": int((col["mode"] == 1).sum()),
        "fast_jobs": int((col["mode"] == 0).sum()),
        "co2_run_now_kg": round(run_now, 6),
        "co2_saved_kg": round(saved, 6),
        "co2_saved_pct": round(100.0 * saved / run_now, 2) if run_now > 0 else 0.0,
        "co2_saved_expected_kg": round(float(col["saved_expected_kg"].sum()), 6),
        "mean_deferral_h": round(float(wait[deferred].mean()), 3) if deferred.any() else 0.0,
        "deadline_misses": int(late.sum()),
    }
