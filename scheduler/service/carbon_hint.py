"""The carbon conditions the session's next job will see (GET /sustainability: the page's carbon badge and
recommendation), banded on the same scale as that job's decision will be.

Reference sessions band the proxy factor on the fixed factor scale. Grid sessions band each zone the fleet
draws from with the when-policy's BandPolicy, on its latest reading at the next job's clock, exactly as a job
placed there would be banded (scheduler.timeshift.policy.latest_readings); the top-level band is the one most
servers' grids are in (the higher band on a tie, so the badge never calls an hour cleaner than most servers see
it), and the message says how many. The recommended priority follows the numbers, not the band: the tier whose
pool would emit least now for a typical job (TYPICAL_JOB: its energy on each server, from the physical model,
times the latest reading of the server's zone), since in grid sessions the green pool's small servers use the
most energy per unit of work and "prefer green jobs" would often emit more; a high band adds "or wait".
"""

from typing import Any

import numpy as np

from scheduler.core import energy
from scheduler.core.bands import CARBON_BAND_EDGES, GRID_FACTOR_SCALE_G, carbon_band
from scheduler.core.states import BANDS, TIERS
from scheduler.placement.engine import World
from scheduler.placement.scenario import GridScenario, Scenario
from scheduler.timeshift.policy import latest_readings
from xai.carbon import FACTOR, scale_text

RECOMMENDATIONS = {
    "low": ("performance", "Low carbon intensity — a good time for performance jobs"),
    "medium": ("balanced", "Moderate carbon intensity — prefer balanced jobs"),
    "high": ("green", "High carbon intensity — prefer green jobs, or wait"),
}


TYPICAL_JOB = {"cpu": 50.0, "memory": 50.0, "duration_min": 60.0}
"""The job the grid recommendation compares pools on: half of the reference machine's cores and memory for an hour."""


def carbon_hint(world: World, scenario: Scenario, pointer: int) -> dict[str, Any]:
    """The /sustainability answer for the job at series position `pointer`."""
    signal = scenario.describe()["signal"]
    if not isinstance(scenario, GridScenario):
        factor = float(world.signals.carbon_factor[world.signals.positions(pointer, 1).steel[0]])
        band = carbon_band(factor)
        recommendation, message = RECOMMENDATIONS[band]
        scale = scale_text(FACTOR, 0, *CARBON_BAND_EDGES)
        return {"carbon_factor": round(factor, 4), "recommendation": recommendation, "message": message, "carbon_band": band,
                "band_scale": scale, "scenario": scenario.name, "signal": signal}  # fmt: skip
    return _grid_hint(world, scenario, pointer) | {"scenario": scenario.name, "signal": signal}


def _grid_hint(world: World, scenario: GridScenario, pointer: int) -> dict[str, Any]:
    by_zone, factor = scenario.carbon_now(pointer)
    hour = float(scenario.hour_at(pointer))
    zones = np.array(sorted(set(scenario.server_zone.tolist())))
    bands = scenario.when.bands
    reading, low, high, code = latest_readings(bands, scenario.zone_series, np.full(len(zones), hour), zones)
    per_zone = {
        scenario.grid.zones[z]: {
            "band": BANDS[b],
            "reading_g_per_kwh": round(g, 2),
            "low_g_per_kwh": round(lo, 2),
            "high_g_per_kwh": round(hi, 2),
        }
        for z, b, g, lo, hi in zip(zones.tolist(), code.tolist(), reading.tolist(), low.tolist(), high.tolist())
    }
    at_server = np.searchsorted(zones, scenario.server_zone)
    servers = np.bincount(code[at_server], minlength=len(BANDS))
    band = BANDS[int(np.flatnonzero(servers == servers.max())[-1])]
    count = f"{servers[BANDS.index(band)]} of {world.fleet.n_servers} servers' grids are in their {band} band"
    work = energy.job_work(*(np.array([v]) for v in TYPICAL_JOB.values()))
    grams = energy.energy_kwh(scenario.machines, work)[0] * reading[at_server]  # (n_servers,) g CO2 of the typical job, run now
    by_pool = {tier: float(grams[pool].mean()) for tier, pool in zip(TIERS, world.fleet.pools)}
    recommendation = min(by_pool, key=by_pool.get)
    wait = ", or wait: flexible jobs are deferred to cleaner hours" if band == "high" else ""
    kind = "percentiles of each zone's last" if bands.kind == "percentile" else "fixed gCO2eq/kWh thresholds"
    return {
        "carbon_factor": round(factor, 4),
        "recommendation": recommendation,
        "message": f"{count} — prefer {recommendation} jobs: that pool would emit least now{wait}",
        "recommendation_basis": {
            "job": TYPICAL_JOB,
            "co2_g_by_pool": {tier: round(g, 3) for tier, g in by_pool.items()},
            "rule": "the job's energy on each server (physical model, FAST) x the latest reading of its zone; a pool's mean server",
        },
        "carbon_band": band,
        "band_scale": f"{kind} {bands.window_h} h" if bands.kind == "percentile" else kind,
        "carbon_bands": per_zone,
        "servers_by_band": dict(zip(BANDS, servers.tolist())),
        "clock_utc": scenario.clock_label(hour),
        "carbon_intensity_g_per_kwh": {z: round(v, 2) for z, v in by_zone.items()},
        "server_zones": {name: scenario.zone_of(s) for s, name in enumerate(world.fleet.names)},
        "carbon_factor_basis": f"mean intensity over the fleet's servers / {GRID_FACTOR_SCALE_G:g} gCO2eq/kWh, capped at 1; "
        "a job's own factor uses its pool's servers",
        "when_policy": scenario.describe()["when_policy"],
    }
