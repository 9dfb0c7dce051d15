"""What the session's own numbers say about its servers and pools, and the advice they support.

Every batch record keeps what its jobs would have used and emitted on every server, run now (the placement's
figures), so servers and pools are compared on the same jobs: this session's. Energy is per unit of work in
grid sessions (kWh per core-hour of the jobs' work on the 16-core reference machine: the physical model
makes small servers slower, so per job they can use more), and per job in reference sessions (the seed's
model gives a job its server's energy at the current load, whatever the job).

The advice names the score part that costs the most points and says what would raise it, but never
recommends a move these numbers say emits more: pools are ranked by the CO2 this session's jobs would have
emitted on them (each pool's mean server, as the all-performance baseline is).
"""

from typing import Any

import numpy as np

from scheduler.core import energy
from scheduler.core.fleet import Fleet
from scheduler.core.states import TIERS
from scheduler.placement.engine import BatchRecord


def efficiency(records: list[BatchRecord], fleet: Fleet, scenario: str) -> dict[str, Any]:
    """Energy per unit of work of each server and pool over this session's jobs, the most efficient server,
    and the CO2 those jobs would have emitted on each pool."""
    kwh = np.sum([r.energy_by_server for r in records], axis=0)
    co2 = np.sum([r.co2_by_server for r in records], axis=0)
    if scenario == "grid":
        units = sum(float(_core_hours(r).sum()) for r in records)
        unit = "kWh per core-hour of work (cores x hours on the 16-core reference machine)"
    else:
        units, unit = float(sum(len(r) for r in records)), "kWh per job (the seed's model: the server's energy at the current load)"
    per = kwh / units
    return {
        "unit": unit,
        "basis": "this session's jobs, each as if run now on every server (the placement's figures)",
        "by_server": {name: round(float(v), 6) for name, v in zip(fleet.names, per)},
        "by_pool": {tier: round(float(per[pool].mean()), 6) for tier, pool in zip(TIERS, fleet.pools)},
        "most_efficient_server": fleet.names[int(per.argmin())],
        "co2_if_all_on_pool_kg": {tier: round(float(co2[pool].mean()), 6) for tier, pool in zip(TIERS, fleet.pools)},
    }


def _core_hours(record: BatchRecord) -> np.ndarray:
    jobs = record.jobs
    work = energy.job_work(jobs.cpu, jobs.memory, jobs.duration_min, jobs.size, jobs.intensity)
    return work.cores * work.base_min / 60.0


def advice(
    parts: dict[str, float], weights: dict[str, float], emitted_kg: float, pools: dict[str, Any], grid: bool = False
) -> dict[str, str]:
    """What to change, for the score part that costs the most points (weight x shortfall); `pools` is efficiency();
    `grid`: a grid session, whose carbon score is measured over the hours the jobs run (scheduler.service.summary)."""
    weakest = next(iter(weights))
    for key in weights:  # the first of equal shortfalls, as the page's own reading of the parts
        if weights[key] * (1.0 - parts[key]) > weights[weakest] * (1.0 - parts[weakest]):
            weakest = key
    co2 = pools["co2_if_all_on_pool_kg"]
    best = min(co2, key=co2.get)
    on_best = f"the {best} pool would have emitted least for this session's jobs ({co2[best]:.4g} kg run now"
    if weakest == "avg_reward":
        text = (
            "Decisions scored low on quality: the agents learn per session, so more runs help, and priorities should"
            " match what each job needs."
        )
    elif weakest == "carbon_score" and grid:
        text = (
            "Many jobs ran while their servers' grids were carbon-intense: mark work that can wait as flexible, with room"
            " before its deadline, so the when-policy can defer it to cleaner hours."
        )
    elif weakest == "carbon_score":
        text = "Many jobs ran while the carbon factor was high: submit flexible work when the badge shows low carbon."
    elif weakest == "green_ratio" and best == "green":
        text = (
            f"Few jobs are marked green: {on_best}, against {co2['performance']:.4g} kg on the performance pool), so mark"
            " jobs that are not urgent as green."
        )
    elif weakest == "green_ratio":
        text = (
            f"Few jobs are marked green, which costs score points; but on this session's numbers {on_best}, against"
            f" {co2['green']:.4g} kg on the green pool), so more green jobs would raise the score and the emissions."
            " Mark jobs green only when they need that tier's weights."
        )
    elif best == "performance":
        head = "This session emitted more CO2 than" if emitted_kg > co2["performance"] else "Little CO2 was avoided against"
        text = (
            f"{head} the all-performance baseline: {on_best}, against {emitted_kg:.4g} kg emitted), its servers using the least"
            " energy per unit of work here: jobs that do not need the green or balanced tiers' weights emit less as performance jobs."
        )
    else:
        text = (
            f"Little CO2 was avoided against the all-performance baseline: {on_best}, against {emitted_kg:.4g} kg emitted),"
            f" so move jobs that do not need the fastest servers to the {best} tier."
        )
    return {"part": weakest, "text": text}
